using System.Globalization;

namespace StreamVision.Bench;

/// <summary>
/// capacity: the largest number of live 720p 25 fps streams the service analyses in real time on this machine, searched
/// (grow, then bisect) for each workload: BlazeFace (shared, batched) with the detector on every frame, every 3rd, every
/// 5th and only on motion, and the YOLOv8n-sized workload at interval 1, 3 and 5. Each stream has a tracker, a zone, a
/// line and a JSON-lines events sink, as in the streams bench, whose child-process runner runs every probe: a fresh
/// process, a warm-up, then a measured window. A probe keeps up when under 1 % of the frames are dropped, p99 latency
/// (capture to hand-over to the sinks) is under 200 ms and at least 99 % of real time is analysed; the failing probe
/// just above the capacity is run once more before the search concludes.
/// </summary>
public static class CapacityBenchmark
{
    public const string Name = "capacity";
    public const double MaxDropRate = 0.01;
    public const double MaxP99Ms = 200;
    public const double MinRealTime = 0.99;

    /// <summary>One workload searched: the model, the detect schedule and the live source's decoder threads.</summary>
    public sealed record Workload(string Model, string Schedule, int Interval, bool MotionGating, bool Yolo, int DecoderThreads = 0)
    {
        public string Label => $"{Model}, {Schedule}{(DecoderThreads > 0 ? $", decoder threads {DecoderThreads}" : "")}";
    }

    /// <summary>One probe: N streams of one workload, one fresh child process.</summary>
    public sealed record Probe(int Streams, StreamsBenchmark.RunResult Result, bool Confirmation)
    {
        public double RealTime => Result.AggregateFps / (Streams * BenchInputs.Fps);
        public bool KeepsUp => Result.DropRate < MaxDropRate && Result.LatencyP99Ms < MaxP99Ms && RealTime >= MinRealTime;

        /// <summary>Why it did not keep up (empty when it did).</summary>
        public string Why => string.Join(", ", new[]
        {
            Result.DropRate >= MaxDropRate ? string.Create(CultureInfo.InvariantCulture, $"drops {100 * Result.DropRate:0.#} %") : null,
            Result.LatencyP99Ms >= MaxP99Ms ? string.Create(CultureInfo.InvariantCulture, $"p99 {Result.LatencyP99Ms:0} ms") : null,
            RealTime < MinRealTime ? string.Create(CultureInfo.InvariantCulture, $"{100 * RealTime:0.#} % of real time") : null,
        }.Where(s => s is not null));
    }

    /// <summary>What the search of one workload found.</summary>
    public sealed record SearchResult(Workload Workload, int Capacity, List<Probe> Probes, bool HitLimit)
    {
        /// <summary>Resident memory added per stream: the least-squares slope of the window's mean RSS over N (NaN with fewer than two distinct N).</summary>
        public double MbPerStream => Slope(Probes.Select(p => ((double)p.Streams, p.Result.MeanRssMb)).ToList());
    }

    /// <summary>The workloads, in the order they are searched.</summary>
    public static IReadOnlyList<Workload> Workloads { get; } =
    [
        new("blazeface", "every frame", 1, false, false),
        new("blazeface", "every frame", 1, false, false, DecoderThreads: 1),
        new("blazeface", "interval 3", 3, false, false),
        new("blazeface", "interval 5", 5, false, false),
        new("blazeface", "motion gating", 1, true, false),
        new("yolov8n-sized", "every frame", 1, false, true),
        new("yolov8n-sized", "interval 3", 3, false, true),
        new("yolov8n-sized", "interval 5", 5, false, true),
    ];

    /// <summary>Seconds of warm-up and of measurement per probe.</summary>
    public static (double Warmup, double Window) Timing(bool quick) => quick ? (1.0, 1.5) : (3.0, 10.0);

    /// <summary>Most probes one search may run (bounds the bench's time), and the largest N it tries.</summary>
    public static (int Probes, int MaxStreams) Limits(bool quick) => quick ? (3, 2) : (7, 48);

