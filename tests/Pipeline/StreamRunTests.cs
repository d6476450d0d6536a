using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;

namespace StreamVision.Pipeline.Tests;

public partial class StreamRunTests
{
    private static DetectionBatcher Batcher(PipelineMetrics metrics) =>
        new(new MovingBoxDetector(), new BatcherOptions { MaxBatch = 4, MaxWait = TimeSpan.FromMilliseconds(2) }, null, metrics);

    [Fact]
    public async Task AFileThatEndsLeavesTheRunEndedWithEveryOutputFinalised()
    {
        string dir = TestEnvironment.NewTempDir();
        string clip = TestMedia.H264(320, 240, 30);
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var metrics = new PipelineMetrics();
        await using var batcher = Batcher(metrics);
        var builder = new PipelineBuilder("file", pool).Metrics(metrics).Source(new SourceOptions { Uri = clip, Mode = SourceMode.File })
            .Detector(batcher).Tracker();
        var recorder = new RecordingSink();
        var video = new VideoFileSink(new VideoSinkOptions { Path = Path.Combine(dir, "out.mp4"), Preset = "ultrafast" }, 25, builder.SinkPool);
        builder.Sink(video).Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = Path.Combine(dir, "events.jsonl") }))
            .Sink(new MotTrackSink(Path.Combine(dir, "tracks.txt"))).Sink(recorder);
        var run = builder.Build().Start();

        await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(StreamStatus.Ended, run.Status);
        Assert.Null(run.Error);
        Assert.Equal(30, run.Stats.Frames);
        Assert.Equal(30, Outputs.VideoFrames(Path.Combine(dir, "out.mp4")));
        var events = Outputs.JsonLines(Path.Combine(dir, "events.jsonl"));
        Assert.Contains(events, l => l.Contains("\"track_started\"", StringComparison.Ordinal));
        Assert.Contains(events, l => l.Contains("\"track_ended\"", StringComparison.Ordinal)); // flushed at the end of the file
        Assert.NotEmpty(File.ReadAllLines(Path.Combine(dir, "tracks.txt")));
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), recorder.Pictures.Select(s => s.Sequence - recorder.Pictures.First().Sequence));
        Assert.All(recorder.Pictures, s => Assert.Equal(1, s.Detections));
        Assert.True(recorder.Completed);
        Assert.All(run.Sinks, s => Assert.Equal((0, 0L), (s.QueueDepth, s.Dropped)));
        await run.DisposeAsync();
        Assert.True(recorder.Disposed);
        Outputs.AssertNothingRented(pool, builder.SinkPool);
    }

    [Fact]
    public async Task ASourceThatFailsFailsItsStreamAloneWithTheReason()
    {
        string dir = TestEnvironment.NewTempDir();
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var sinkPool = new FramePool();
        var metrics = new PipelineMetrics();
        await using var batcher = Batcher(metrics);
        var goodRecorder = new RecordingSink();
        var badRecorder = new RecordingSink();
        var good = new PipelineBuilder("good", pool, sinkPool).Metrics(metrics).Detector(batcher).Tracker()
            .Source(new SourceOptions { Uri = TestMedia.H264(160, 120, 40), Mode = SourceMode.File }).Sink(goodRecorder).Build();
        var bad = new PipelineBuilder("bad", pool, sinkPool).Metrics(metrics).Detector(batcher).Tracker()
            .Source(new SourceOptions { Uri = Path.Combine(dir, "missing.mp4"), Mode = SourceMode.File })
            .Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = Path.Combine(dir, "bad.jsonl") })).Sink(badRecorder).Build();
        good.Start();
        bad.Start();

        await Task.WhenAll(good.Completion, bad.Completion).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(StreamStatus.Failed, bad.Status);
        Assert.Contains("missing.mp4", bad.Error);
        Assert.NotNull(bad.Fault);
        Assert.Empty(badRecorder.Seen);
        Assert.True(badRecorder.Completed); // its outputs are finalised all the same
        Assert.Equal(StreamStatus.Ended, good.Status);
        Assert.Equal(40, goodRecorder.Pictures.Count());
        await bad.DisposeAsync();
        await good.DisposeAsync();
        Outputs.AssertNothingRented(pool, sinkPool);
    }

    [Fact]
    public async Task MaxFramesStopsTheLoopAfterThatManyFrames()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var metrics = new PipelineMetrics();
        await using var batcher = Batcher(metrics);
        var recorder = new RecordingSink();
        var builder = new PipelineBuilder("limited", pool).Metrics(metrics).Detector(batcher).Tracker()
            .Source(new SourceOptions { Uri = TestMedia.H264(160, 120, 60), Mode = SourceMode.File }).MaxFrames(12).Sink(recorder);
        Assert.Throws<OptionsException>(() => builder.MaxFrames(-1));
        var run = builder.Build().Start();

        await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));
        await run.StopAsync(TimeSpan.FromSeconds(10)); // the source still holds decoded frames: the stop returns them

        Assert.Equal(StreamStatus.Ended, run.Status);
        Assert.Equal(12, run.Stats.Frames);
        Assert.Equal(12, recorder.Pictures.Count());
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool, builder.SinkPool);
    }

    [Fact]
    public async Task StoppingALiveStreamMidRunFinalisesItsOutputs()
    {
        string dir = TestEnvironment.NewTempDir();
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var metrics = new PipelineMetrics();
        await using var batcher = Batcher(metrics);
        var builder = new PipelineBuilder("live", pool).Metrics(metrics).Detector(batcher).Tracker()
            .Source(new SourceOptions { Uri = "lavfi:testsrc2=size=160x120:rate=25" });
        builder.Sink(new VideoFileSink(new VideoSinkOptions { Path = Path.Combine(dir, "live.mp4"), Preset = "ultrafast" }, 25, builder.SinkPool))
            .Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = Path.Combine(dir, "live.jsonl") }));
        var run = builder.Build().Start();
        Assert.True(run.Source.IsLive);
        Assert.True(Poll.Until(() => run.Stats.Frames >= 15, TimeSpan.FromSeconds(30)), "the live stream did not run");

        await run.StopAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(StreamStatus.Stopped, run.Status);
        int frames = Outputs.VideoFrames(Path.Combine(dir, "live.mp4"));
        Assert.True(frames >= 15, $"{frames} frames in the MP4");
        Assert.Contains(Outputs.JsonLines(Path.Combine(dir, "live.jsonl")), l => l.Contains("\"track_started\"", StringComparison.Ordinal));
        Assert.Throws<InvalidOperationException>(() => run.Start());
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool, builder.SinkPool);
    }

    [Fact]
    public async Task ALiveStreamDropsForAStuckSinkInsteadOfWaiting()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var metrics = new PipelineMetrics();
        var logger = new CapturingLogger();
        await using var batcher = Batcher(metrics);
        var stuck = new RecordingSink("stuck", block: true);
        var recorder = new RecordingSink();
        var run = new PipelineBuilder("live", pool).Logger(logger).Metrics(metrics).Detector(batcher).Tracker()
            .Source(new SourceOptions { Uri = "lavfi:testsrc2=size=160x120:rate=50" })
            .Sink(stuck, new SinkRunnerOptions { Capacity = 2, Policy = SinkQueuePolicy.DropOldest }).Sink(recorder)
            .Build().Start();
        await stuck.Entered.WaitAsync(TimeSpan.FromSeconds(30));

        // The stuck sink holds one item and two queued; the loop goes on regardless.
        Assert.True(Poll.Until(() => run.Stats.Frames >= 30, TimeSpan.FromSeconds(30)), $"the loop waited for a stuck sink: {run.Stats.Frames} frames");
        await run.StopAsync(TimeSpan.FromSeconds(2));

        var stuckRunner = run.Sinks.Single(s => s.Sink == stuck);
        var recorderRunner = run.Sinks.Single(s => s.Sink == recorder);
        Assert.True(stuckRunner.Dropped >= run.Stats.Frames - 3, $"stuck sink dropped {stuckRunner.Dropped} of {run.Stats.Frames}");
        // Every item handed over is written or counted: each frame, then the end-of-stream events (track_ended), the newest item.
        Assert.Equal(run.Stats.Frames + 1, recorderRunner.Written + recorderRunner.Dropped);
        Assert.True(recorder.Seen[^1].EventsOnly);
        Assert.Equal(new[] { stuckRunner }, run.AbandonedSinks);
        await run.DisposeAsync();
        stuck.Release();
        Assert.True(Poll.Until(() => stuck.Disposed, TimeSpan.FromSeconds(10)), "the abandoned sink was not disposed once it finished");
        Outputs.AssertNothingRented(pool);
    }
}
