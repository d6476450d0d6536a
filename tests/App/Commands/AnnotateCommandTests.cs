using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Commands;
using StreamVision.Pipeline;
using StreamVision.Native;

namespace StreamVision.App.Tests;

// Both classes swap Console.Out/Error to read what a verb prints: one collection, so they never run at the same time.
[Collection("console")]
public class AnnotateCommandTests
{
    private const string Megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

    [Fact]
    public async Task AnnotatesTheSampleWithFacesTracksAndEvents()
    {
        string dir = TestEnvironment.NewTempDir();
        var o = new AnnotateOptions
        {
            Input = Megamind,
            Output = Path.Combine(dir, "a.mp4"),
            EventsPath = Path.Combine(dir, "e.jsonl"),
            TracksPath = Path.Combine(dir, "t.txt"),
            Preset = "ultrafast",
            MaxFrames = 100,
        };
        var progress = new List<long>();
        var s = await AnnotateJob.RunAsync(o, NullLogger.Instance, (done, total, fps) => { lock (progress) progress.Add(total); }, CancellationToken.None);
        Assert.Equal(100, s.Frames);
        Assert.True(s.Detections >= 95, $"{s.Detections} faces");
        Assert.InRange(s.Tracks, 1, 6);
        Assert.Contains(100L, progress);
        var probe = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height -of csv=p=0 \"{o.Output}\"").Trim();
        Assert.Equal("720,528,100", probe);
        var events = File.ReadAllLines(o.EventsPath).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var started = events.Where(e => e.GetProperty("type").GetString() == "track_started").Select(e => e.GetProperty("track_id").GetInt32()).ToList();
        var ended = events.Where(e => e.GetProperty("type").GetString() == "track_ended").Select(e => e.GetProperty("track_id").GetInt32()).ToList();
        Assert.NotEmpty(started);
        Assert.Equal(started.OrderBy(i => i), ended.OrderBy(i => i)); // every track that started also ended (at the latest at end of file)
        var rows = File.ReadAllLines(o.TracksPath);
        Assert.True(rows.Length >= 90, $"{rows.Length} track rows");
    }

    [Fact]
    public async Task ReplayedDetectionsThroughTheVideoPipelineTrackLikeTheOfflineReplay()
    {
        // TUD-Campus video + its published detections: the pipeline (decode, replayed detector, tracker, MOT sink) must give
        // the same tracks as replaying the file directly, so the frame numbering and timing through the pipeline are right.
        string seq = Path.Combine(TestEnvironment.SharedData, "mot15", "TUD-Campus");
        string dir = TestEnvironment.NewTempDir();
        var o = new AnnotateOptions
        {
            Input = Path.Combine(seq, "video.mp4"),
            Output = Path.Combine(dir, "campus.mp4"),
            TracksPath = Path.Combine(dir, "tracks.txt"),
            DetectionsFile = Path.Combine(seq, "det", "det-frcnn.txt"),
            Preset = "ultrafast",
        };
        var s = await AnnotateJob.RunAsync(o, NullLogger.Instance, null, CancellationToken.None);
        Assert.Equal(71, s.Frames);
        var viaPipeline = Tracking.Mot.MotEvaluation.EvaluateFiles(Path.Combine(seq, "gt", "gt.txt"), o.TracksPath);
        var direct = Tracking.Mot.MotEvaluation.Evaluate(Tracking.Mot.MotFile.Read(Path.Combine(seq, "gt", "gt.txt")),
            Tracking.Mot.MotReplay.Run(o.DetectionsFile, fps: 25));
        Assert.Equal(direct.Mota, viaPipeline.Mota, 3);
        Assert.Equal(direct.IdSwitches, viaPipeline.IdSwitches);
        Assert.True(viaPipeline.Mota > 0.6, viaPipeline.ToText());

        // The learned motion model runs through the same pipeline.
        var learned = await AnnotateJob.RunAsync(o with { Motion = Path.Combine(TestEnvironment.RepoRoot, "models", "motion-gru.onnx"), TracksPath = Path.Combine(dir, "learned.txt") },
            NullLogger.Instance, null, CancellationToken.None);
        Assert.Equal(71, learned.Frames);
        Assert.True(Tracking.Mot.MotEvaluation.EvaluateFiles(Path.Combine(seq, "gt", "gt.txt"), Path.Combine(dir, "learned.txt")).Mota > 0.5);
    }

    [Fact]
    public async Task MissingInputIsAClearErrorAndWritesNothing()
    {
        string dir = TestEnvironment.NewTempDir();
        var o = new AnnotateOptions { Input = Path.Combine(dir, "nope.mp4"), Output = Path.Combine(dir, "a.mp4"), Model = "none" };
        var ex = await Assert.ThrowsAsync<Ingest.SourceException>(() => AnnotateJob.RunAsync(o, NullLogger.Instance, null, CancellationToken.None));
        Assert.Contains("nope.mp4", ex.Message);
        Assert.False(File.Exists(o.Output));
    }

    [Fact]
    public async Task CancelledRunStillLeavesAPlayableFile()
    {
        string dir = TestEnvironment.NewTempDir();
        string input = TestMedia.H264(320, 240, 250);
        var o = new AnnotateOptions { Input = input, Output = Path.Combine(dir, "c.mp4"), Model = "none", Preset = "ultrafast" };
        using var cts = new CancellationTokenSource();
        long seen = 0;
        // Cancelled from the pipeline's own loop once 20 frames are through: mid-run whatever the machine's speed.
        var run = AnnotateJob.RunAsync(o, NullLogger.Instance, null, cts.Token, frameAnalyzed: done =>
        {
            seen = done;
            if (done >= 20) cts.Cancel();
        });
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var frames = int.Parse(TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{o.Output}\"").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(frames, 1, 249);
    }

    [Fact]
    public async Task WithoutAVideo_WritesTheSameTracksAndEventsAndNoVideo()
    {
        // -o is optional with --tracks or --events: offline analytics, nothing drawn or encoded. Same tracks as with the video.
        string dir = TestEnvironment.NewTempDir();
        var withVideo = new AnnotateOptions
        {
            Input = Megamind,
            Output = Path.Combine(dir, "a.mp4"),
            EventsPath = Path.Combine(dir, "e1.jsonl"),
            TracksPath = Path.Combine(dir, "t1.txt"),
            Preset = "ultrafast",
            MaxFrames = 60,
        };
        var a = await AnnotateJob.RunAsync(withVideo, NullLogger.Instance, null, CancellationToken.None);
        var analyticsOnly = withVideo with { Output = null, EventsPath = Path.Combine(dir, "e2.jsonl"), TracksPath = Path.Combine(dir, "t2.txt") };
        var b = await AnnotateJob.RunAsync(analyticsOnly, NullLogger.Instance, null, CancellationToken.None);

        Assert.Equal(60, b.Frames);
        Assert.Equal(a.Detections, b.Detections);
        Assert.Equal(a.Tracks, b.Tracks);
        Assert.Equal(File.ReadAllLines(withVideo.TracksPath), File.ReadAllLines(analyticsOnly.TracksPath!));
        Assert.Equal(File.ReadAllLines(withVideo.EventsPath).Length, File.ReadAllLines(analyticsOnly.EventsPath!).Length);
        Assert.Equal(["a.mp4", "e1.jsonl", "e2.jsonl", "t1.txt", "t2.txt"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void WithoutAnyOutput_IsAUsageErrorNamingTheOptions()
    {
        var (rc, _, error) = ConsoleCapture.Run(() => Program.Main(["annotate", TestMedia.H264(), "--model", "none"]));
        Assert.Equal(ExitCodes.Usage, rc);
        Assert.Contains("--output", error);
        Assert.Contains("--tracks or --events", error);
    }

    [Fact]
    public void UnknownModelIsAUsageError()
    {
        var (rc, _, error) = ConsoleCapture.Run(() => Program.Main(["annotate", TestMedia.H264(), "-o", Path.Combine(TestEnvironment.NewTempDir(), "x.mp4"), "--model", "/nonexistent/m.onnx"]));
        Assert.Equal(ExitCodes.Failed, rc);
        Assert.Contains("/nonexistent/m.onnx", error);
    }

    /// <summary>Runs the command line with standard error captured.</summary>
    private static (int Code, string Error) RunCapturingErrors(string[] args)
    {
        var (code, _, error) = ConsoleCapture.Run(() => Program.Main(args));
        return (code, error);
    }

    [Fact]
    public void SetGivesTheMotionDetectorAndTrackerTheirOptionsAndNamesBadKeys()
    {
        // A 40x80 dark "person" walking into a still grey picture from the left at 100 px/s (entering, not standing in
        // the first frame: the background model would learn a standing person and report the ghost they leave).
        string clip = TestMedia.Make("walker-in-80.mp4",
            "-f lavfi -i color=c=gray:s=320x240:r=25 -f lavfi -i color=c=0x202020:s=40x80:r=25 " +
            "-filter_complex \"[0][1]overlay=x='-40+t*100':y=80:shortest=1\" -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
        string dir = TestEnvironment.NewTempDir();
        string tracks = Path.Combine(dir, "t.txt");
        var (code, error) = RunCapturingErrors(["annotate", clip, "-o", Path.Combine(dir, "a.mp4"), "--model", "motion", "--tracks", tracks, "--preset", "ultrafast",
            "--set", "motion.detect_shadows=false", "--set", "motion.learning_rate=0.01", "--set", "motion.min_height=40", "--set", "motion.min_lifetime=3",
            "--set", "motion.object_aspect=0.4", "--set", "tracker.min_hits=2"]);
        Assert.True(code == 0, error);
        var rows = File.ReadAllLines(tracks);
        Assert.True(rows.Length >= 30, $"{rows.Length} track rows");
        Assert.Single(rows.Select(r => r.Split(',')[1]).Distinct()); // one walker, one id

        (code, error) = RunCapturingErrors(["annotate", clip, "-o", Path.Combine(dir, "b.mp4"), "--model", "motion", "--set", "motion.min_heigth=40"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("detector.motion.min_heigth", error);
        (code, error) = RunCapturingErrors(["annotate", clip, "-o", Path.Combine(dir, "b.mp4"), "--model", "motion", "--set", "motion.min_lifetime=0"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("detector.motion.min_lifetime", error);
        (code, error) = RunCapturingErrors(["annotate", clip, "-o", Path.Combine(dir, "b.mp4"), "--set", "min_hits=2"]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("motion.", error);
        Assert.False(File.Exists(Path.Combine(dir, "b.mp4")));
    }

    [Fact]
    public void MotionPresetIsTheDocumentedSetAndReachesItsGoalOnTudCampus()
    {
        // The model-free path with the pedestrian preset: the goal, MOTA >= 50 on a static-camera pedestrian scene.
        string seq = Path.Combine(TestEnvironment.SharedData, "mot15", "TUD-Campus");
        string video = Path.Combine(seq, "video.mp4"), dir = TestEnvironment.NewTempDir();
        string preset = Path.Combine(dir, "preset.txt"), longForm = Path.Combine(dir, "long.txt");
        var (code, error) = RunCapturingErrors(["annotate", video, "--model", "motion", "--motion-preset", "pedestrians", "--tracks", preset]);
        Assert.True(code == 0, error);
        string[] settings = ["detect_shadows=false", "close_first=true", "morph_kernel=9", "vertical_close=71", "object_aspect=0.4",
            "min_height=100", "min_lifetime=2", "history=100", "size_prior=true", "head_split=true", "edge_width=0.5",
            "frame_difference=10", "motion_gap=1"];
        (code, error) = RunCapturingErrors(["annotate", video, "--model", "motion", "--tracks", longForm,
            .. settings.SelectMany(kv => new[] { "--set", "motion." + kv }), "--set", "tracker.min_hits=2"]);
        Assert.True(code == 0, error);
        Assert.Equal(File.ReadAllText(longForm), File.ReadAllText(preset));
        var (rc, text, _) = ConsoleCapture.Run(() => Program.Main(["eval-mot", "--gt", Path.Combine(seq, "gt", "gt.txt"), "--tracks", preset, "--json"]));
        Assert.Equal(0, rc);
        double mota = JsonDocument.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..]).RootElement.GetProperty("mota").GetDouble();
        Assert.True(mota >= 0.5, $"MOTA {mota:0.000}");

        // --set changes a preset's key; a preset is for the motion detector only, and an unknown one names the known.
        (code, error) = RunCapturingErrors(["annotate", video, "--model", "motion", "--motion-preset", "pedestrians", "--set", "motion.scale=0", "--tracks", longForm]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("detector.motion.scale", error);
        (code, error) = RunCapturingErrors(["annotate", video, "--motion-preset", "pedestrians", "--tracks", longForm]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--model motion", error);
        (code, error) = RunCapturingErrors(["annotate", video, "--model", "motion", "--motion-preset", "cars", "--tracks", longForm]);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("pedestrians", error);
    }
}
