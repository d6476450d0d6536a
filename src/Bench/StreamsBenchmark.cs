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
                var res = ctx.Options.InProcess
                    ? await RunScenarioAsync(mode, n, 1, clip, ctx.WorkDir, ctx.Quick, ctx.Loggers, ctx.Ct).ConfigureAwait(false)
                    : await RunChildAsync(ctx, mode, n, clip).ConfigureAwait(false);
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

    /// <summary>Runs one run of one scenario in a child process (<c>streamvision bench --worker streams ...</c>) and reads its result line.</summary>
    private static async Task<ScenarioResult> RunChildAsync(BenchContext ctx, string mode, int n, string clip)
    {
        var psi = SelfStartInfo();
        if (psi is null)
        {
            ctx.Progress("streams: cannot start this program again as a child process; running in process");
            return await RunScenarioAsync(mode, n, ctx.Runs, clip, ctx.WorkDir, ctx.Quick, ctx.Loggers, ctx.Ct).ConfigureAwait(false);
        }
        foreach (var a in new[] { "bench", "--worker", Name, "--worker-mode", mode, "--worker-streams", n.ToString(CultureInfo.InvariantCulture),
                                  "--runs", "1", "--worker-clip", clip, "--work-dir", ctx.WorkDir })
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
            throw new InvalidOperationException($"streams worker ({mode}, {n}) exited {p.ExitCode} without a result");
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
    public static async Task<int> WorkerAsync(string mode, int n, int runs, string clip, string workDir, bool quick, CancellationToken ct)
    {
        using var loggers = BenchRunner.CreateLoggers();
        var result = await RunScenarioAsync(mode, n, runs, clip, workDir, quick, loggers, ct).ConfigureAwait(false);
        Console.Out.WriteLine(ResultMarker + JsonSerializer.Serialize(result, new JsonSerializerOptions(BenchReport.JsonOptions) { WriteIndented = false }));
        Console.Out.Flush();
        return 0;
    }

    /// <summary>Runs <paramref name="runs"/> measured runs of <paramref name="n"/> streams in this process.</summary>
    public static async Task<ScenarioResult> RunScenarioAsync(string mode, int n, int runs, string clip, string workDir, bool quick, ILoggerFactory loggers, CancellationToken ct)
    {
        if (mode is not ("live" or "fast")) throw new ArgumentException($"mode must be live or fast, got '{mode}'", nameof(mode));
        Native.NativeInfo.SetFfmpegLogging(false);
        bool live = mode == "live";
        var (warmup, window) = LiveTiming(quick);
        string outDir = Path.Combine(workDir, $"streams-{mode}-{n}");
        Directory.CreateDirectory(outDir);
        var result = new ScenarioResult { Mode = mode, Streams = n };
        var metrics = new PipelineMetrics();
        using var recorder = new MetricRecorder(metrics.EndToEndSeconds);
        for (int run = 0; run < runs; run++)
        {
            BenchMeasure.Settle();
            bool peakReset = BenchMeasure.ResetPeakMemory();
            var config = new SvConfig
            {
                Instance = "bench",
                Http = new HttpConfig { Listen = "" },
                Sinks = new SinksConfig { Events = new JsonLinesOptions { Path = Path.Combine(outDir, "{stream}.events.jsonl") }, Preview = null },
                Streams = Enumerable.Range(1, n).Select(i => new StreamConfig
                {
                    Source = new SourceOptions { Id = $"s{i}", Uri = live ? BenchInputs.LiveLoop(clip) : clip, Mode = live ? SourceMode.Live : SourceMode.File },
                    Analytics = OverheadBenchmark.Analytics,
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
                await Task.Delay(TimeSpan.FromSeconds(warmup), ct).ConfigureAwait(false);
                var before = streams.Select(Snapshot).ToArray();
                recorder.Take();
                recorder.Recording = true;
                var sampler = SampleMemoryAsync(rss, sampling.Token);
                var sw = Stopwatch.StartNew();
                await Task.Delay(TimeSpan.FromSeconds(window), ct).ConfigureAwait(false);
                double seconds = sw.Elapsed.TotalSeconds;
                recorder.Recording = false;
                var after = streams.Select(Snapshot).ToArray();
                await sampling.CancelAsync().ConfigureAwait(false);
                await sampler.ConfigureAwait(false);
                var perStream = after.Select((a, i) => (a.Frames - before[i].Frames) / seconds).ToArray();
                long decoded = after.Select((a, i) => a.Decoded - before[i].Decoded).Sum();
                long dropped = after.Select((a, i) => a.Dropped - before[i].Dropped).Sum();
                r = Finish(perStream, seconds, decoded == 0 ? 0 : (double)dropped / decoded) with { DecodedFps = decoded / seconds };
            }
            else
            {
                var sampler = SampleMemoryAsync(rss, sampling.Token);
                recorder.Recording = true;
                var sw = Stopwatch.StartNew();
                var done = streams.Select(s => s.Completion.ContinueWith(_ => sw.Elapsed.TotalSeconds, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)).ToArray();
                var ends = await Task.WhenAll(done).ConfigureAwait(false);
                double seconds = sw.Elapsed.TotalSeconds;
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
                };
            }
            result.Runs.Add(r);

            RunResult Finish(double[] perStream, double seconds, double dropRate)
            {
                var lat = recorder.Take().Select(s => s.Value * 1000).OrderBy(v => v).ToArray();
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
                };
            }
        }
        return result;
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
