using System.Globalization;
using StreamVision.Core;
using StreamVision.Imaging;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Tracking;

namespace StreamVision.Pipeline.Tests;

public class CameraMotionPipelineTests
{
    private const int Frames = 35;
    private const int SceneX = 560; // the standing object's left edge in the scene (the camera's first picture)

    /// <summary>Camera offset (px the picture has slid left) at frame n: still for 10 frames, 30 px a frame for 15, still again.</summary>
    private static int Offset(int n) => 30 * Math.Clamp(n - 10, 0, 15);

    /// <summary>
    /// A 640x480 window panning over a still, textured 1280x480 scene (a Mandelbrot picture) in which a grey box stands:
    /// the object slides 30 px a frame through the picture while the camera pans.
    /// </summary>
    private static string PanningClip() => TestMedia.Make("panning-scene.mp4",
        "-f lavfi -i \"mandelbrot=s=1280x480:rate=25:start_scale=1.5:end_scale=1.5:maxiter=200\" " +
        $"-vf \"drawbox=x={SceneX}:y=150:w=40:h=100:color=gray:t=fill,crop=640:480:x='30*clip(n-10\\,0\\,15)':y=0\" " +
        $"-frames:v {Frames} -c:v libx264 -preset ultrafast -crf 12 -pix_fmt yuv420p");

    /// <summary>The object's detections, where it is in each frame, as a MOTChallenge file (replayed by the real file detector).</summary>
    private static string Detections(string dir)
    {
        string path = Path.Combine(dir, "det.txt");
        File.WriteAllLines(path, Enumerable.Range(0, Frames).Select(n =>
            string.Create(CultureInfo.InvariantCulture, $"{n + 1},-1,{SceneX - Offset(n)},150,40,100,0.95,-1,-1,-1")));
        return path;
    }

    /// <summary>Runs the clip through a pipeline whose tracker compensates (or not); returns each frame's reported track ids of the object.</summary>
    private static async Task<List<int[]>> RunAsync(bool compensate)
    {
        string dir = TestEnvironment.NewTempDir();
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        await using var batcher = new DetectionBatcher(new MotFileDetector(Detections(dir)), new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, null, metrics);
        var sink = new RecordingSink();
        var builder = new PipelineBuilder(compensate ? "panning-cmc" : "panning", pool).Metrics(metrics)
            .Source(new SourceOptions { Uri = PanningClip(), Mode = SourceMode.File }).Detector(batcher)
            .Tracker(new ByteTrackerOptions { CompensateCameraMotion = compensate }).CameraMotion(new CameraMotionOptions())
            .Sink(sink).Lossless(true);
        await using var run = builder.Build();
        run.Start();
        await run.Completion.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.Equal(StreamStatus.Ended, run.Status);
        Assert.Null(run.Fault);
        var seen = sink.Pictures.OrderBy(s => s.Sequence).Select(s => s.TrackIds).ToList();
        Assert.Equal(Frames, seen.Count);
        return seen;
    }

    [Fact]
    public async Task APanningCameraKeepsItsTrackWhenThePipelineCompensates()
    {
        var compensated = await RunAsync(compensate: true);
        // Reported from the first frame (a stream's first frame confirms at once) to the last, always as track 1.
        Assert.All(compensated, ids => Assert.Equal([1], ids));

        // The same clip without compensation: the pan's first jump (30 px on a 40 px box) leaves the track behind, and
        // the object is not reported under one id throughout.
        var plain = await RunAsync(compensate: false);
        int reported = plain.Count(ids => ids.Length > 0);
        var distinct = plain.SelectMany(ids => ids).Distinct().Count();
        Assert.True(reported < Frames || distinct > 1, $"uncompensated: reported in {reported} frames with {distinct} ids");
    }

    [Fact]
    public void CameraMotionOptionsAreCheckedWhenGiven()
    {
        var ex = Assert.Throws<OptionsException>(() => new PipelineBuilder("x", new FramePool()).CameraMotion(new CameraMotionOptions { MinInliers = 1 }));
        Assert.Equal("tracker.camera_motion.min_inliers", ex.Path);
    }
}
