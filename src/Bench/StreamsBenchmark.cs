using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.App.Service;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Sinks;

namespace StreamVision.Bench;

/// <summary>
/// streams: N concurrent 720p streams through the service (ServiceHost: one shared BlazeFace detector behind the
/// cross-stream batcher, a tracker, a zone and a counting line and a JSON-lines events sink per stream; no video encoding,
/// no preview, HTTP off), as live
/// sources paced at their native 25 fps (the clip looped through lavfi <c>movie=...,realtime</c>: drop-oldest channels)
/// and as files read as fast as possible (lossless). Aggregate and per-stream frames/s, drop rate, end-to-end latency
/// (capture to hand-over to the sinks, as the sv_end_to_end_latency_seconds histogram records it) and peak RSS. Every
/// run of every (mode, N) is a fresh child process, so its memory figure is that configuration's alone.
/// </summary>
public static class StreamsBenchmark
{
    public const string Name = "streams";
    public const string ResultMarker = "SVBENCH-RESULT ";

    /// <summary>What one measured run of one (mode, N) scenario gave.</summary>
    public sealed record RunResult
    {
        public double Seconds { get; init; }
        public long Frames { get; init; }
        public double AggregateFps { get; init; }
        public double[] PerStreamFps { get; init; } = [];
        /// <summary>Frames the sources decoded per second, all streams (live: real time is N x 25).</summary>
        public double DecodedFps { get; init; }
        /// <summary>Frames the sources dropped (live: the consumer lagged) over frames they decoded, in the measured window.</summary>
        public double DropRate { get; init; }
        public double LatencyP50Ms { get; init; }
        public double LatencyP99Ms { get; init; }
        public double PeakRssMb { get; init; }
        public double MeanRssMb { get; init; }
        /// <summary>CPU time of this process over the measured window, as a fraction of all cores (1 = every core busy).</summary>
        public double CpuBusy { get; init; }
        /// <summary>The whole machine's busy fraction over the window (/proc/stat): what other processes took shows here too.</summary>
        public double MachineBusy { get; init; }
        /// <summary>
        /// CPU time of this process per frame the sources decoded, milliseconds: what a frame costs however busy the machine
        /// was (every decoded frame was decoded; dropped ones skip the rest, so drops lower it).
        /// </summary>
        public double CpuMsPerFrame { get; init; }
        /// <summary>Mean wall time per frame in each stage over the window, milliseconds (decode, detect, track, ...: the sv_stage_seconds and sv_decode_seconds histograms).</summary>
        public Dictionary<string, double> StageMs { get; init; } = new();
    }

    /// <summary>
    /// What one child run measures: the mode, the number of streams, the clip, and how each stream is analysed (model,
    /// detect schedule, decoder threads) and for how long. The streams bench uses the defaults; capacity varies the rest.
    /// </summary>
    public sealed record Scenario
    {
        public string Mode { get; init; } = "live";
        public int Streams { get; init; } = 1;
        public string Clip { get; init; } = "";
        /// <summary>The detector model (<c>detector.model</c>); null = the service's default (BlazeFace).</summary>
        public string? Model { get; init; }
        /// <summary><c>streams[].detect.interval</c>.</summary>
        public int DetectInterval { get; init; } = 1;
        /// <summary><c>streams[].detect.motion_gating</c>.</summary>
        public bool MotionGating { get; init; }
        /// <summary>Live only: threads of the looped clip's decoder (the lavfi movie source's <c>dec_threads</c>); 0 = FFmpeg picks (one per core).</summary>
        public int DecoderThreads { get; init; }
        /// <summary><c>detector.threads</c> (ONNX Runtime intra-op threads); null = the service's default (one per core).</summary>
        public int? DetectorThreads { get; init; }
        /// <summary>Live only: seconds of warm-up and of measurement; null = <see cref="LiveTiming"/>.</summary>
        public double? WarmupSeconds { get; init; }
        public double? WindowSeconds { get; init; }
    }

    public sealed record ScenarioResult
    {
        public string Mode { get; init; } = "";
        public int Streams { get; init; }
        public List<RunResult> Runs { get; init; } = new();
    }

    /// <summary>Seconds of warm-up and of measurement for live runs.</summary>
    public static (double Warmup, double Window) LiveTiming(bool quick) => quick ? (1.0, 2.0) : (2.5, 5.0);

