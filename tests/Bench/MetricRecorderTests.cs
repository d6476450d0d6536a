using StreamVision.Bench;
using StreamVision.Core;

namespace StreamVision.Bench.Tests;

public class MetricRecorderTests
{
    [Fact]
    public void RecordsEachObservationWithStreamAndStageOrSinkWhileRecording()
    {
        var metrics = new PipelineMetrics();
        using var recorder = new MetricRecorder(metrics.StageSeconds, metrics.SinkWriteSeconds);
        var detect = metrics.StageSeconds.WithLabels("a", "detect");
        var video = metrics.SinkWriteSeconds.WithLabels("a", "video");
        detect.Observe(0.1); // not recording yet
        recorder.Recording = true;
        detect.Observe(0.2);
        video.Observe(0.3);
        metrics.EndToEndSeconds.WithLabels("a").Observe(0.4); // not asked for
        recorder.Recording = false;
        detect.Observe(0.5);

        var samples = recorder.Take();
        Assert.Equal([(SvMetrics.StageSeconds, "a", "detect", 0.2), (SvMetrics.SinkWriteSeconds, "a", "video", 0.3)],
            samples.Select(s => (s.Instrument, s.Stream, s.Label, s.Value)));
        Assert.True(samples[0].Timestamp <= samples[1].Timestamp);
        Assert.Empty(recorder.Take());
        // The same observations reached the prometheus-net histograms.
        Assert.Equal(3, detect.Child.Count);
        Assert.Equal(1, video.Child.Count);
    }
}
