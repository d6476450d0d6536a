using System.Diagnostics;
using System.Globalization;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Pipeline;
using StreamVision.Sinks;

namespace StreamVision.Bench;

/// <summary>
/// latency: a live 25 fps 720p source with a detector slower than real time (BlazeFace held to 60 ms a frame, i.e.
/// 16.7 fps) through the live stream path — drop-oldest source channel, batcher, tracker, drop-oldest sinks — for
/// <see cref="BenchOptions.LatencySeconds"/>. End-to-end latency per window must stay flat (frames are dropped instead
/// of queueing up), and the analysis must not fall behind the source.
/// </summary>
public static class LatencyBenchmark
{
    public const string Name = "latency";
    /// <summary>The slow detector's time per frame: 1.5 frame intervals of the 25 fps source.</summary>
    public static readonly TimeSpan DetectorPeriod = TimeSpan.FromMilliseconds(60);

    public static async Task RunAsync(BenchContext ctx)
    {
        Native.NativeInfo.SetFfmpegLogging(false);
        double total = ctx.Options.LatencySeconds;
        int windows = (int)Math.Clamp(Math.Round(total / 10), 3, 10);
        double windowSeconds = total / windows;
        double warmup = ctx.Quick ? 1 : 3;
        string clip = ctx.Inputs.Faces720;
        var logger = ctx.Loggers.CreateLogger("bench");
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 512L << 20 });
        var sourceOptions = new SourceOptions { Id = "latency", Uri = BenchInputs.LiveLoop(clip), Mode = SourceMode.Live };
        using var inner = OnnxDetector.Load(ModelCatalog.Resolve(ModelCatalog.DefaultModel), new OnnxDetectorOptions(), logger);
        using var detector = new PacedDetector(inner, DetectorPeriod);
        var metrics = new PipelineMetrics();
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, logger, metrics);
        using var recorder = new MetricRecorder(metrics.EndToEndSeconds);
        string outDir = Path.Combine(ctx.WorkDir, "latency");
        Directory.CreateDirectory(outDir);
        var sinkOptions = new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 16 };
        await using var run = new PipelineBuilder("latency", pool).Logger(logger).Metrics(metrics)
            .Source(sourceOptions).Detector(batcher).Tracker().Lossless(false)
            .Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = Path.Combine(outDir, "events.jsonl"), InstanceId = "bench" }), sinkOptions)
            .Sink(new MotTrackSink(Path.Combine(outDir, "tracks.txt")), sinkOptions)
            .Build().Start();
        var source = run.Source;

        var table = new BenchTable
        {
            Name = Name,
            Title = string.Create(CultureInfo.InvariantCulture,
                $"live 25 fps 720p source, detector slower than real time ({DetectorPeriod.TotalMilliseconds:0} ms/frame = {1000 / DetectorPeriod.TotalMilliseconds:0.0} fps), {total:0} s"),
            Baseline = "the first window's p99 latency",
        };
        table.Column("window", "window").Column("frames", "frames analysed", 0).Column("fps", "analysed frames/s", 1).Column("drop", "dropped %", 1)
             .Column("p50", "latency p50 ms", 0).Column("p99", "latency p99 ms", 0).Column("max", "latency max ms", 0)
             .Column("behind", "analysis behind source s", 2).Column("ratio", "p99 vs first window", 3);
        try
        {
            ctx.Progress(string.Create(CultureInfo.InvariantCulture, $"latency: live source with a {DetectorPeriod.TotalMilliseconds:0} ms detector for {total:0} s ({windows} windows of {windowSeconds:0.#} s; the issue's 5-minute run is --latency-seconds 300)"));
            await Task.Delay(TimeSpan.FromSeconds(warmup), ctx.Ct).ConfigureAwait(false);
            long t0 = Stopwatch.GetTimestamp();
            var pts0 = run.Stats.LastPts;
            recorder.Take();
            recorder.Recording = true;
            var all = new List<double>();
            long frames0 = run.Stats.Frames, decoded0 = source.FramesDecoded, dropped0 = source.FramesDropped;
            long framesAll = 0, decodedAll = 0, droppedAll = 0;
            double firstP99 = double.NaN, lastP99 = double.NaN, maxBehind = 0;
            for (int w = 0; w < windows; w++)
            {
                var start = Stopwatch.GetElapsedTime(t0);
                await Task.Delay(TimeSpan.FromSeconds(windowSeconds) * (w + 1) - start, ctx.Ct).ConfigureAwait(false);
                double elapsed = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                long frames = run.Stats.Frames, decoded = source.FramesDecoded, dropped = source.FramesDropped;
                double behind = elapsed - (run.Stats.LastPts - pts0).TotalSeconds;
                maxBehind = Math.Max(maxBehind, behind);
                var lat = recorder.Take().Select(s => s.Value * 1000).OrderBy(v => v).ToArray();
                all.AddRange(lat);
                double p99 = Summary.Percentile(lat, 0.99);
                if (w == 0) firstP99 = p99;
                lastP99 = p99;
                long df = frames - frames0, dd = decoded - decoded0, dr = dropped - dropped0;
                framesAll += df;
                decodedAll += dd;
                droppedAll += dr;
                table.Row(("window", string.Create(CultureInfo.InvariantCulture, $"{start.TotalSeconds:0}-{elapsed:0} s")),
                    ("frames", df), ("fps", df / (elapsed - start.TotalSeconds)), ("drop", dd == 0 ? 0 : 100.0 * dr / dd),
                    ("p50", Summary.Percentile(lat, 0.5)), ("p99", p99), ("max", lat.Length > 0 ? lat[^1] : double.NaN),
                    ("behind", behind), ("ratio", p99 / firstP99));
                (frames0, decoded0, dropped0) = (frames, decoded, dropped);
            }
            recorder.Recording = false;
            all.Sort();
            double totalP99 = Summary.Percentile(all, 0.99);
            double elapsedAll = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            table.Row(("window", "whole run"), ("frames", framesAll), ("fps", framesAll / elapsedAll), ("drop", decodedAll == 0 ? 0 : 100.0 * droppedAll / decodedAll),
                ("p50", Summary.Percentile(all, 0.5)), ("p99", totalP99), ("max", all.Count > 0 ? all[^1] : double.NaN), ("behind", maxBehind), ("ratio", totalP99 / firstP99));

            double frameInterval = 1000 / BenchInputs.Fps;
            double bound = (sourceOptions.ChannelCapacity + 1) * frameInterval + 2 * DetectorPeriod.TotalMilliseconds;
            table.Targets.Add(new BenchTarget("latency does not grow: last window p99 / first window p99", "<= 1.25", lastP99 / firstP99, lastP99 <= 1.25 * firstP99 + 10));
            table.Targets.Add(new BenchTarget("whole-run p99 latency (ms) within the queue bound", string.Create(CultureInfo.InvariantCulture, $"<= {bound:0} ms"), totalP99, totalP99 <= bound,
                string.Create(CultureInfo.InvariantCulture, $"(source queue {sourceOptions.ChannelCapacity} + 1) x {frameInterval:0} ms + 2 x {DetectorPeriod.TotalMilliseconds:0} ms detector")));
            double lossless = total * (1 - 1000 / DetectorPeriod.TotalMilliseconds / BenchInputs.Fps);
            table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
                $"a lossless queue in front of this detector would be {lossless:0} s behind after {total:0} s (a third of the frames cannot be analysed); dropping the oldest frame keeps it at the figures above"));
            table.Notes.Add("analysis behind source = wall time since the first window minus stream time analysed since then (stays flat when nothing queues up)");
            table.Notes.Add(string.Create(CultureInfo.InvariantCulture, $"the issue's 5-minute run is `streamvision bench --only latency --latency-seconds 300`; this run: {total:0} s after {warmup:0} s warm-up"));
            table.Notes.Add("the slow detector is BlazeFace plus a sleep to 60 ms per frame (a stand-in for a model too heavy for the machine); latency is capture (decoded) to hand-over to the sinks");
        }
        finally
        {
            // The one shutdown order: stop the source, drain, finalise the sinks.
            await run.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        }
        ctx.Add(table);
    }
}

/// <summary>A detector that takes at least <c>period</c> per call: runs the inner detector, then sleeps the rest.</summary>
public sealed class PacedDetector : IDetector
{
    private readonly IDetector _inner;
    private readonly TimeSpan _period;

    public PacedDetector(IDetector inner, TimeSpan period)
    {
        _inner = inner;
        _period = period;
    }

    public string Name => _inner.Name + " (paced)";
    public IReadOnlyList<string> ClassNames => _inner.ClassNames;
    public int MaxBatch => 1;

    public Detections[] Detect(IReadOnlyList<Frame> frames)
    {
        long start = Stopwatch.GetTimestamp();
        var result = _inner.Detect(frames);
        var rest = _period * frames.Count - Stopwatch.GetElapsedTime(start);
        if (rest > TimeSpan.Zero) Thread.Sleep(rest);
        return result;
    }

    /// <summary>The inner detector is not owned.</summary>
    public void Dispose()
    {
    }
}
