using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;

namespace StreamVision.Pipeline.Tests;

public partial class PipelineBuilderTests
{
    [Fact]
    public async Task ALossless4KRunUnderASmallDecoderPoolCompletesBecauseSinksDrawOnTheirOwnPool()
    {
        const int frames = 24;
        string dir = TestEnvironment.NewTempDir();
        string clip = TestMedia.Make($"uhd-{frames}.mp4",
            $"-f lavfi -i testsrc2=size=3840x2160:rate=25 -frames:v {frames} -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
        long frameBytes = 3840L * 3 * 2160; // BGR24, rows already 32-byte aligned
        // Room for three decoded 4K frames: were a sink to rent its drawing copy here, it would wait for frames that only
        // move on once it has written (and the decoder would wait on it): the run would never finish.
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 3 * frameBytes });
        var metrics = new PipelineMetrics();
        await using var batcher = new DetectionBatcher(new MovingBoxDetector(), new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, null, metrics);
        var builder = new PipelineBuilder("uhd", pool).Metrics(metrics).Source(new SourceOptions { Uri = clip, Mode = SourceMode.File })
            .Detector(batcher).Tracker().QueueCapacity(8);
        var video = new VideoFileSink(new VideoSinkOptions { Path = Path.Combine(dir, "uhd.mp4"), Preset = "ultrafast" }, 25, builder.SinkPool);
        // Every frame previewed (no viewer needed): copy, draw, scale to 1280, JPEG.
        var preview = new MjpegPreviewSink(new MjpegPreviewOptions { IdleFps = 240 }, builder.SinkPool);
        var snapshots = new SnapshotSink(new SnapshotOptions { Directory = Path.Combine(dir, "snapshots") }, builder.SinkPool);
        var lossless = new SinkRunnerOptions { Capacity = 8, Policy = SinkQueuePolicy.Wait };
        var run = builder.Sink(video).Sink(preview, lossless).Sink(snapshots, lossless).Build();

        run.Start();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(180));

        Assert.Equal(StreamStatus.Ended, run.Status);
        Assert.Equal(frames, run.Source.FramesDecoded);
        Assert.Equal(frames, run.Stats.Frames);
        Assert.Equal(frames, video.FramesWritten);
        Assert.Equal(frames, Outputs.VideoFrames(Path.Combine(dir, "uhd.mp4")));
        Assert.All(run.Sinks, s => Assert.Equal((0L, 0L), (s.Dropped, s.Errors)));
        Assert.True(preview.TryGetLatest(out var jpeg) && jpeg.Length > 0);
        Assert.NotEmpty(snapshots.Files); // the track's best frame, copied from the sink pool and written at the end
        // The decoder's pool lent exactly one frame per decoded frame; every copy a sink made came from the sink pool.
        Assert.Equal(frames, pool.TotalRents);
        Assert.True(builder.SinkPool.TotalRents >= 2 * frames, $"sink pool lent {builder.SinkPool.TotalRents}");
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool, builder.SinkPool);
    }

    [Fact]
    public void ABuilderWithoutASourceRefusesToBuild()
    {
        var builder = new PipelineBuilder("none", new FramePool());
        Assert.Throws<InvalidOperationException>(() => builder.Build());
        Assert.Throws<OptionsException>(() => builder.QueueCapacity(0));
        Assert.Throws<ArgumentException>(() => new PipelineBuilder("", new FramePool()));
    }

    [Fact]
    public void ABuildThatFailsDisposesTheSinksItWasGiven()
    {
        var sink = new RecordingSink();
        var builder = new PipelineBuilder("bad", new FramePool()).Source(new SourceOptions { Uri = "lavfi:testsrc2", MaxFps = -1 }).Sink(sink);
        Assert.Throws<OptionsException>(() => builder.Build());
        Assert.True(sink.Disposed);
    }
}
