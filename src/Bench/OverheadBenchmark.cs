using System.Diagnostics;
using System.Globalization;
using StreamVision.Analytics;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Native;
using StreamVision.Sinks;

namespace StreamVision.Bench;

/// <summary>
/// overhead: the whole service pipeline on a 720p file with a zero-cost detector (detections replayed from a
/// MOTChallenge file: 10 moving objects per frame) and no encoding sink — source, channels, pooled frames, the batcher,
/// the tracker, events, a zone and a counting line, the JSON-lines events and MOT track sinks — against decoding alone (the same VideoSource into a
/// consumer that returns each frame). What the pipeline costs on top of decoding, in steady state (from the frame at
/// 10 % of the clip to the last one, where each side hands its frames on) and from start to end (start-up included).
/// </summary>
public static class OverheadBenchmark
{
    public const string Name = "overhead";
    public const int Objects = 10;

    /// <summary>One run: steady-state frames/s, start-to-end frames/s, steady-state bytes allocated per frame.</summary>
    private readonly record struct RunFigures(double SteadyFps, double WallFps, double AllocPerFrame);

    public static async Task RunAsync(BenchContext ctx)
    {
        NativeInfo.SetFfmpegLogging(false);
        string clip = ctx.Inputs.Pattern720;
        long frames;
        using (var r = MediaReader.Open(clip)) frames = DecodeBenchmark.ReaderPass(clip, r.Info, 0).Frames;
        string det = ctx.Inputs.DetectionFile((int)frames, Objects);
        string outDir = Path.Combine(ctx.WorkDir, "overhead");
        Directory.CreateDirectory(outDir);
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 1024L << 20 });
        var metrics = new PipelineMetrics();
        using var recorder = new MetricRecorder(metrics.EndToEndSeconds) { CaptureAllocations = true };
        long tracks = 0;
        var figures = new List<RunFigures>[] { new(), new(), new() };

        async Task<double> DecodeAlone()
        {
            BenchMeasure.Settle();
            var stamps = new (long Time, long Allocated)[frames];
            var sw = Stopwatch.StartNew();
            await using var source = new VideoSource(Source(clip), pool);
            source.Start();
            long n = 0;
            while (await source.Frames.WaitToReadAsync().ConfigureAwait(false))
                while (source.Frames.TryRead(out var f))
                {
                    f.Dispose();
                    if (n < frames) stamps[n] = (Stopwatch.GetTimestamp(), GC.GetTotalAllocatedBytes(precise: false));
                    n++;
                }
            await source.Frames.Completion.ConfigureAwait(false);
            if (n != frames) throw new InvalidOperationException($"decoding gave {n} of {frames} frames");
            var run = Figures(stamps, n / sw.Elapsed.TotalSeconds);
            figures[0].Add(run);
            return run.SteadyFps;
        }

        // full: zone, line and the two file sinks; bare: the stream loop alone (detector, tracker, events), no sinks, no analytics.
        async Task<double> Pipeline(bool full)
        {
            BenchMeasure.Settle();
            var config = new SvConfig
            {
                Instance = "bench",
                Http = new HttpConfig { Listen = "" },
                Detector = new DetectorStageOptions { Model = "detections-file", DetectionsFile = det },
                Sinks = full
                    ? new SinksConfig
                    {
                        Events = new JsonLinesOptions { Path = Path.Combine(outDir, "{stream}.events.jsonl") },
                        Tracks = Path.Combine(outDir, "{stream}.tracks.txt"),
                        Preview = null,
                    }
                    : new SinksConfig { Preview = null },
                Streams = [new StreamConfig { Source = Source(clip), Analytics = full ? Analytics : new() }],
            };
            recorder.Take();
            recorder.Recording = true;
            var sw = Stopwatch.StartNew();
            await using var host = await ServiceHost.StartAsync(config, ctx.Loggers, metrics).ConfigureAwait(false);
            var streams = host.Manager.Streams;
            await Task.WhenAll(streams.Select(s => s.Completion)).ConfigureAwait(false);
            double seconds = sw.Elapsed.TotalSeconds;
            recorder.Recording = false;
            var s = streams.Single();
            if (s.Error is not null) throw new InvalidOperationException($"pipeline failed: {s.Error}");
            if (s.Stats.Frames != frames) throw new InvalidOperationException($"the pipeline analysed {s.Stats.Frames} of {frames} frames");
            tracks = s.Stats.Tracks;
            // The stream loop records each frame's latency when it hands the frame to the sinks: those are its frame times.
            var stamps = recorder.Take().Where(x => x.Stream == "overhead").Select(x => (x.Timestamp, x.Allocated)).ToArray();
            var run = Figures(stamps, frames / seconds);
            figures[full ? 1 : 2].Add(run);
            return run.SteadyFps;
        }

        ctx.Progress("overhead: warm-up");
        await DecodeAlone().ConfigureAwait(false);
        await Pipeline(full: true).ConfigureAwait(false);
        foreach (var f in figures) f.Clear();
        ctx.Progress($"overhead: {ctx.CheapRuns} runs of {frames} frames each way");
        var samples = await BenchMeasure.InterleaveAsync(ctx.CheapRuns, ctx.Ct, DecodeAlone, () => Pipeline(full: true), () => Pipeline(full: false)).ConfigureAwait(false);
        var decode = Summary.Of(samples[0]);
        var pipe = Summary.Of(samples[1]);
        var decodeWall = Summary.Of(figures[0].Select(f => f.WallFps));
        var pipeWall = Summary.Of(figures[1].Select(f => f.WallFps));
        var loop = Summary.Of(samples[2]);
        var loopWall = Summary.Of(figures[2].Select(f => f.WallFps));
        double ratio = pipe.Median / decode.Median;

        var table = new BenchTable
        {
            Name = Name,
            Title = "whole pipeline with a zero-cost (replayed) detector, no encoding sink, vs decoding alone (720p file, frames/s)",
            Baseline = "decode alone: VideoSource (file, lossless) -> channel -> consumer returning each frame to the pool",
        };
        table.Column("path", "path").Column("fps", "steady frames/s").Column("wall", "start-to-end frames/s").Column("alloc", "bytes allocated/frame", 0)
             .Column("ratio", "ratio vs decode (steady)", 3).Column("wall_ratio", "ratio (start-to-end)", 3);
        table.Row(("path", "decode alone (baseline)"), ("fps", decode), ("wall", decodeWall), ("alloc", Summary.Of(figures[0].Select(f => f.AllocPerFrame)).Median),
            ("ratio", 1.0), ("wall_ratio", 1.0));
        table.Row(("path", $"service pipeline: decode -> replayed detector ({Objects} objects) -> ByteTracker -> events, zone + line -> events + MOT sinks"),
            ("fps", pipe), ("wall", pipeWall), ("alloc", Summary.Of(figures[1].Select(f => f.AllocPerFrame)).Median), ("ratio", ratio), ("wall_ratio", pipeWall.Median / decodeWall.Median));
        table.Row(("path", "  the same without sinks, zone and line (source -> batcher -> tracker -> events)"),
            ("fps", loop), ("wall", loopWall), ("alloc", Summary.Of(figures[2].Select(f => f.AllocPerFrame)).Median), ("ratio", loop.Median / decode.Median), ("wall_ratio", loopWall.Median / decodeWall.Median));
        table.Targets.Add(new BenchTarget("pipeline / decode-only throughput", ">= 0.9", ratio, ratio >= 0.9,
            string.Create(CultureInfo.InvariantCulture, $"{pipe.Median:0} vs {decode.Median:0} fps in steady state; start to end {pipeWall.Median / decodeWall.Median:0.000}")));
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"{frames} frames of testsrc2 1280x720 per run, {tracks} tracks; the pipeline is ServiceHost with one file stream (HTTP off)"));
        table.Notes.Add("steady: from the frame at 10 % of the clip to the last, timed where each side hands its frames on (decode: the consumer; pipeline: the stream loop's hand-over to the sinks); start-to-end: from start to the end of the stream, opening, model/detections load and sink finalising included");
        table.Notes.Add("bytes allocated per frame: the whole process over the steady part (GC.GetTotalAllocatedBytes), every thread included");
        ctx.Add(table);
    }

    private static RunFigures Figures(IReadOnlyList<(long Time, long Allocated)> stamps, double wallFps)
    {
        int n = stamps.Count;
        int k = Math.Max(1, n / 10), m = n - 1;
        if (m <= k) return new RunFigures(wallFps, wallFps, double.NaN);
        double seconds = (double)(stamps[m].Time - stamps[k].Time) / Stopwatch.Frequency;
        return new RunFigures((m - k) / seconds, wallFps, (double)(stamps[m].Allocated - stamps[k].Allocated) / (m - k));
    }

    private static SourceOptions Source(string clip) => new() { Id = "overhead", Uri = clip, Mode = SourceMode.File };

    /// <summary>A zone over the middle of a 1280x720 picture and a vertical counting line through it: the analytics a typical stream has.</summary>
    public static readonly AnalyticsOptions Analytics = new()
    {
        Zones = [new ZoneOptions { Name = "centre", Polygon = [(320f, 180f), (960f, 180f), (960f, 540f), (320f, 540f)] }],
        Lines = [new LineOptions { Name = "middle", From = (640f, 0f), To = (640f, 720f) }],
    };
}
