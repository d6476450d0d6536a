using StreamVision.Core;
using StreamVision.Analytics;
using static StreamVision.Analytics.Tests.AnalyticsTestData;

namespace StreamVision.Analytics.Tests;

public class PolygonZoneTests
{
    private static readonly IReadOnlyList<string> s_classes = ["person", "car"];

    // An L-shaped (concave) zone: the square 100..300 minus its top-right quarter.
    private static PolygonZone Zone(IReadOnlyList<string>? classes = null, int maxStates = 4096) =>
        new(new ZoneOptions { Name = "lobby", Polygon = [(100, 100), (200, 100), (200, 200), (300, 200), (300, 300), (100, 300)], Classes = classes ?? [] },
            id => s_classes[id], maxStates);

    [Fact]
    public void EnterAndExitWithDwellFromStreamTime()
    {
        var zone = Zone();
        var r = zone.Trigger([At(1, 50, 150)], TimeSpan.FromSeconds(0.5), 640, 480);
        Assert.Equal(new ZoneResult(false, ZoneTransition.None, 0), r[0]);
        r = zone.Trigger([At(1, 150, 150)], TimeSpan.FromSeconds(1.0), 640, 480);
        Assert.Equal(new ZoneResult(true, ZoneTransition.Entered, 0), r[0]);
        Assert.Equal(1, zone.InsideCount);
        r = zone.Trigger([At(1, 150, 250)], TimeSpan.FromSeconds(2.0), 640, 480);
        Assert.Equal(new ZoneResult(true, ZoneTransition.None, 1.0), r[0]);
        r = zone.Trigger([At(1, 250, 150)], TimeSpan.FromSeconds(3.5), 640, 480); // the cut-out corner: outside
        Assert.Equal(new ZoneResult(false, ZoneTransition.Exited, 2.5), r[0]);
        Assert.Equal(0, zone.InsideCount);
        Assert.Equal(1, zone.EnteredTotal);
        Assert.Equal(0, zone.TrackStates);
    }

    [Fact]
    public void RemovedTrackInsideExitsWithDwellUntilLastSeenAndLostTracksHold()
    {
        var zone = Zone();
        zone.Trigger([At(4, 150, 150)], TimeSpan.FromSeconds(10), 640, 480);
        zone.Trigger([At(4, 150, 160)], TimeSpan.FromSeconds(12), 640, 480);
        // Coasting: the predicted box wanders out, but a lost track keeps its state.
        var r = zone.Trigger([At(4, 500, 160, state: TrackState.Lost)], TimeSpan.FromSeconds(13), 640, 480);
        Assert.Equal(new ZoneResult(true, ZoneTransition.None, 3), r[0]);
        r = zone.Trigger([At(4, 500, 160, state: TrackState.Removed)], TimeSpan.FromSeconds(14), 640, 480);
        Assert.Equal(new ZoneResult(false, ZoneTransition.Exited, 2), r[0]);
        Assert.Equal(0, zone.TrackStates);
    }

    [Fact]
    public void CountsPerClassAndClassFilter()
    {
        var zone = Zone();
        zone.Trigger([At(1, 150, 150, 0), At(2, 150, 250, 1), At(3, 250, 250, 1), At(-4, 120, 120, 0)], TimeSpan.Zero, 640, 480);
        var c = zone.Counts();
        Assert.Equal(3, c["inside"]);
        Assert.Equal(1, c["inside:person"]);
        Assert.Equal(2, c["inside:car"]);
        Assert.Equal(2, c["entered:car"]);

        var cars = Zone(classes: ["car"]);
        var r = cars.Trigger([At(1, 150, 150, 0), At(2, 150, 250, 1)], TimeSpan.Zero, 640, 480);
        Assert.Equal([false, true], r.Select(x => x.Inside));
    }

    [Fact]
    public void StateIsBoundedAndForgottenOnReset()
    {
        var zone = Zone(maxStates: 5);
        for (int id = 1; id <= 20; id++) zone.Trigger([At(id, 150, 150)], TimeSpan.FromSeconds(id), 640, 480);
        Assert.Equal(5, zone.TrackStates);
        Assert.Equal(5, zone.InsideCount);
        Assert.Equal(20, zone.EnteredTotal);
        zone.ResetTracks();
        Assert.Equal(0, zone.TrackStates);
        Assert.Equal(0, zone.InsideCount);
    }

    [Theory]
    [InlineData(2, "analytics.zones[0].polygon")]
    [InlineData(-1, "analytics.zones[0].polygon[1]")]
    public void InvalidZonesNameTheirKey(int variant, string path)
    {
        IReadOnlyList<(float X, float Y)> polygon = variant == 2 ? [(0, 0), (10, 10)] : [(0, 0), (-5, 0), (5, 5)];
        var options = new AnalyticsOptions { Zones = [new ZoneOptions { Name = "z", Polygon = polygon }] };
        Assert.Equal(path, Assert.Throws<OptionsException>(() => options.Validate()).Path);
    }

    [Fact]
    public void DuplicateNamesAndBadColorsAreRejected()
    {
        var z = new ZoneOptions { Name = "a", Polygon = [(0, 0), (10, 0), (10, 10)] };
        var dup = new AnalyticsOptions { Zones = [z], Lines = [new LineOptions { Name = "a", From = (0, 0), To = (5, 5) }] };
        Assert.Equal("analytics.lines[0].name", Assert.Throws<OptionsException>(() => dup.Validate()).Path);
        var color = new AnalyticsOptions { Zones = [z with { Color = "red" }] };
        Assert.Equal("analytics.zones[0].color", Assert.Throws<OptionsException>(() => color.Validate()).Path);
        var frac = new AnalyticsOptions { Lines = [new LineOptions { Name = "l", From = (0, 0), To = (1.5f, 1), Units = CoordinateUnits.Fraction }] };
        Assert.Equal("analytics.lines[0].to", Assert.Throws<OptionsException>(() => frac.Validate()).Path);
    }
}