    public static async Task RunAsync(BenchContext ctx)
    {
        string clip = ctx.Inputs.Faces720;
        var (warmup, window) = Timing(ctx.Quick);
        var (maxProbes, maxStreams) = Limits(ctx.Quick);
        string? yolo = null;
        string? yoloError = null;
        try
        {
            yolo = ctx.Inputs.YoloWorkload;
        }
        catch (InvalidOperationException ex)
        {
            yoloError = ex.Message;
            ctx.Progress($"capacity: no YOLO workload: {ex.Message}");
        }
        var searches = new List<SearchResult>();
        foreach (var w in Workloads)
        {
            if (w.Yolo && yolo is null) continue;
            // Detecting less can only add streams: start where the same model's previous schedule ended.
            int start = ctx.Quick ? 1 : searches.Where(s => s.Workload.Model == w.Model).Select(s => s.Capacity).DefaultIfEmpty(w.Yolo ? 1 : 4).Max();
            int limit = ctx.Quick && w != Workloads[0] ? 1 : maxStreams;
            var search = await SearchAsync(w, Math.Clamp(start, 1, limit), limit, maxProbes, async n =>
            {
                ctx.Progress($"capacity: {w.Label}: {n} live stream(s), {warmup:0.#} s warm-up + {window:0.#} s measured");
                var spec = new StreamsBenchmark.Scenario
                {
                    Mode = "live",
                    Streams = n,
                    Clip = clip,
                    Model = w.Yolo ? yolo : null,
                    DetectInterval = w.Interval,
                    MotionGating = w.MotionGating,
                    DecoderThreads = w.DecoderThreads,
                    WarmupSeconds = warmup,
                    WindowSeconds = window,
                };
                var res = ctx.Options.InProcess
                    ? await StreamsBenchmark.RunScenarioAsync(spec, 1, ctx.WorkDir, ctx.Quick, ctx.Loggers, ctx.Ct).ConfigureAwait(false)
                    : await StreamsBenchmark.RunChildAsync(ctx, spec).ConfigureAwait(false);
                return res.Runs.Single();
            }).ConfigureAwait(false);
            ctx.Progress($"capacity: {w.Label}: {search.Capacity} stream(s) in real time ({search.Probes.Count} probes)");
            searches.Add(search);
        }
        ctx.Add(SummaryTable(searches, ctx.Quick, yoloError));
        ctx.Add(ProbeTable(searches, warmup, window));
    }

    /// <summary>
    /// Grows N from <paramref name="start"/> (doubling while probes keep up), then bisects between the largest N that
    /// kept up and the smallest that did not; the failing N just above the capacity is probed once more, and when that
    /// run keeps up the search goes on above it. At most <paramref name="maxProbes"/> probes (plus one confirmation).
    /// </summary>
    public static async Task<SearchResult> SearchAsync(Workload w, int start, int maxStreams, int maxProbes, Func<int, Task<StreamsBenchmark.RunResult>> probe)
    {
        if (start < 1 || start > maxStreams) throw new ArgumentOutOfRangeException(nameof(start), start, $"must be 1..{maxStreams}");
        var probes = new List<Probe>();
        var verdict = new Dictionary<int, (bool KeepsUp, bool Confirmed)>();
        int lo = 0;            // largest N that kept up
        int? hi = null;        // smallest N that did not
        int next = start;
        bool limitHit = false;
        while (true)
        {
            if (probes.Count(p => !p.Confirmation) >= maxProbes && !(hi == lo + 1 && !verdict[hi.Value].Confirmed))
            {
                limitHit = true;
                break;
            }
            bool confirming = verdict.ContainsKey(next);
            var p = new Probe(next, await probe(next).ConfigureAwait(false), confirming);
            probes.Add(p);
            if (p.KeepsUp)
            {
                verdict[next] = (true, confirming);
                lo = Math.Max(lo, next);
                // A failure the confirmation overturned: the next failure above (if any) bounds the search again.
                hi = verdict.Where(v => !v.Value.KeepsUp && v.Key > lo).Select(v => (int?)v.Key).Min();
            }
            else
            {
                verdict[next] = (false, confirming);
                hi = hi is null ? next : Math.Min(hi.Value, next);
            }
            if (hi is null)
            {
                if (lo >= maxStreams)
                {
                    limitHit = true;
                    break;
                }
                next = Math.Min(maxStreams, Math.Max(lo + 1, lo * 2));
            }
            else if (hi.Value - lo > 1) next = (lo + hi.Value) / 2;
            else if (!verdict[hi.Value].Confirmed) next = hi.Value;
            else break;
        }
        return new SearchResult(w, lo, probes, limitHit);
    }

