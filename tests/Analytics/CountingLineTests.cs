using StreamVision.Core;
using StreamVision.Analytics;
using static StreamVision.Analytics.Tests.AnalyticsTestData;

namespace StreamVision.Analytics.Tests;

public class CountingLineTests
{
    private static readonly IReadOnlyList<string> s_classes = ["person", "car"];

    // Horizontal line from (100, 200) to (500, 200): looking from start to end (east), the right side is below, so
    // moving down is "in", moving up is "out".
    private static CountingLine Line(bool oncePerTrack = true, float hysteresis = 4, IReadOnlyList<string>? classes = null, int maxStates = 4096) =>
        new(new LineOptions { Name = "door", From = (100, 200), To = (500, 200), HysteresisPixels = hysteresis, CountOncePerTrack = oncePerTrack, Classes = classes ?? [] },
            id => s_classes[id], maxStates);

    /// <summary>Runs one track through the y positions; returns its crossing per frame.</summary>
    private static List<LineCrossing> Walk(CountingLine line, int id, float x, IEnumerable<float> ys, int cls = 0) =>
        ys.Select(y => line.Trigger([At(id, x, y, cls)], 640, 480)[0]).ToList();

    [Fact]
    public void CrossingsInBothDirectionsCountPerClass()
    {
        var line = Line();
        var down = Walk(line, 1, 300, [150, 180, 195, 205, 230]);
        Assert.Equal([LineCrossing.None, LineCrossing.None, LineCrossing.None, LineCrossing.In, LineCrossing.None], down);
        Walk(line, 2, 250, [260, 220, 190, 150]);
        Walk(line, 3, 400, [100, 300], cls: 1);
        Assert.Equal(2, line.InCount);
        Assert.Equal(1, line.OutCount);
        Assert.Equal((1L, 1L), line.CountsOf("person"));
        Assert.Equal((1L, 0L), line.CountsOf("car"));
        var counts = line.Counts();
        Assert.Equal(2, counts["in"]);
        Assert.Equal(1, counts["out:person"]);
        Assert.Equal(1, counts["in:car"]);
    }

    [Fact]
    public void ResultsAreAlignedWithTheTracks()
    {
        var line = Line();
        line.Trigger([At(1, 300, 150), At(2, 300, 250), At(3, 300, 150)], 640, 480);
        var r = line.Trigger([At(3, 300, 150), At(1, 300, 250), At(2, 300, 150)], 640, 480);
        Assert.Equal([LineCrossing.None, LineCrossing.In, LineCrossing.Out], r);
    }

    [Fact]
    public void JitterOnTheLineCountsOnce()
    {
        var line = Line();
        // Approaches, wobbles within the hysteresis band for a while, then goes on: one "in", nothing else.
        var ys = new List<float> { 120, 160, 190 };
        for (int i = 0; i < 20; i++) ys.Add(i % 2 == 0 ? 197 : 203);
        ys.AddRange([215, 240]);
        var r = Walk(line, 1, 300, ys);
        Assert.Equal(1, r.Count(c => c == LineCrossing.In));
        Assert.Equal((1L, 0L), (line.InCount, line.OutCount));
    }

    [Fact]
    public void WideWobbleCountsOncePerDirectionUnlessEveryCrossingIsAsked()
    {
        var ys = new List<float> { 150 };
        for (int i = 0; i < 10; i++) ys.Add(i % 2 == 0 ? 215 : 185);
        var once = Line();
        Walk(once, 1, 300, ys);
        Assert.Equal((1L, 1L), (once.InCount, once.OutCount));
        var every = Line(oncePerTrack: false);
        Walk(every, 1, 300, ys);
        Assert.Equal((5L, 5L), (every.InCount, every.OutCount));
    }

    [Fact]
    public void PassingBesideTheEndsDoesNotCount()
    {
        var line = Line();
        Walk(line, 1, 50, [150, 250]);   // left of the start
        Walk(line, 2, 560, [250, 150]);  // right of the end
        Assert.Equal((0L, 0L), (line.InCount, line.OutCount));
    }

    [Fact]
    public void FastMoverThatJumpsOverTheLineBetweenFramesCounts()
    {
        var line = Line();
        Assert.Equal([LineCrossing.None, LineCrossing.In], Walk(line, 1, 300, [20, 460]));
    }

    [Fact]
    public void TentativeLostAndFilteredTracksNeverCount()
    {
        var line = Line(classes: ["car"]);
        // Tentative (negative id), then coasting (Lost) across the line, then a person: none counts.
        line.Trigger([At(-1, 300, 150, 1)], 640, 480);
        line.Trigger([At(-1, 300, 250, 1)], 640, 480);
        line.Trigger([At(2, 300, 150, 1)], 640, 480);
        line.Trigger([At(2, 300, 250, 1, TrackState.Lost)], 640, 480);
        Walk(line, 3, 300, [150, 250], cls: 0);
        Assert.Equal((0L, 0L), (line.InCount, line.OutCount));
        // Seen again on the far side once matched: it did cross.
        Assert.Equal(LineCrossing.In, line.Trigger([At(2, 300, 260, 1)], 640, 480)[0]);
    }

    [Fact]
    public void StateIsDroppedWhenTheTrackIsRemovedAndBounded()
    {
        var line = Line(maxStates: 10);
        for (int id = 1; id <= 50; id++) line.Trigger([At(id, 300, 150)], 640, 480);
        Assert.Equal(10, line.TrackStates);
        line.Trigger([At(50, 300, 150, state: TrackState.Removed)], 640, 480);
        Assert.Equal(9, line.TrackStates);
    }

    [Fact]
    public void FractionCoordinatesScaleWithTheFrame()
    {
        var line = new CountingLine(new LineOptions { Name = "mid", From = (0, 0.5f), To = (1, 0.5f), Units = CoordinateUnits.Fraction });
        line.Trigger([At(1, 320, 100)], 640, 480);
        Assert.Equal(LineCrossing.In, line.Trigger([At(1, 320, 300)], 640, 480)[0]);
        line.Trigger([At(2, 1000, 300)], 1920, 1080);
        Assert.Equal(LineCrossing.In, line.Trigger([At(2, 1000, 700)], 1920, 1080)[0]);
    }
}
