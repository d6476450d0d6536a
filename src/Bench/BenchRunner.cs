using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using StreamVision.Core;

namespace StreamVision.Bench;

/// <summary>Runs the selected benchmarks in order, prints each table as it completes, and writes the JSON, Markdown and SVG outputs.</summary>
public static class BenchRunner
{
    /// <summary>Sub-benchmarks in the order they run.</summary>
    public static readonly IReadOnlyList<(string Name, string What, Func<BenchContext, Task> Run)> Benchmarks =
    [
        (DecodeBenchmark.Name, "decode + BGR24 in process vs the ffmpeg CLI, same threads (720p, 1080p)", DecodeBenchmark.RunAsync),
        (DetectBenchmark.Name, "BlazeFace detection stage vs a bare session.Run loop", DetectBenchmark.RunAsync),
        (TrackBenchmark.Name, "ByteTracker frames/s at 10, 50, 200 objects", TrackBenchmark.RunAsync),
        (OverheadBenchmark.Name, "whole pipeline with a replayed (zero-cost) detector vs decode alone", OverheadBenchmark.RunAsync),
        (AnnotateBenchmark.Name, "annotate end to end (decode, BlazeFace, track, draw, H.264) and time per stage", AnnotateBenchmark.RunAsync),
        (StreamsBenchmark.Name, "1, 2, 4, 8 concurrent 720p streams, live and as fast as possible", StreamsBenchmark.RunAsync),
        (CapacityBenchmark.Name, "live capacity: most 720p 25 fps streams in real time (BlazeFace every frame, interval 3/5, motion gating; YOLOv8n-sized at interval 1/3/5)", CapacityBenchmark.RunAsync),
        (LatencyBenchmark.Name, "live source with a detector slower than real time: latency stays bounded", LatencyBenchmark.RunAsync),
        (MicroBenchmark.Name, "hot loops: preprocess, NMS, Kalman, assignment, drawing, with allocations", MicroBenchmark.RunAsync),
        (EndToEndBenchmark.Name, "whole processes: peer (Python + OpenCV) vs streamvision annotate vs ffmpeg, x264 medium and veryfast, with and without a video; start-up", EndToEndBenchmark.RunAsync),
    ];

    public static IEnumerable<string> Names => Benchmarks.Select(b => b.Name);

    /// <summary>Benchmarks that run only when named (<c>--only capacity</c>): each takes as long as the rest together (capacity: about 8 minutes).</summary>
    public static readonly IReadOnlySet<string> OnlyWhenNamed = new HashSet<string>(StringComparer.Ordinal) { CapacityBenchmark.Name };

