using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Service;

namespace StreamVision.App.Tests.Service;

public class ChartRecorderTests
{
    [Fact]
    public async Task SamplesHoldExactLatencyPercentilesOfTheIntervalAndFoldIntoTheCoarseRing()
    {
        var config = ConfigLoader.LoadText("detector:\n  model: none\n", "charts.yaml", new Dictionary<string, string>());
        await using var manager = new StreamManager(config, NullLoggerFactory.Instance);
        // A long timer period: only the samples taken here.
        using var charts = new ChartRecorder(new ChartOptions { SampleSeconds = 60, FineMinutes = 3, CoarseSeconds = 120, CoarseHours = 1 }, manager);
        var series = manager.Metrics.EndToEndSeconds.WithLabels("cam");
        for (int i = 1; i <= 100; i++) series.Observe(i / 1000.0); // 1..100 ms
        var t0 = DateTimeOffset.UtcNow;
        charts.Sample(t0);
        Assert.True(charts.TryGet(ChartRecorder.Instance, t0.AddMinutes(-1), out var samples));
        var s = Assert.Single(samples);
        Assert.Equal(50.5, s.LatencyP50Ms, 1);
        Assert.Equal(95.05, s.LatencyP95Ms, 1);
        Assert.Equal(99.01, s.LatencyP99Ms, 1);
        // The next interval starts empty.
        charts.Sample(t0.AddMinutes(1));
        Assert.True(charts.TryGet(ChartRecorder.Instance, t0.AddMinutes(-1), out samples));
        Assert.Equal(0, samples[^1].LatencyP50Ms);
        // The fine ring keeps 3 minutes (3 samples at 60 s); older samples come from the coarse ring (one per 120 s).
        for (int m = 2; m <= 8; m++) charts.Sample(t0.AddMinutes(m));
        Assert.True(charts.TryGet(ChartRecorder.Instance, t0.AddHours(-1), out samples));
        Assert.Equal(3, samples.Count(x => x.Time >= t0.AddMinutes(6)));
        Assert.True(samples.Count(x => x.Time < t0.AddMinutes(6)) >= 2, string.Join(", ", samples.Select(x => x.Time)));
        Assert.Equal(samples.OrderBy(x => x.Time), samples);
        Assert.Equal(99.01, samples[0].LatencyP99Ms, 1); // the coarse point keeps the interval's worst
        Assert.False(charts.TryGet("nope", t0, out _));
    }
}