    private static BenchTable SummaryTable(List<SearchResult> searches, bool quick, string? yoloError)
    {
        var table = new BenchTable
        {
            Name = Name,
            Title = "live capacity: 720p 25 fps streams analysed in real time (drops < 1 %, p99 latency < 200 ms), each with a tracker, a zone, a line and JSON-lines events",
            Baseline = "real time: N x 25 frames/s",
        };
        table.Column("model", "model").Column("schedule", "detector runs on").Column("decoder", "decoder threads").Column("capacity", "streams in real time", 0)
             .Column("cap_p99", "p99 ms at capacity", 0).Column("cap_cpu", "CPU % at capacity", 0).Column("over", "first N over").Column("realtime1", "real time at 1 stream %", 0)
             .Column("mb_stream", "MiB per stream", 1).Column("cpu_ms", "CPU ms per frame", 2).Column("cpu_bound", "streams the CPU cost allows", 1).Column("stages", "ms per frame by stage, at capacity").Column("probes", "probes", 0);
        foreach (var s in searches)
        {
            var at = s.Probes.Where(p => p.Streams == s.Capacity && p.KeepsUp).MaxBy(p => p.Result.AggregateFps);
            var over = s.Probes.Where(p => p.Streams == s.Capacity + 1).ToList();
            var one = s.Probes.Where(p => p.Streams == 1).Select(p => p.RealTime).DefaultIfEmpty(double.NaN).Max();
            string overText = over.Count > 0
                ? $"{s.Capacity + 1}: {string.Join("; ", over.Select(p => p.KeepsUp ? "kept up" : p.Why))}"
                : s.HitLimit ? $"not reached (probe limit or {Limits(quick).MaxStreams} streams)" : "–";
            table.Row(("model", s.Workload.Model), ("schedule", s.Workload.Schedule), ("decoder", s.Workload.DecoderThreads == 0 ? "auto" : s.Workload.DecoderThreads.ToString(CultureInfo.InvariantCulture)),
                ("capacity", s.Capacity), ("cap_p99", at?.Result.LatencyP99Ms ?? double.NaN), ("cap_cpu", at is null ? double.NaN : 100 * at.Result.CpuBusy), ("over", overText),
                ("realtime1", 100 * Math.Min(1, one)), ("mb_stream", s.MbPerStream),
                ("cpu_ms", CpuMs(s)), ("cpu_bound", CpuBound(CpuMs(s))),
                ("stages", at is null ? "–" : Stages(at.Result)), ("probes", s.Probes.Count));
        }
        table.Notes.Add("search: grow N (doubling) while probes keep up, then bisect; the failing N just above the capacity runs once more (\"first N over\" lists both runs) and the search goes on above it when the second run keeps up");
        table.Notes.Add("keeps up: dropped frames < 1 %, p99 latency (capture to hand-over to the sinks) < 200 ms and analysed frames >= 99 % of N x 25 frames/s");
        table.Notes.Add("real time at 1 stream: analysed frames over the 25 frames/s of one live stream (below 100 % the rest were dropped); MiB per stream: least-squares slope of the measured window's mean RSS over N, all probes of the search");
        table.Notes.Add("CPU ms per frame: the probe process's CPU time over the frames its sources decoded, median over the probes that kept up — what one frame costs whatever else the machine ran; streams the CPU cost allows = cores x 1000 / (CPU ms per frame x 25): the bound on an idle machine, where the search's figure is what this run's share of the cores carried");
        table.Notes.Add("detect interval N: BlazeFace/YOLO on every Nth frame, the tracker predicts the frames between; motion gating: the detector runs only on frames where MOG2 (quarter size) sees change, and at least every 25 frames — the faces clip is a film with camera moves and cuts, so most of its frames move");
        table.Notes.Add("yolov8n-sized: the published YOLOv8n layer structure with random weights ([1,84,8400], tools/make-yolo-workload): it costs what YOLOv8n costs but finds nothing, so its tracker and zones run on empty detections");
        if (yoloError is not null) table.Notes.Add($"yolov8n-sized not measured: {yoloError}");
        table.Notes.Add("service defaults otherwise: ONNX Runtime threads one per core (no spinning), batcher max 8 frames / 5 ms, frame pool cap 1 GiB; decoder threads: the looped clip's H.264 decoder (lavfi movie dec_threads), auto = one per core");
        return table;
    }

