using StreamVision.Core;
using StreamVision.Imaging;
using StreamVision.Inference;
using StreamVision.Ingest;

namespace StreamVision.Pipeline.Tests;

public partial class PipelineBuilderTests
{
    private static async Task<(StreamStats Stats, long Detected, List<SeenItem> Pictures, FramePool Pool)> RunScheduled(string clip, DetectScheduleOptions schedule)
    {
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        await using var batcher = new DetectionBatcher(new MovingBoxDetector(), new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, null, metrics);
        var sink = new RecordingSink();
        var builder = new PipelineBuilder("sched", pool).Metrics(metrics).Source(new SourceOptions { Uri = clip, Mode = SourceMode.File })
            .Detector(batcher).Tracker().DetectSchedule(schedule).Sink(sink);
        await using var run = builder.Build();
        run.Start();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(StreamStatus.Ended, run.Status);
        long detected = batcher.FramesDetected;
        await run.DisposeAsync();
        return (run.Stats, detected, sink.Pictures.OrderBy(p => p.Sequence).ToList(), pool);
    }

    [Fact]
    public async Task DetectInterval_RunsTheDetectorOnEveryNthFrame_AndTheTrackerReportsTheTrackOnEveryFrame()
    {
        const int frames = 30;
        string clip = TestMedia.Make($"sched-{frames}.mp4", $"-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v {frames} -c:v libx264 -preset ultrafast -pix_fmt yuv420p");

        var (stats, detected, pictures, pool) = await RunScheduled(clip, new DetectScheduleOptions { Interval = 3 });

        Assert.Equal(frames, stats.Frames);
        Assert.Equal(frames / 3, stats.DetectorRuns);
        Assert.Equal(frames / 3, detected);
        Assert.Equal(frames, pictures.Count);
        // Detections only on frames 0, 3, 6, ...; the one object keeps one id, reported on every frame once confirmed.
        Assert.Equal(Enumerable.Range(0, frames / 3).Select(i => 3L * i), pictures.Where(p => p.Detections > 0).Select(p => p.Sequence));
        int confirmedAt = pictures.FindIndex(p => p.TrackIds.Length > 0);
        Assert.InRange(confirmedAt, 0, 9);
        Assert.All(pictures.Skip(confirmedAt), p => Assert.Equal([1], p.TrackIds));
        Outputs.AssertNothingRented(pool);
    }

    [Fact]
    public async Task MotionGating_SkipsTheDetectorWhileTheSceneIsStill_AndRunsItWhenSomethingMoves()
    {
        // 40 still frames (grey), then a white square moves across: the detector runs on the first frame and on moving ones.
        string clip = TestMedia.Make("sched-still-then-moving.mp4",
            "-f lavfi -i color=c=gray:s=320x240:r=25:d=3 -f lavfi -i color=c=white:s=60x60:r=25:d=3 " +
            "-filter_complex \"[0][1]overlay=x='if(lt(n,40),-100,(n-40)*4)':y=90\" -frames:v 75 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");

        var (stats, detected, pictures, pool) = await RunScheduled(clip,
            new DetectScheduleOptions { MotionGating = true, MaxSkip = 0, Motion = new BackgroundSubtractorOptions { Downscale = 2 } });

        Assert.Equal(75, stats.Frames);
        Assert.Equal(75, pictures.Count);
        var detectedFrames = pictures.Where(p => p.Detections > 0).Select(p => p.Sequence).ToList();
        Assert.Equal(detected, detectedFrames.Count);
        Assert.Equal(stats.DetectorRuns, detectedFrames.Count);
        Assert.Equal([0L], detectedFrames.Where(s => s < 38)); // still: only the first frame (the square enters at about frame 39)
        Assert.True(detectedFrames.Count(s => s >= 41) >= 25, $"detected on {string.Join(",", detectedFrames)}");
        Outputs.AssertNothingRented(pool);
    }

    [Fact]
    public async Task MotionGating_WithMaxSkip_StillDetectsAStillSceneEveryMaxSkipFrames()
    {
        string clip = TestMedia.Make("sched-still.mp4", "-f lavfi -i color=c=gray:s=320x240:r=25 -frames:v 31 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");

        var (stats, _, pictures, pool) = await RunScheduled(clip, new DetectScheduleOptions { MotionGating = true, MaxSkip = 10 });

        Assert.Equal([0L, 10L, 20L, 30L], pictures.Where(p => p.Detections > 0).Select(p => p.Sequence));
        Assert.Equal(4, stats.DetectorRuns);
        Outputs.AssertNothingRented(pool);
    }

    [Fact]
    public void DetectSchedule_BadValuesAreErrorsNamingTheKey()
    {
        var builder = new PipelineBuilder("bad", new FramePool());
        Assert.Equal("detect.interval", Assert.Throws<OptionsException>(() => builder.DetectSchedule(new DetectScheduleOptions { Interval = 0 })).Path);
        Assert.Equal("detect.max_skip", Assert.Throws<OptionsException>(() => builder.DetectSchedule(new DetectScheduleOptions { Interval = 5, MaxSkip = 3, MotionGating = true })).Path);
        // max_skip binds only with motion gating: a long interval alone is fine.
        Assert.Null(Record.Exception(() => builder.DetectSchedule(new DetectScheduleOptions { Interval = 250 })));
        Assert.Equal("detect.motion.downscale", Assert.Throws<OptionsException>(() =>
            builder.DetectSchedule(new DetectScheduleOptions { MotionGating = true, Motion = new BackgroundSubtractorOptions { Downscale = 0 } })).Path);
    }
}
