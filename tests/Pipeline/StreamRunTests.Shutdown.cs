using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Sinks;

namespace StreamVision.Pipeline.Tests;

public partial class StreamRunTests
{
    [Fact]
    public async Task AStopMeetsItsDeadlineWhenASinkIsStuckAndTheOtherOutputsAreFinalised()
    {
        string dir = TestEnvironment.NewTempDir();
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var metrics = new PipelineMetrics();
        var logger = new CapturingLogger();
        await using var batcher = Batcher(metrics);
        var stuck = new RecordingSink("stuck", block: true);
        var builder = new PipelineBuilder("stall", pool).Logger(logger).Metrics(metrics).Detector(batcher).Tracker()
            .Source(new SourceOptions { Uri = TestMedia.H264(160, 120, 250), Mode = SourceMode.File }).QueueCapacity(4);
        var video = new VideoFileSink(new VideoSinkOptions { Path = Path.Combine(dir, "stall.mp4"), Preset = "ultrafast" }, 25, builder.SinkPool);
        builder.Sink(video).Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = Path.Combine(dir, "stall.jsonl") })).Sink(stuck);
        var run = builder.Build().Start();
        // Lossless: the stuck sink's queue fills and the loop waits on it (as a file run should), holding frames.
        await stuck.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        var stuckRunner = run.Sinks.Single(s => s.Sink == stuck);
        Assert.True(Poll.Until(() => stuckRunner.QueueDepth == 4, TimeSpan.FromSeconds(30)), "the stuck sink's queue did not fill");

        // Long enough for the other sinks to finalise on a starved machine (at 2 s, under load 22 on 2 cores, the video and
        // events sinks were abandoned too), short enough to keep the test quick.
        var deadline = TimeSpan.FromSeconds(6);
        var sw = Stopwatch.StartNew();
        await run.StopAsync(deadline).WaitAsync(TimeSpan.FromSeconds(60));
        sw.Stop();

        // Within the deadline plus scheduling slack (a wait for the stuck sink would never end).
        Assert.True(sw.Elapsed < deadline * 3, $"stop took {sw.Elapsed.TotalSeconds:0.0} s with a {deadline.TotalSeconds} s deadline");
        Assert.Equal(StreamStatus.Stopped, run.Status);
        Assert.Equal(new[] { stuckRunner }, run.AbandonedSinks);
        Assert.Contains(logger.At(LogLevel.Warning), e => e.Message.Contains("stuck", StringComparison.Ordinal) && e.Message.Contains("abandoned", StringComparison.Ordinal));
        // The other sinks finalised: the MP4 plays to its end, every event line is whole.
        Assert.True(video.FramesWritten > 0);
        Assert.Equal(video.FramesWritten, Outputs.VideoFrames(Path.Combine(dir, "stall.mp4")));
        Assert.Contains(Outputs.JsonLines(Path.Combine(dir, "stall.jsonl")), l => l.Contains("\"track_started\"", StringComparison.Ordinal));

        // Disposing does not wait for the stuck sink either; once it lets go it is finalised and disposed, and every frame is back.
        await run.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(stuck.Disposed);
        Assert.True(pool.Outstanding > 0); // the stuck write still holds its frame
        stuck.Release();
        Assert.True(Poll.Until(() => stuck.Disposed, TimeSpan.FromSeconds(10)), "the abandoned sink was not disposed once it finished");
        Assert.True(stuck.Completed);
        Outputs.AssertNothingRented(pool, builder.SinkPool);
    }

    [Fact]
    public async Task ASinkThatKeepsFailingLogsItsStackTraceOnce()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var logger = new CapturingLogger();
        var failing = new FailingSink();
        var run = new PipelineBuilder("failing", pool).Logger(logger).Metrics(new PipelineMetrics())
            .Source(new SourceOptions { Uri = TestMedia.H264(160, 120, 20), Mode = SourceMode.File })
            .Sink(failing, new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, MaxConsecutiveErrors = 0 }).Build().Start();

        await run.Completion.WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(StreamStatus.Ended, run.Status); // a failing sink never fails its stream
        var errors = logger.At(LogLevel.Error).Where(e => e.Message.Contains("sink failing write failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(20, errors.Count);
        Assert.IsType<InvalidDataException>(errors[0].Exception);
        Assert.All(errors.Skip(1), e => Assert.Null(e.Exception));
        Assert.Equal(20, run.Sinks[0].Errors);
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool);
    }

    [Fact]
    public async Task AStreamWithAFaultedSinkIsDegradedNotRunningAndSaysWhichOutputWasNotFinalised()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 16L << 20 });
        var logger = new CapturingLogger();
        var failing = new FailingSink();
        var run = new PipelineBuilder("degraded", pool).Logger(logger).Metrics(new PipelineMetrics())
            .Source(new SourceOptions { Uri = "lavfi:testsrc2=size=160x120:rate=25" })
            .Sink(failing, new SinkRunnerOptions { MaxConsecutiveErrors = 2, RetrySeconds = 0 }).Sink(new RecordingSink())
            .Build().Start();
        Assert.True(Poll.Until(() => run.Status == StreamStatus.Degraded, TimeSpan.FromSeconds(30)), $"status {run.Status}");
        Assert.Equal(SinkState.Faulted, run.Sinks[0].Health.State);
        Assert.Equal(SinkState.Connected, run.Sinks[1].Health.State);
        Assert.True(Poll.Until(() => logger.At(LogLevel.Warning).Any(e => e.Message.Contains("sink failing is now faulted: cannot write frame", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10)));

        await run.StopAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(StreamStatus.Stopped, run.Status);
        var lost = Assert.Single(run.NotFinalised);
        Assert.StartsWith("failing: faulted since", lost, StringComparison.Ordinal);
        await run.DisposeAsync();
        Outputs.AssertNothingRented(pool);
    }
}