    public static async Task RunAsync(BenchContext ctx)
    {
        string liveClip = ctx.Inputs.Faces720;
        string fileClip = ctx.Inputs.Faces720Short;
        long fileFrames;
        using (var r = Native.MediaReader.Open(fileClip)) fileFrames = DecodeBenchmark.ReaderPass(fileClip, r.Info, 0).Frames;
        var (warmup, window) = LiveTiming(ctx.Quick);
        var table = new BenchTable
        {
            Name = Name,
            Title = "concurrent 720p streams: decode + BlazeFace (shared, batched) + tracker + zone/line + events per stream",
            Baseline = "live: real time (N x 25 fps); fast: the same pipeline with 1 stream",
        };
        table.Column("mode", "mode").Column("streams", "streams", 0).Column("decoded_fps", "sources decoded frames/s").Column("agg_fps", "aggregate analysed frames/s").Column("stream_fps", "per-stream frames/s")
             .Column("drop", "dropped %", 1).Column("p50", "latency p50 ms", 0).Column("p99", "latency p99 ms", 0).Column("rss_mb", "peak RSS MiB", 0)
             .Column("realtime_fps", "real-time frames/s", 0).Column("ratio", "ratio", 3);
        var scenarios = new[] { "live", "fast" }.SelectMany(mode => ctx.Options.StreamCounts.Select(n => (Mode: mode, N: n))).ToList();
        var results = scenarios.ToDictionary(s => s, s => new ScenarioResult { Mode = s.Mode, Streams = s.N });
        // Run r of every scenario, then run r + 1 of every scenario: a change in machine load spreads over all of them.
        for (int run = 0; run < ctx.Runs; run++)
        {
            foreach (var (mode, n) in scenarios)
            {
                string clip = mode == "live" ? liveClip : fileClip;
                ctx.Progress(mode == "live"
                    ? $"streams: run {run + 1}/{ctx.Runs}: {n} live stream(s), {warmup:0.#} s warm-up + {window:0.#} s measured"
                    : $"streams: run {run + 1}/{ctx.Runs}: {n} file stream(s) of {fileFrames} frames, as fast as possible");
                var spec = new Scenario { Mode = mode, Streams = n, Clip = clip };
                var res = ctx.Options.InProcess
                    ? await RunScenarioAsync(spec, 1, ctx.WorkDir, ctx.Quick, ctx.Loggers, ctx.Ct).ConfigureAwait(false)
                    : await RunChildAsync(ctx, spec).ConfigureAwait(false);
                results[(mode, n)].Runs.AddRange(res.Runs);
            }
        }
        double fastOne = double.NaN;
        foreach (var (mode, n) in scenarios)
        {
            var res = results[(mode, n)];
            var agg = Summary.Of(res.Runs.Select(x => x.AggregateFps));
            var perStream = Summary.Of(res.Runs.SelectMany(x => x.PerStreamFps));
            double drop = 100 * Summary.Of(res.Runs.Select(x => x.DropRate)).Median;
            double realtime = n * BenchInputs.Fps;
            if (mode == "fast" && double.IsNaN(fastOne)) fastOne = agg.Median / n;
            double ratio = mode == "live" ? agg.Median / realtime : agg.Median / (fastOne * n);
            table.Row(("mode", mode), ("streams", n), ("decoded_fps", Summary.Of(res.Runs.Select(x => x.DecodedFps)).Median), ("agg_fps", agg), ("stream_fps", perStream), ("drop", drop),
                ("p50", Summary.Of(res.Runs.Select(x => x.LatencyP50Ms)).Median), ("p99", Summary.Of(res.Runs.Select(x => x.LatencyP99Ms))),
                ("rss_mb", Summary.Of(res.Runs.Select(x => x.PeakRssMb))), ("realtime_fps", mode == "live" ? realtime : new BenchCell()), ("ratio", ratio));
        }
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"live: each stream loops the faces clip through lavfi (movie, realtime) at 25 fps; {warmup:0.#} s warm-up, then {window:0.#} s measured; ratio = aggregate / real time"));
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"fast: each stream reads a {fileFrames}-frame 720p file losslessly; timed from start to the last stream's end; ratio = aggregate / (N x the 1-stream figure)"));
        table.Notes.Add("per-stream frames/s: median over streams and runs [slowest..fastest]; latency: capture (decoded) to hand-over to the sinks, over every frame of the runs; dropped: frames the sources dropped because analysis lagged");
        table.Notes.Add(ctx.Options.InProcess
            ? "ran in this process (--in-process): peak RSS includes everything the bench did before"
            : "peak RSS: the kernel's high-water mark of a fresh child process per run of each (mode, N): runtime, model and everything the streams hold");
        table.Notes.Add("service defaults: decoder threads auto per stream, ONNX Runtime threads one per core, batcher max 8 frames / 5 ms; frame pool cap 1 GiB");
        ctx.Add(table);
    }

    /// <summary>
    /// Runs one run of one scenario in a fresh child process (<c>streamvision bench --worker streams --worker-spec JSON</c>)
    /// and reads its result line; in this process when the program cannot start itself again. The capacity search runs its
    /// probes through here too.
    /// </summary>
    public static async Task<ScenarioResult> RunChildAsync(BenchContext ctx, Scenario spec)
    {
        var psi = SelfStartInfo();
        if (psi is null)
        {
            ctx.Progress("streams: cannot start this program again as a child process; running in process");
            return await RunScenarioAsync(spec, 1, ctx.WorkDir, ctx.Quick, ctx.Loggers, ctx.Ct).ConfigureAwait(false);
        }
        foreach (var a in new[] { "bench", "--worker", Name, "--worker-spec", JsonSerializer.Serialize(spec, BenchReport.JsonOptions),
                                  "--runs", "1", "--work-dir", ctx.WorkDir })
            psi.ArgumentList.Add(a);
        if (ctx.Quick) psi.ArgumentList.Add("--quick");
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start the bench worker process");
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        ScenarioResult? result = null;
        var other = new List<string>();
        try
        {
            while (await p.StandardOutput.ReadLineAsync(ctx.Ct).ConfigureAwait(false) is { } line)
            {
                if (line.StartsWith(ResultMarker, StringComparison.Ordinal))
                    result = JsonSerializer.Deserialize<ScenarioResult>(line[ResultMarker.Length..], BenchReport.JsonOptions);
                else if (line.Length > 0) other.Add(line);
            }
            await p.WaitForExitAsync(ctx.Ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        string err = await stderr.ConfigureAwait(false);
        foreach (var l in other.Concat(err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))) ctx.Log.WriteLine("  worker: " + l);
        if (p.ExitCode != 0 || result is null)
            throw new InvalidOperationException($"streams worker ({spec.Mode}, {spec.Streams}) exited {p.ExitCode} without a result{(err.Length > 0 ? ": " + err.Trim().Split('\n')[^1] : "")}");
        return result;
    }

    /// <summary>How to start this program again: the app host, or <c>dotnet streamvision.dll</c>. Null when neither is possible.</summary>
    private static ProcessStartInfo? SelfStartInfo()
    {
        string dll = typeof(StreamsBenchmark).Assembly.Location;
        string? exe = Environment.ProcessPath;
        if (string.IsNullOrEmpty(dll)) return null;
        if (exe is not null && Path.GetFileNameWithoutExtension(exe) == Path.GetFileNameWithoutExtension(dll)) return new ProcessStartInfo(exe);
        if (!File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))) return null;
        var psi = new ProcessStartInfo(exe is not null && Path.GetFileNameWithoutExtension(exe) == "dotnet" ? exe : "dotnet");
        psi.ArgumentList.Add(dll);
        return psi;
    }

    /// <summary>The worker's side: runs the scenario and prints its result line. Returns the exit code.</summary>
    public static async Task<int> WorkerAsync(Scenario spec, int runs, string workDir, bool quick, CancellationToken ct)
    {
        using var loggers = BenchRunner.CreateLoggers();
        var result = await RunScenarioAsync(spec, runs, workDir, quick, loggers, ct).ConfigureAwait(false);
        Console.Out.WriteLine(ResultMarker + JsonSerializer.Serialize(result, new JsonSerializerOptions(BenchReport.JsonOptions) { WriteIndented = false }));
        Console.Out.Flush();
        return 0;
    }

    /// <summary>Runs <paramref name="runs"/> measured runs of <paramref name="spec"/> in this process.</summary>
    public static async Task<ScenarioResult> RunScenarioAsync(Scenario spec, int runs, string workDir, bool quick, ILoggerFactory loggers, CancellationToken ct)
    {
        string mode = spec.Mode, clip = spec.Clip;
        int n = spec.Streams;
        if (mode is not ("live" or "fast")) throw new ArgumentException($"mode must be live or fast, got '{mode}'", nameof(spec));
        if (n < 1) throw new ArgumentException($"streams must be at least 1, got {n}", nameof(spec));
        Native.NativeInfo.SetFfmpegLogging(false);
        bool live = mode == "live";
        var (warmup, window) = LiveTiming(quick);
        warmup = spec.WarmupSeconds ?? warmup;
        window = spec.WindowSeconds ?? window;
        string outDir = Path.Combine(workDir, $"streams-{mode}-{n}-{Guid.NewGuid().ToString("N")[..6]}");
        Directory.CreateDirectory(outDir);
        var result = new ScenarioResult { Mode = mode, Streams = n };
        var metrics = new PipelineMetrics();
        using var recorder = new MetricRecorder(metrics.EndToEndSeconds, metrics.DecodeSeconds, metrics.StageSeconds);
        for (int run = 0; run < runs; run++)
        {
            BenchMeasure.Settle();
            bool peakReset = BenchMeasure.ResetPeakMemory();
            var config = new SvConfig
            {
                Instance = "bench",
                Http = new HttpConfig { Listen = "" },
                Detector = Detector(spec),
                Sinks = new SinksConfig { Events = new JsonLinesOptions { Path = Path.Combine(outDir, "{stream}.events.jsonl") }, Preview = null },
                Streams = Enumerable.Range(1, n).Select(i => new StreamConfig
                {
                    Source = new SourceOptions { Id = $"s{i}", Uri = live ? BenchInputs.LiveLoop(clip, spec.DecoderThreads) : clip, Mode = live ? SourceMode.Live : SourceMode.File, DecoderThreads = live ? 0 : spec.DecoderThreads },
                    Analytics = OverheadBenchmark.Analytics,
                    Detect = new() { Interval = spec.DetectInterval, MotionGating = spec.MotionGating },
                }).ToList(),
            };
            recorder.Take();
            await using var host = await ServiceHost.StartAsync(config, loggers, metrics).ConfigureAwait(false);
            var streams = host.Manager.Streams.ToList();
            if (streams.Count != n) throw new InvalidOperationException($"{n - streams.Count} of {n} streams did not start: {string.Join("; ", host.Manager.NotStarted.Select(x => x.Error))}");
            var rss = new List<double>();
            using var sampling = new CancellationTokenSource();
            RunResult r;
            if (live)
            {
                // Warm-up starts when every stream has analysed its first frame: on a busy machine opening the sources and
                // the model can take longer than the warm-up itself. At most 30 s; a stream still silent then counts as is.
                var firstFrames = Stopwatch.StartNew();
                while (streams.Any(h => h.Stats.Frames == 0) && firstFrames.Elapsed < TimeSpan.FromSeconds(30))
                    await Task.Delay(20, ct).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(warmup), ct).ConfigureAwait(false);
                var before = streams.Select(Snapshot).ToArray();
                recorder.Take();
                recorder.Recording = true;
                var sampler = SampleMemoryAsync(rss, sampling.Token);
                var cpu0 = Cpu();
                var sw = Stopwatch.StartNew();
                await Task.Delay(TimeSpan.FromSeconds(window), ct).ConfigureAwait(false);
                double seconds = sw.Elapsed.TotalSeconds;
                recorder.Recording = false;
                var after = streams.Select(Snapshot).ToArray();
                var cpu1 = Cpu();
                await sampling.CancelAsync().ConfigureAwait(false);
                await sampler.ConfigureAwait(false);
                var perStream = after.Select((a, i) => (a.Frames - before[i].Frames) / seconds).ToArray();
                long decoded = after.Select((a, i) => a.Decoded - before[i].Decoded).Sum();
                long dropped = after.Select((a, i) => a.Dropped - before[i].Dropped).Sum();
                r = Finish(perStream, seconds, decoded == 0 ? 0 : (double)dropped / decoded) with
                {
                    DecodedFps = decoded / seconds,
                    CpuBusy = (cpu1.Process - cpu0.Process).TotalSeconds / (seconds * Environment.ProcessorCount),
                    CpuMsPerFrame = decoded > 0 ? 1000 * (cpu1.Process - cpu0.Process).TotalSeconds / decoded : double.NaN,
                    MachineBusy = cpu1.MachineTotal > cpu0.MachineTotal ? (double)(cpu1.MachineBusy - cpu0.MachineBusy) / (cpu1.MachineTotal - cpu0.MachineTotal) : double.NaN,
                };
            }
            else
            {
                var sampler = SampleMemoryAsync(rss, sampling.Token);
                recorder.Recording = true;
                var cpu0 = Cpu();
                var sw = Stopwatch.StartNew();
                var done = streams.Select(s => s.Completion.ContinueWith(_ => sw.Elapsed.TotalSeconds, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)).ToArray();
                var ends = await Task.WhenAll(done).ConfigureAwait(false);
                double seconds = sw.Elapsed.TotalSeconds;
                var cpu1 = Cpu();
                recorder.Recording = false;
                await sampling.CancelAsync().ConfigureAwait(false);
                await sampler.ConfigureAwait(false);
                var failed = streams.FirstOrDefault(s => s.Error is not null);
                if (failed is not null) throw new InvalidOperationException($"stream {failed.Id} failed: {failed.Error}");
                long total = streams.Sum(s => s.Stats.Frames);
                r = Finish(streams.Select((s, i) => s.Stats.Frames / ends[i]).ToArray(), seconds, 0) with
                {
                    AggregateFps = total / seconds,
                    Frames = total,
                    DecodedFps = streams.Sum(s => s.Source.FramesDecoded) / seconds,
                    CpuBusy = (cpu1.Process - cpu0.Process).TotalSeconds / (seconds * Environment.ProcessorCount),
                    CpuMsPerFrame = 1000 * (cpu1.Process - cpu0.Process).TotalSeconds / Math.Max(1, streams.Sum(s => s.Source.FramesDecoded)),
                    MachineBusy = cpu1.MachineTotal > cpu0.MachineTotal ? (double)(cpu1.MachineBusy - cpu0.MachineBusy) / (cpu1.MachineTotal - cpu0.MachineTotal) : double.NaN,
                };
            }
            result.Runs.Add(r);

            RunResult Finish(double[] perStream, double seconds, double dropRate)
            {
                var samples = recorder.Take();
                var lat = samples.Where(s => s.Instrument == metrics.EndToEndSeconds.Name).Select(s => s.Value * 1000).OrderBy(v => v).ToArray();
                // Wall time per frame by stage (decode: the source's; detect includes waiting for the batch), mean over the window.
                var stages = samples.Where(s => s.Instrument != metrics.EndToEndSeconds.Name)
                    .GroupBy(s => s.Instrument == metrics.DecodeSeconds.Name ? "decode" : s.Label)
                    .ToDictionary(g => g.Key, g => g.Average(s => s.Value) * 1000);
                var (rssNow, peak) = BenchMeasure.Memory();
                double sampledMax = rss.Count > 0 ? rss.Max() : rssNow;
                return new RunResult
                {
                    Seconds = seconds,
                    Frames = (long)Math.Round(perStream.Sum() * seconds),
                    AggregateFps = perStream.Sum(),
                    PerStreamFps = perStream,
                    DropRate = dropRate,
                    LatencyP50Ms = Summary.Percentile(lat, 0.5),
                    LatencyP99Ms = Summary.Percentile(lat, 0.99),
                    PeakRssMb = peakReset ? Math.Max(peak, sampledMax) : sampledMax,
                    MeanRssMb = rss.Count > 0 ? rss.Average() : rssNow,
                    StageMs = stages,
                };
            }
        }
        return result;
    }

    private static Inference.DetectorStageOptions Detector(Scenario spec)
    {
        var d = spec.Model is null ? new Inference.DetectorStageOptions() : new Inference.DetectorStageOptions { Model = spec.Model };
        return spec.DetectorThreads is { } t ? d with { Session = d.Session with { IntraOpThreads = t } } : d;
    }

    /// <summary>This process's CPU time, and the machine's busy and total jiffies (/proc/stat; 0 where it cannot be read).</summary>
    private static (TimeSpan Process, long MachineBusy, long MachineTotal) Cpu()
    {
        using var self = Process.GetCurrentProcess();
        long busy = 0, total = 0;
        try
        {
            string? line = File.ReadLines("/proc/stat").FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            if (line is not null)
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
                total = f.Take(8).Sum();              // user nice system idle iowait irq softirq steal
                busy = total - f[3] - (f.Length > 4 ? f[4] : 0);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return (self.TotalProcessorTime, busy, total);
    }

    private static (long Frames, long Decoded, long Dropped) Snapshot(StreamHost h) =>
        (h.Stats.Frames, h.Source.FramesDecoded, h.Source.FramesDropped);

    private static async Task SampleMemoryAsync(List<double> samples, CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                samples.Add(BenchMeasure.Memory().RssMb);
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
