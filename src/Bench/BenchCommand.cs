using System.CommandLine;
using StreamVision.App;
using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Bench;

/// <summary>
/// <c>streamvision bench</c>: measured speed of every stage and of the whole pipeline, each against a baseline measured
/// in the same invocation (see <see cref="BenchRunner.Benchmarks"/>). Tables go to standard output, progress to standard
/// error; <c>--json</c>, <c>--markdown</c> and <c>--svg</c> write the report (tools/bench.sh makes bench/RESULTS.md).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var names = string.Join(", ", BenchRunner.Names);
        var benchmarks = new Argument<string[]>("benchmarks") { Description = $"Benchmarks to run (default all but {string.Join(", ", BenchRunner.OnlyWhenNamed)}, which run only when named): {names}", Arity = ArgumentArity.ZeroOrMore };
        var only = new Option<string[]>("--only") { Description = $"Run only these benchmarks, comma-separated: {names}", AllowMultipleArgumentsPerToken = true };
        var quick = new Option<bool>("--quick") { Description = "Fast smoke run: tiny inputs, one run each, short windows (figures not representative)" };
        var runs = new Option<int?>("--runs") { Description = "Measured runs per figure; tables show their median and min/max (default 3, quick 1; track and overhead, a second a run, use at least 5)" };
        var json = new Option<string?>("--json") { Description = "Write every table and the machine facts as JSON to this file" };
        var markdown = new Option<string?>("--markdown") { Description = "Write the results as Markdown (what bench/RESULTS.md holds) to this file" };
        var svg = new Option<string?>("--svg") { Description = "Write the scaling chart (fps and memory vs streams) as SVG to this file" };
        var fromJson = new Option<string?>("--from-json") { Description = "Measure nothing: render --markdown/--svg from an earlier --json file" };
        var latency = new Option<double?>("--latency-seconds") { Description = "How long the latency benchmark runs its live source (default 60, quick 6; the issue's 5-minute run is 300)" };
        var streams = new Option<string>("--streams") { Description = "Concurrent stream counts of the streams benchmark", DefaultValueFactory = _ => "1,2,4,8" };
        var decodeFile = new Option<string?>("--decode-file") { Description = "Also decode this video file in the decode benchmark (e.g. your camera's recording)" };
        var workDir = new Option<string?>("--work-dir") { Description = "Folder for generated inputs and outputs (default: a temp folder, deleted afterwards)" };
        var keep = new Option<bool>("--keep") { Description = "Keep the generated inputs and outputs" };
        var inProcess = new Option<bool>("--in-process") { Description = "Run the streams scenarios in this process instead of a fresh child process each (memory figures then include earlier benchmarks)" };
        var worker = new Option<string?>("--worker") { Hidden = true };
        var workerSpec = new Option<string?>("--worker-spec") { Hidden = true };
        var cmd = new Command("bench",
            "Measure every stage and the whole pipeline against baselines measured in the same run: decode vs the ffmpeg CLI, detection stage vs a bare " +
            "session.Run loop, tracker at 10/50/200 objects, pipeline overhead with a replayed detector, annotate end to end with time per stage, " +
            "1-8 concurrent streams (live and as fast as possible), live capacity (the most real-time 720p streams per workload), latency with a detector slower than real time, and micro-benchmarks with allocations.")
        {
            benchmarks, only, quick, runs, json, markdown, svg, fromJson, latency, streams, decodeFile, workDir, keep, inProcess,
            worker, workerSpec,
        };
        cmd.SetAction(async (pr, ct) =>
        {
            using var signals = new ShutdownSignals();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, signals.Token);
            try
            {
                bool isQuick = pr.GetValue(quick);
                int runCount = pr.GetValue(runs) ?? (isQuick ? 1 : 3);
                if (runCount is < 1 or > 100) throw new OptionsException("--runs", $"must be 1..100, got {runCount}");
                if (pr.GetValue(worker) is { } w)
                {
                    if (w != StreamsBenchmark.Name) throw new OptionsException("--worker", $"unknown worker '{w}'");
                    var spec = System.Text.Json.JsonSerializer.Deserialize<StreamsBenchmark.Scenario>(
                        pr.GetValue(workerSpec) ?? throw new OptionsException("--worker-spec", "required"), BenchReport.JsonOptions)
                        ?? throw new OptionsException("--worker-spec", "is null");
                    return await StreamsBenchmark.WorkerAsync(spec, runCount,
                        pr.GetValue(workDir) ?? throw new OptionsException("--work-dir", "required"), isQuick, linked.Token).ConfigureAwait(false);
                }
                if (pr.GetValue(fromJson) is { } from)
                {
                    var earlier = BenchReport.FromJson(await File.ReadAllTextAsync(from, linked.Token).ConfigureAwait(false));
                    BenchRunner.WriteOutputs(earlier, null, pr.GetValue(markdown), pr.GetValue(svg), Console.Error);
                    return ExitCodes.Ok;
                }
                double latencySeconds = pr.GetValue(latency) ?? (isQuick ? 6 : 60);
                if (!(latencySeconds is >= 3 and <= 86400)) throw new OptionsException("--latency-seconds", $"must be 3..86400, got {latencySeconds}");
                var selected = BenchRunner.ParseOnly((pr.GetValue(only) ?? []).Concat(pr.GetValue(benchmarks) ?? []).ToArray() is { Length: > 0 } sel ? sel : null);
                var options = new BenchOptions
                {
                    Only = selected,
                    Quick = isQuick,
                    Runs = runCount,
                    LatencySeconds = latencySeconds,
                    StreamCounts = ParseCounts(pr.GetValue(streams)!),
                    DecodeFile = pr.GetValue(decodeFile) is { } df ? (File.Exists(df) ? Path.GetFullPath(df) : throw new OptionsException("--decode-file", $"file not found: '{df}'")) : null,
                    JsonPath = pr.GetValue(json),
                    MarkdownPath = pr.GetValue(markdown),
                    SvgPath = pr.GetValue(svg),
                    WorkDir = pr.GetValue(workDir) is { } wd ? Path.GetFullPath(wd) : null,
                    Keep = pr.GetValue(keep),
                    InProcess = pr.GetValue(inProcess),
                    CommandLine = "streamvision " + string.Join(' ', pr.Tokens.Select(t => Display(t.Value))),
                };
                var report = await BenchRunner.RunAsync(options, Console.Out, Console.Error, linked.Token).ConfigureAwait(false);
                return report.Errors.Count > 0 ? ExitCodes.Failed : ExitCodes.Ok;
            }
            catch (OptionsException ex)
            {
                Console.Error.WriteLine($"bench: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (OperationCanceledException) when (linked.IsCancellationRequested)
            {
                Console.Error.WriteLine("bench: interrupted");
                return ExitCodes.Interrupted;
            }
        });
        return cmd;
    }

    /// <summary>A command-line token for the report: absolute paths made relative to the working folder (or just the file name), so reports carry no machine's paths.</summary>
    private static string Display(string token)
    {
        if (!Path.IsPathFullyQualified(token)) return token;
        string rel = Path.GetRelativePath(Environment.CurrentDirectory, token);
        return rel.StartsWith("..", StringComparison.Ordinal) || Path.IsPathFullyQualified(rel) ? Path.GetFileName(token) : rel;
    }

    private static IReadOnlyList<int> ParseCounts(string text)
    {
        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 64)
                throw new OptionsException("--streams", $"'{part}' is not a stream count 1..64");
            counts.Add(n);
        }
        if (counts.Count == 0) throw new OptionsException("--streams", "needs at least one count");
        return counts.Distinct().Order().ToList();
    }
}
