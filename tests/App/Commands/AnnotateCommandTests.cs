using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Commands;
using StreamVision.Pipeline;
using StreamVision.Native;

namespace StreamVision.App.Tests;

// Console.SetOut/SetError are process-wide: the classes that swap them run one after the other, never in parallel.
[Collection("Console")]
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
    public void UnknownModelIsAUsageError()
    {
        var sw = new StringWriter();
        var err = Console.Error;
        Console.SetError(sw);
        try
        {
            int rc = Program.Main(["annotate", TestMedia.H264(), "-o", Path.Combine(TestEnvironment.NewTempDir(), "x.mp4"), "--model", "/nonexistent/m.onnx"]);
            Assert.Equal(ExitCodes.Failed, rc);
        }
        finally
        {
            Console.SetError(err);
        }
        Assert.Contains("/nonexistent/m.onnx", sw.ToString());
    }
}
