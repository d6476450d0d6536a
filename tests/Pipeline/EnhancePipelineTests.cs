using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Enhance;
using StreamVision.Ingest;

namespace StreamVision.Pipeline.Tests;

/// <summary>
/// The enhancement stage end to end through <see cref="PipelineBuilder"/>: a dark clip, a real ONNX model that doubles the
/// brightness (built at test time), and which of the detector and the outputs see the enhanced picture.
/// </summary>
public class EnhancePipelineTests
{
    private static readonly Lazy<string> s_gain2 = new(() =>
    {
        var dir = TestEnvironment.NewTempDir("svenhance");
        TestEnvironment.Run("/usr/bin/python3", $"\"{Path.Combine(AppContext.BaseDirectory, "models", "make_enhance_models.py")}\" \"{dir}\"");
        return Path.Combine(dir, "enhance_gain2.onnx");
    });

    // A flat grey of about 70 (under the detector's threshold of 100; doubled, about 140, over it), 2 s at 10 fps.
    private static string DarkClip => TestMedia.Make("enhance-dark.mp4", "-f lavfi -i color=c=0x464646:size=160x120:rate=10 -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");

    [Theory]
    [InlineData(EnhanceTarget.Both, true, true)]
    [InlineData(EnhanceTarget.Detect, true, false)]
    [InlineData(EnhanceTarget.Output, false, true)]
    public async Task TheDetectorAndTheOutputsSeeTheEnhancedPictureAsAsked(EnhanceTarget apply, bool detectorSees, bool outputsSee)
    {
        using var model = ImageEnhancerModel.Load(s_gain2.Value);
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        var detector = new MeanLevelDetector();
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, null, metrics);
        var sink = new RecordingSink();
        string stream = "enh-" + apply.ToString().ToLowerInvariant();
        var builder = new PipelineBuilder(stream, pool).Metrics(metrics).Source(new SourceOptions { Uri = DarkClip, Mode = SourceMode.File })
            .Detector(batcher).Enhance(model, new EnhanceOptions { Enabled = true, Apply = apply }).Sink(sink);
        var run = builder.Build();
        run.Start();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(run.Status == StreamStatus.Ended, $"{run.Status}: {run.Error}");
        // Read before the run is disposed (that removes the stream's series).
        long enhanceTimes = (long)metrics.StageSeconds.Histogram.WithLabels(stream, "enhance").Count;
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool, builder.SinkPool);

        var frames = sink.Pictures.ToList();
        Assert.Equal(20, frames.Count);
        Assert.Equal(20, detector.Levels.Count);
        // The camera's picture is ~70; enhanced ~140 (twice, within the codec's rounding).
        Assert.All(detector.Levels, l => Assert.InRange(l, detectorSees ? 135 : 65, detectorSees ? 145 : 75));
        Assert.All(frames, f => Assert.InRange(f.MeanLevel, outputsSee ? 135 : 65, outputsSee ? 145 : 75));
        Assert.All(frames, f => Assert.Equal(detectorSees ? 1 : 0, f.Detections));
        // One stage time per frame.
        Assert.Equal(20, enhanceTimes);
    }

    [Fact]
    public async Task WithoutTheStageNothingChanges()
    {
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        var detector = new MeanLevelDetector();
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, null, metrics);
        var sink = new RecordingSink();
        var builder = new PipelineBuilder("enh-off", pool).Metrics(metrics).Source(new SourceOptions { Uri = DarkClip, Mode = SourceMode.File })
            .Detector(batcher).Enhance(null).Sink(sink);
        var run = builder.Build();
        run.Start();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(run.Status == StreamStatus.Ended, $"{run.Status}: {run.Error}");
        Assert.Empty(MetricValues.Series(metrics.StageSeconds.Histogram, "stage", "enhance"));
        await run.DisposeAsync();
        Assert.Equal(20, detector.Levels.Count);
        Assert.All(detector.Levels, l => Assert.InRange(l, 65, 75));
        Assert.All(sink.Pictures, f => Assert.Equal(0, f.Detections));
    }
}
