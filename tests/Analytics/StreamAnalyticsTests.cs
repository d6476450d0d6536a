using StreamVision.Core;
using StreamVision.Analytics;
using static StreamVision.Analytics.Tests.AnalyticsTestData;

namespace StreamVision.Analytics.Tests;

public class StreamAnalyticsTests
{
    private static readonly IReadOnlyList<string> s_classes = ["person", "car"];

    private static StreamAnalytics Make(double countsInterval = 0) => new(new AnalyticsOptions
    {
        Zones = [new ZoneOptions { Name = "lobby", Polygon = [(100, 100), (300, 100), (300, 300), (100, 300)] }],
        Lines = [new LineOptions { Name = "door", From = (400, 0), To = (400, 480) }], // vertical, pointing down: moving left is "in"
        CountsIntervalSeconds = countsInterval,
    }, s_classes);

    [Fact]
    public void ZoneAndLineEventsCarryTheTrackRegionDirectionAndDwell()
    {
        var a = Make();
        var events = new List<AnalyticsEvent>();
        // Track 1 (person) walks right through the zone and then across the line (out); track 2 (car) goes left across it (in).
        float[] xs = [50, 150, 250, 350, 450];
        for (int i = 0; i < xs.Length; i++)
        {
            var f = Frame(i, i * 0.5);
            events.AddRange(a.Process(f, [At(1, xs[i], 200, 0), At(2, 600 - 100 * i, 400, 1, score: 0.8f)]));
        }
        Assert.Equal(
            [(EventTypes.ZoneEnter, 1, "lobby", (string?)null), (EventTypes.ZoneExit, 1, "lobby", null), (EventTypes.LineCrossed, 2, "door", "in"), (EventTypes.LineCrossed, 1, "door", "out")],
            events.Select(e => (e.Type, e.TrackId!.Value, e.Region!, e.Direction)));
        var exit = events[1];
        Assert.Equal(1.0, exit.DurationSeconds); // entered at 0.5 s, outside at 1.5 s
        Assert.Equal(3, exit.FrameSequence);
        Assert.Equal(TimeSpan.FromSeconds(1.5), exit.Pts);
        Assert.Equal("cam1", exit.StreamId);
        Assert.Equal("person", exit.ClassName);
        Assert.Equal("car", events[2].ClassName);
        Assert.Equal(0.8f, events[2].Score);
        Assert.NotNull(events[2].Box);
        Assert.Null(events[0].DurationSeconds);
    }

    [Fact]
    public void CountsArePeriodicInStreamTimeAndFinalOnFlush()
    {
        var a = Make(countsInterval: 1);
        var counts = new List<AnalyticsEvent>();
        Frame last = Frame(0, 0);
        for (int i = 0; i <= 35; i++) // 3.5 s at 10 fps
        {
            last = Frame(i, i * 0.1);
            var tracks = i < 20 ? new[] { At(1, 200, 200) } : [At(1, 200, 200), At(2, 150, 150)];
            counts.AddRange(a.Process(last, tracks).Where(e => e.Type == EventTypes.Counts));
        }
        Assert.Equal([1.0, 2.0, 3.0], counts.Select(c => Math.Round(c.Pts.TotalSeconds, 3)));
        Assert.Equal(1, counts[0].Counts!["lobby"]["inside"]);
        Assert.Equal(2, counts[2].Counts!["lobby"]["inside"]);
        Assert.Equal(2, counts[2].Counts!["lobby"]["entered:person"]);
        Assert.Equal(0, counts[2].Counts!["door"]["in"]);

        var final = a.Flush(last);
        Assert.Equal([EventTypes.ZoneExit, EventTypes.ZoneExit, EventTypes.Counts], final.Select(e => e.Type));
        Assert.Equal(3.5, final.First(e => e.TrackId == 1).DurationSeconds!.Value, 6);
        Assert.Equal(1.5, final.First(e => e.TrackId == 2).DurationSeconds!.Value, 6);
        Assert.Equal(0, final[^1].Counts!["lobby"]["inside"]);
        Assert.Equal(0, a.TrackStates);
    }

    [Fact]
    public void StreamTimeGoingBackForgetsTracksWithoutEvents()
    {
        var a = Make();
        a.Process(Frame(0, 5), [At(1, 200, 200)]);
        Assert.Equal(1, a.Zones[0].InsideCount);
        // A looped file: the tracker restarts and id 1 is someone else, outside.
        var events = a.Process(Frame(1, 0), [At(1, 50, 50)]);
        Assert.Empty(events);
        Assert.Equal(0, a.Zones[0].InsideCount);
        Assert.Equal(1, a.Zones[0].EnteredTotal);
    }

    [Fact]
    public void NoZonesNoLinesIsFreeAndSilent()
    {
        var a = new StreamAnalytics(new AnalyticsOptions());
        Assert.True(a.IsEmpty);
        Assert.Empty(a.Process(Frame(0, 0), [At(1, 1, 1)]));
        Assert.Empty(a.Flush(Frame(0, 0)));
        Assert.Empty(a.Zones);
        Assert.Empty(a.Lines);
    }

    [Fact]
    public void OptionsAreValidatedWithTheirPath()
    {
        var bad = new AnalyticsOptions { CountsIntervalSeconds = -1 };
        Assert.Equal("streams[3].analytics.counts_interval_seconds",
            Assert.Throws<OptionsException>(() => new StreamAnalytics(bad, optionsPath: "streams[3].analytics")).Path);
    }
}