    private static BenchTable ProbeTable(List<SearchResult> searches, double warmup, double window)
    {
        var table = new BenchTable
        {
            Name = "capacity-probes",
            Title = "live capacity: every probe of the searches, in the order run",
            Baseline = "real time: N x 25 frames/s",
        };
        table.Column("workload", "workload").Column("streams", "streams", 0).Column("verdict", "verdict").Column("drop", "dropped %", 1).Column("p50", "latency p50 ms", 0)
             .Column("p99", "latency p99 ms", 0).Column("agg_fps", "aggregate frames/s", 1).Column("realtime", "real time %", 1).Column("cpu", "CPU busy % (process)", 0).Column("cpu_ms", "CPU ms per frame", 2)
             .Column("machine", "CPU busy % (machine)", 0).Column("rss_mb", "RSS MiB", 0).Column("peak_mb", "peak RSS MiB", 0)
             .Column("stages", "ms per frame by stage");
        foreach (var s in searches)
            foreach (var p in s.Probes)
                table.Row(("workload", s.Workload.Label), ("streams", p.Streams), ("verdict", (p.KeepsUp ? "keeps up" : "over: " + p.Why) + (p.Confirmation ? " (second run)" : "")),
                    ("drop", 100 * p.Result.DropRate), ("p50", p.Result.LatencyP50Ms), ("p99", p.Result.LatencyP99Ms), ("agg_fps", p.Result.AggregateFps), ("realtime", 100 * p.RealTime),
                    ("cpu", 100 * p.Result.CpuBusy), ("cpu_ms", p.Result.CpuMsPerFrame), ("machine", 100 * p.Result.MachineBusy), ("rss_mb", p.Result.MeanRssMb), ("peak_mb", p.Result.PeakRssMb), ("stages", Stages(p.Result)));
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"each probe: a fresh child process (streamvision bench --worker streams), {warmup:0.#} s warm-up, then {window:0.#} s measured; the streams loop the faces clip (720p 25 fps H.264) through lavfi in real time"));
        table.Notes.Add("ms per frame by stage: mean wall time per frame of each stage after the source over the window (sv_stage_seconds; the source's decode time is left out: a live read waits for the next frame's time); detect includes the wait for the cross-stream batch");
        table.Notes.Add("CPU busy: CPU time over the window as a share of all cores, of the probe's process and of the whole machine (the difference is other processes); CPU ms per frame: the process's CPU time over the frames its sources decoded (what a frame costs, whatever else ran)");
        return table;
    }

    private static double CpuMs(SearchResult s) => Summary.Of(s.Probes.Where(p => p.KeepsUp).Select(p => p.Result.CpuMsPerFrame)).Median;

    /// <summary>Streams of 25 frames/s that this machine's cores could carry at <paramref name="msPerFrame"/> of CPU each, were nothing else running.</summary>
    public static double CpuBound(double msPerFrame) => msPerFrame > 0 ? Environment.ProcessorCount * 1000 / (msPerFrame * BenchInputs.Fps) : double.NaN;

    /// <summary>The stage times of a run as text, in the order a frame passes them.</summary>
    public static string Stages(StreamsBenchmark.RunResult r)
    {
        string[] order = ["enhance", "tamper", "detect", "segment", "track", "classify"];
        // Not decode: a live source's read waits for the next frame's time, so its wall time is mostly that wait.
        return string.Join(" ", r.StageMs.Where(kv => kv.Key != "decode").OrderBy(kv => Array.IndexOf(order, kv.Key) is var i && i >= 0 ? i : order.Length).ThenBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {kv.Value:0.00}")));
    }

    private static double Slope(IReadOnlyList<(double X, double Y)> points)
    {
        var pts = points.Where(p => double.IsFinite(p.Y)).ToList();
        if (pts.Select(p => p.X).Distinct().Count() < 2) return double.NaN;
        double mx = pts.Average(p => p.X), my = pts.Average(p => p.Y);
        double sxx = pts.Sum(p => (p.X - mx) * (p.X - mx)), sxy = pts.Sum(p => (p.X - mx) * (p.Y - my));
        return sxy / sxx;
    }
}
