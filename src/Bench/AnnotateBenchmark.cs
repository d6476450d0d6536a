using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using StreamVision.App.Commands;
using StreamVision.Pipeline;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Native;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.Bench;

/// <summary>
/// annotate: <c>streamvision annotate</c> end to end on a 720p clip with faces — decode -> BlazeFace -> track -> draw ->
/// H.264 (libx264 veryfast) plus the tracks and events files — in frames/s against decoding the same clip alone; and where
/// the time goes: every stage timed on one thread over the same frames (a serial profile whose shares add up to 100 %),
/// next to each stage's time on its own thread inside the real, pipelined command (from the metrics it records).
/// </summary>
public static class AnnotateBenchmark
{
    public const string Name = "annotate";

    public static async Task RunAsync(BenchContext ctx)
    {
        NativeInfo.SetFfmpegLogging(false);
        string clip = ctx.Inputs.Faces720;
        string outDir = Path.Combine(ctx.WorkDir, "annotate");
        Directory.CreateDirectory(outDir);
        MediaInfo info;
        using (var r = MediaReader.Open(clip)) info = r.Info;
        var logger = ctx.Loggers.CreateLogger("bench");
        AnnotateOptions Options(long maxFrames, string preset = "veryfast", bool spinning = false) => new()
        {
            Preset = preset,
            AllowSpinning = spinning,
            Input = clip,
            Output = Path.Combine(outDir, "annotated.mp4"),
            TracksPath = Path.Combine(outDir, "tracks.txt"),
            EventsPath = Path.Combine(outDir, "events.jsonl"),
            MaxFrames = maxFrames,
        };

        ctx.Progress("annotate: warm-up");
        await AnnotateJob.RunAsync(Options(25), logger, null, ctx.Ct).ConfigureAwait(false);
        long frames = DecodeBenchmark.ReaderPass(clip, info, 0).Frames;

        var metrics = new PipelineMetrics();
        using var recorder = new MetricRecorder(metrics.StageSeconds, metrics.SinkWriteSeconds, metrics.DecodeSeconds);
        AnnotateSummary? last = null;
        async Task<double> Annotate(string preset, bool spinning = false)
        {
            BenchMeasure.Settle();
            bool isDefault = preset == "veryfast" && !spinning;
            recorder.Recording = isDefault; // the stage table describes the default
            var sw = Stopwatch.StartNew();
            var s = await AnnotateJob.RunAsync(Options(0, preset, spinning), logger, null, ctx.Ct, metrics).ConfigureAwait(false);
            double fps = s.Frames / sw.Elapsed.TotalSeconds;
            recorder.Recording = false;
            if (isDefault) last = s;
            return fps;
        }
        ctx.Progress($"annotate: {ctx.Runs} runs of {frames} frames (preset veryfast, ultrafast, veryfast with ONNX Runtime spinning), interleaved with decoding alone");
        var samples = await BenchMeasure.InterleaveAsync(ctx.Runs, ctx.Ct,
            () => Task.FromResult(DecodeBenchmark.ReaderPass(clip, info, 0) is var p ? p.Frames / p.Seconds : 0),
            () => Annotate("veryfast"),
            () => Annotate("ultrafast"),
            () => Annotate("veryfast", spinning: true)).ConfigureAwait(false);
        // Decode time is recorded by the source (no stage tag); detect and track by the stream loop; sinks by their runners.
        var inPipeline = recorder.Take().GroupBy(s => s.Instrument == Core.SvMetrics.DecodeSeconds ? "decode" : s.Label)
            .ToDictionary(g => g.Key, g => g.Average(s => s.Value) * 1000);

        int profileFrames = (int)Math.Min(frames, ctx.Quick ? 25 : 100);
        ctx.Progress($"annotate: serial stage profile, {ctx.Runs} runs of {profileFrames} frames");
        var profile = Enumerable.Range(0, ctx.Runs).Select(_ => SerialProfile(clip, info, profileFrames, outDir, logger)).ToList();

        var decode = Summary.Of(samples[0]);
        var annotate = Summary.Of(samples[1]);
        var stages = new[] { "decode", "detect", "track", "draw", "encode" };
        var perStage = stages.Select((s, i) => Summary.Of(profile.Select(p => p[i]))).ToArray();
        double serialTotal = perStage.Sum(s => s.Median);

        var table = new BenchTable
        {
            Name = Name,
            Title = $"annotate end to end: 720p decode -> BlazeFace -> track -> draw -> H.264 (frames/s)",
            Baseline = "decoding the same clip alone (MediaReader + bgr24, threads auto)",
        };
        table.Column("path", "path").Column("fps", "frames/s").Column("ratio", "ratio vs decode", 3);
        table.Row(("path", "decode alone (baseline)"), ("fps", decode), ("ratio", 1.0));
        table.Row(("path", "streamvision annotate (pipelined, as a user runs it; --preset veryfast, the default)"), ("fps", annotate), ("ratio", annotate.Median / decode.Median));
        var ultrafast = Summary.Of(samples[2]);
        table.Row(("path", "streamvision annotate --preset ultrafast"), ("fps", ultrafast), ("ratio", ultrafast.Median / decode.Median));
        var spinning = Summary.Of(samples[3]);
        table.Row(("path", "annotate, veryfast, ONNX Runtime threads spinning (detector.allow_spinning: true, ONNX Runtime's own default)"), ("fps", spinning), ("ratio", spinning.Median / decode.Median));
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"spinning off (the default) / on: {annotate.Median / spinning.Median:0.000}x the frames/s"));
        table.Row(("path", "the default's stages one after another on one thread (sum of the stage table)"), ("fps", 1000 / serialTotal), ("ratio", 1000 / serialTotal / decode.Median));
        if (last is not null)
            table.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"{last.Frames} frames per run, {last.Detections} faces, {last.Tracks} tracks, {last.Events} events; outputs: annotated MP4 (libx264 veryfast crf 23), MOT tracks, JSON-lines events; the video sink drew {last.DrawnInPlace} of the frames without copying them (it held their last reference)"));
        table.Notes.Add("annotate's frames/s include loading the model and finalising the MP4, as a user sees them");
        ctx.Add(table);

        var shares = new BenchTable
        {
            Name = "annotate-stages",
            Title = "annotate: time per frame by stage",
            Baseline = "the serial total (every stage on one thread, one after another)",
        };
        shares.Column("stage", "stage").Column("serial_ms", "serial ms/frame", 2).Column("share", "share of serial %", 1)
              .Column("pipeline_ms", "in annotate: ms/frame on its thread", 2);
        string[] what =
        [
            "decode: MediaReader decode + bgr24 (FFmpeg threads auto)",
            "detect: BlazeFace preprocess + run + decode + NMS",
            "track: ByteTracker update",
            "draw: copy the frame + Annotator (boxes, labels, trails, header)",
            "encode: libx264 veryfast crf 23, 1 thread",
        ];
        for (int i = 0; i < stages.Length; i++)
        {
            BenchCell pipelineMs = inPipeline.TryGetValue(stages[i], out var ms) ? ms : new BenchCell();
            shares.Row(("stage", what[i]), ("serial_ms", perStage[i]), ("share", 100 * perStage[i].Median / serialTotal), ("pipeline_ms", pipelineMs));
        }
        if (inPipeline.TryGetValue("video", out var videoMs))
            shares.Row(("stage", "video sink write: copy + draw + encode (x264 threads auto)"), ("pipeline_ms", videoMs));
        shares.Row(("stage", "total"), ("serial_ms", serialTotal), ("share", 100.0));
        shares.Notes.Add("in annotate the stages overlap on the cores (decoder thread, detector thread, stream loop, one thread per sink) and libx264 encodes on its own threads, so its per-thread times do not add up to the wall time");
        shares.Notes.Add("in annotate: decode is the source's decode + conversion time per frame, detect the stream loop's wait for the batcher (queueing included), the sink rows their write time");
        ctx.Add(shares);
    }

    /// <summary>Every stage on this thread, one after another, over the first <paramref name="count"/> frames: ms per frame by stage.</summary>
    private static double[] SerialProfile(string clip, MediaInfo info, int count, string outDir, ILogger logger)
    {
        var t = new double[5];
        using var detector = OnnxDetector.Load(ModelCatalog.Resolve(ModelCatalog.DefaultModel), new OnnxDetectorOptions(), logger);
        var tracker = new ByteTracker();
        var annotator = new Annotator(new AnnotatorOptions { ClassNames = detector.ClassNames });
        using var reader = MediaReader.Open(clip);
        using var writer = MediaWriter.Open(Path.Combine(outDir, "serial.mp4"), new MediaWriterOptions
        {
            Width = info.Width & ~1,
            Height = info.Height & ~1,
            Fps = info.Fps > 0 ? info.Fps : BenchInputs.Fps,
            Options = new Dictionary<string, string>(StringComparer.Ordinal) { ["preset"] = "veryfast", ["crf"] = "23", ["threads"] = "1" },
        });
        using var frame = Frame.CreateUnpooled(info.Width, info.Height);
        using var copy = Frame.CreateUnpooled(info.Width, info.Height);
        var one = new[] { frame };
        int n = 0;
        frame.StreamId = "bench";
        while (n < count)
        {
            long t0 = Stopwatch.GetTimestamp();
            if (!reader.TryReadFrame(frame, out var fi)) break;
            frame.Pts = fi.Pts ?? TimeSpan.FromSeconds(n / BenchInputs.Fps);
            frame.Sequence = n;
            frame.CaptureTime = DateTimeOffset.UtcNow;
            long t1 = Stopwatch.GetTimestamp();
            var dets = detector.Detect(one)[0];
            long t2 = Stopwatch.GetTimestamp();
            var tracks = tracker.Update(dets, frame.Pts);
            long t3 = Stopwatch.GetTimestamp();
            copy.CopyFrom(frame);
            using (var item = new AnalyzedFrame(frame.AddRef(), dets, tracks, [])) annotator.Draw(item, copy);
            long t4 = Stopwatch.GetTimestamp();
            writer.Write(copy.Data, copy.Stride, frame.Pts);
            long t5 = Stopwatch.GetTimestamp();
            if (n > 0) // the first frame pays one-off costs (encoder start, first text drawing)
            {
                t[0] += t1 - t0;
                t[1] += t2 - t1;
                t[2] += t3 - t2;
                t[3] += t4 - t3;
                t[4] += t5 - t4;
            }
            n++;
        }
        long f0 = Stopwatch.GetTimestamp();
        writer.Finish();
        t[4] += Stopwatch.GetTimestamp() - f0; // frames the encoder still held
        return t.Select(v => v * 1000.0 / Stopwatch.Frequency / Math.Max(1, n - 1)).ToArray();
    }
}