    /// <summary>Warnings and errors of the pipeline go to standard error, so standard output holds only the tables.</summary>
    public static ILoggerFactory CreateLoggers()
    {
        var level = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("SV_LOG_LEVEL"), true, out var l) ? l : LogLevel.Warning;
        return LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }));
    }

    /// <summary>Runs the benchmarks <paramref name="options"/> selects. Returns the report (also written to the files the options name).</summary>
    public static async Task<BenchReport> RunAsync(BenchOptions options, TextWriter output, TextWriter log, CancellationToken ct)
    {
        var selected = Benchmarks.Where(b => options.Only is null ? !OnlyWhenNamed.Contains(b.Name) : options.Only.Contains(b.Name)).ToList();
        string work = options.WorkDir ?? Path.Combine(Path.GetTempPath(), $"streamvision-bench-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        bool ownWork = options.WorkDir is null;
        var report = new BenchReport
        {
            Commit = BenchMeasure.Commit(),
            Command = options.CommandLine,
            Machine = BenchMeasure.Machine(),
            Quick = options.Quick,
            Runs = options.Runs,
            LatencySeconds = options.LatencySeconds,
        };
        var sw = Stopwatch.StartNew();
        using var loggers = CreateLoggers();
        var inputs = new BenchInputs(work, options.Quick, m => log.WriteLine("bench: " + m));
        var ctx = new BenchContext(options, inputs, report, output, log, loggers, ct);
        var m = report.Machine;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"StreamVision bench{(report.Commit.Length > 0 ? " @ " + report.Commit : "")}: {m.Cores} cores, {m.Cpu}, {m.Os}; FFmpeg {m.Ffmpeg}, OpenCV {m.OpenCv}, ONNX Runtime {m.OnnxRuntime}"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load average {string.Join(" ", m.LoadAtStart.Select(v => v.ToString("0.00", CultureInfo.InvariantCulture)))}{(m.LoadAtStart.FirstOrDefault() > 0.5 * m.Cores ? " (the machine is busy: figures will be lower and noisier)" : "")}; " +
            $"{options.Runs} run(s) per figure{(options.Quick ? ", quick smoke run (not representative)" : "")}; running: {string.Join(", ", selected.Select(s => s.Name))}"));
        if (selected.Any(s => s.Name == LatencyBenchmark.Name))
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"latency run: {options.LatencySeconds:0} s (the issue's 5-minute run is --latency-seconds 300)"));
        output.WriteLine();
        output.Flush();
        try
        {
            foreach (var (name, _, run) in selected)
            {
                ct.ThrowIfCancellationRequested();
                var t = Stopwatch.StartNew();
                try
                {
                    await run(ctx).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    string message = $"{name}: {ex.GetType().Name}: {ex.Message}";
                    report.Errors.Add(message);
                    output.WriteLine($"== {name}: FAILED ==");
                    output.WriteLine("  " + message);
                    output.WriteLine();
                    log.WriteLine(ex.ToString());
                }
                finally
                {
                    BenchMeasure.Settle();
                }
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: {name} took {t.Elapsed.TotalSeconds:0.0} s"));
            }
        }
        finally
        {
            report.ElapsedSeconds = sw.Elapsed.TotalSeconds;
            report.Machine.LoadAtEnd = BenchMeasure.LoadAverage();
            if (ownWork && !options.Keep)
            {
                try
                {
                    Directory.Delete(work, recursive: true);
                }
                catch (IOException)
                {
                }
            }
            else
            {
                log.WriteLine($"bench: inputs and outputs kept in {work}");
            }
        }
        var targets = report.Targets.ToList();
        if (targets.Count > 0)
        {
            output.WriteLine("== targets ==");
            foreach (var (table, g) in report.Tables.SelectMany(t => t.Targets.Select(g => (t.Name, g))))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(g.Met ? "met   " : "MISSED")}  {table}: {g.Name} {g.Goal}, measured {g.Value:0.###}"));
        }
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench finished in {report.ElapsedSeconds:0} s{(report.Errors.Count > 0 ? $", {report.Errors.Count} benchmark(s) failed" : "")}"));
        output.Flush();
        WriteOutputs(report, options.JsonPath, options.MarkdownPath, options.SvgPath, log);
        return report;
    }

    /// <summary>Writes the report as JSON, RESULTS.md-style Markdown and the scaling SVG, to whichever paths are given.</summary>
    public static void WriteOutputs(BenchReport report, string? json, string? markdown, string? svg, TextWriter log)
    {
        if (json is not null)
        {
            Write(json, report.ToJson());
            log.WriteLine($"bench: wrote {json}");
        }
        string? svgText = svg is null ? null : BenchFormat.ScalingSvg(report);
        if (svg is not null && svgText is not null)
        {
            Write(svg, svgText);
            log.WriteLine($"bench: wrote {svg}");
        }
        if (markdown is not null)
        {
            string? rel = svgText is null || svg is null ? null
                : Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(markdown)) ?? ".", Path.GetFullPath(svg)).Replace('\\', '/');
            Write(markdown, BenchFormat.ResultsMarkdown(report, rel));
            log.WriteLine($"bench: wrote {markdown}");
        }

        static void Write(string path, string text)
        {
            var dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(path, text);
        }
    }

    /// <summary>Checks the names of <c>--only</c>; throws <see cref="OptionsException"/> naming the unknown ones.</summary>
    public static IReadOnlySet<string>? ParseOnly(IEnumerable<string>? values)
    {
        if (values is null) return null;
        var names = values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => v.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        if (names.Count == 0) return null;
        var unknown = names.Where(n => !Names.Contains(n)).ToList();
        if (unknown.Count > 0) throw new OptionsException("--only", $"unknown benchmark {string.Join(", ", unknown)} (known: {string.Join(", ", Names)})");
        return names;
    }
}
