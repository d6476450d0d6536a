using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using StreamVision.Inference;
using StreamVision.Native;

namespace StreamVision.Bench;

/// <summary>Options of <c>streamvision bench</c>.</summary>
public sealed record BenchOptions
{
    /// <summary>Sub-benchmarks to run (see <see cref="BenchRunner.Names"/>); null runs all.</summary>
    public IReadOnlySet<string>? Only { get; init; }
    /// <summary>A fast smoke run: tiny inputs, one run each, short windows. Figures are not representative.</summary>
    public bool Quick { get; init; }
    /// <summary>Measured runs per figure (median, min, max are over these). Default 3; quick 1.</summary>
    public int Runs { get; init; } = 3;
    /// <summary>Seconds the latency benchmark runs its live source. Default 60 (the 5-minute run is 300); quick 6.</summary>
    public double LatencySeconds { get; init; } = 60;
    /// <summary>Concurrent stream counts of the streams benchmark. Default 1, 2, 4, 8.</summary>
    public IReadOnlyList<int> StreamCounts { get; init; } = [1, 2, 4, 8];
    /// <summary>Also decode this file in the decode benchmark (what tools/bench-decode.sh used to take).</summary>
    public string? DecodeFile { get; init; }
    public string? JsonPath { get; init; }
    public string? MarkdownPath { get; init; }
    public string? SvgPath { get; init; }
    /// <summary>Folder for generated inputs and outputs; default a new temp folder, deleted at the end unless <see cref="Keep"/>.</summary>
    public string? WorkDir { get; init; }
    public bool Keep { get; init; }
    /// <summary>Run the streams scenarios in this process instead of one child process each (memory figures then include everything before).</summary>
    public bool InProcess { get; init; }
    /// <summary>The command line, for the report.</summary>
    public string CommandLine { get; init; } = "streamvision bench";
}

/// <summary>What every benchmark of one invocation shares: options, inputs, the report, where to print.</summary>
public sealed class BenchContext
{
    public BenchContext(BenchOptions options, BenchInputs inputs, BenchReport report, TextWriter output, TextWriter log, ILoggerFactory loggers, CancellationToken ct)
    {
        Options = options;
        Inputs = inputs;
        Report = report;
        Output = output;
        Log = log;
        Loggers = loggers;
        Ct = ct;
    }

    public BenchOptions Options { get; }
    public BenchInputs Inputs { get; }
    public BenchReport Report { get; }
    public TextWriter Output { get; }
    public TextWriter Log { get; }
    public ILoggerFactory Loggers { get; }
    public CancellationToken Ct { get; }
    public bool Quick => Options.Quick;
    public int Runs => Options.Runs;
    /// <summary>Runs for benchmarks whose runs take about a second: at least 5 (unless quick), so one disturbed run cannot move the median.</summary>
    public int CheapRuns => Quick ? Options.Runs : Math.Max(Options.Runs, 5);
    public string WorkDir => Inputs.Folder;

    public void Progress(string message)
    {
        Log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"bench: {message}"));
        Log.Flush();
    }

    public void Add(BenchTable table)
    {
        Report.Tables.Add(table);
        Output.WriteLine(BenchFormat.Text(table));
        Output.Flush();
    }
}

/// <summary>Measuring helpers: interleaved runs, memory, machine facts.</summary>
public static class BenchMeasure
{
    /// <summary>
    /// Runs every measurement <paramref name="runs"/> times, interleaved (A B A B ...) so that a machine whose load changes
    /// affects baseline and subject alike. Returns the samples of each measurement.
    /// </summary>
    public static async Task<List<double>[]> InterleaveAsync(int runs, CancellationToken ct, params Func<Task<double>>[] measures)
    {
        var samples = measures.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < runs; r++)
        {
            for (int i = 0; i < measures.Length; i++)
            {
                ct.ThrowIfCancellationRequested();
                samples[i].Add(await measures[i]().ConfigureAwait(false));
            }
        }
        return samples;
    }

    public static List<double>[] Interleave(int runs, CancellationToken ct, params Func<double>[] measures) =>
        InterleaveAsync(runs, ct, measures.Select(m => (Func<Task<double>>)(() => Task.FromResult(m()))).ToArray()).GetAwaiter().GetResult();

    /// <summary>
    /// Times <paramref name="op"/> on this thread for about <paramref name="seconds"/> (after a short warm-up): nanoseconds
    /// and bytes allocated (by this thread) per call.
    /// </summary>
    public static (double NsPerOp, double BytesPerOp) Micro(Action op, double seconds)
    {
        for (int i = 0; i < 3; i++) op();
        // Calibrate a batch that takes ~10 ms so the clock is read rarely.
        int batch = 1;
        while (true)
        {
            long t = Stopwatch.GetTimestamp();
            for (int i = 0; i < batch; i++) op();
            if (Stopwatch.GetElapsedTime(t).TotalMilliseconds >= 10 || batch >= 1 << 24) break;
            batch *= 2;
        }
        long ops = 0;
        long bytes0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            for (int i = 0; i < batch; i++) op();
            ops += batch;
        }
        sw.Stop();
        long bytes = GC.GetAllocatedBytesForCurrentThread() - bytes0;
        return (sw.Elapsed.TotalSeconds * 1e9 / ops, (double)bytes / ops);
    }

    /// <summary>A full blocking, compacting collection so one benchmark's garbage does not land in the next one's figures.</summary>
    public static void Settle()
    {
        System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>Resident and peak resident memory of this process in MiB (Linux /proc; 0 elsewhere).</summary>
    public static (double RssMb, double PeakMb) Memory()
    {
        double rss = 0, peak = 0;
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line) / 1024.0;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) peak = Kb(line) / 1024.0;
            }
        }
        catch (IOException)
        {
            rss = Environment.WorkingSet / (1024.0 * 1024.0);
        }
        catch (UnauthorizedAccessException)
        {
            rss = Environment.WorkingSet / (1024.0 * 1024.0);
        }
        return (rss, Math.Max(rss, peak));

        static double Kb(string line) =>
            double.TryParse(line.Split(':', 2)[1].Trim().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }

    /// <summary>Resets the kernel's peak-RSS mark of this process (Linux 4.0+); false when that is not possible.</summary>
    public static bool ResetPeakMemory()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static double[] LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ').Take(3)
                .Select(s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return [];
        }
    }

    public static MachineInfo Machine()
    {
        string cpu = "", os = RuntimeInformation.OSDescription;
        try
        {
            cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "";
            var pretty = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (pretty is not null) os = pretty["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        string ffmpeg = "";
        try
        {
            ffmpeg = NativeInfo.FfmpegVersion;
        }
        catch (DllNotFoundException)
        {
        }
        StreamVision.App.Commands.VersionCommand.TryOpenCvVersion(out var opencv, out _);
        OnnxRuntimeInfo.TryLoad(out var ort, out _, out _);
        return new MachineInfo
        {
            Cores = Environment.ProcessorCount,
            Cpu = cpu,
            Os = os,
            Runtime = RuntimeInformation.FrameworkDescription,
            Ffmpeg = ffmpeg,
            OpenCv = opencv,
            OnnxRuntime = ort ?? "",
            LoadAtStart = LoadAverage(),
        };
    }

    /// <summary>The git commit of the checkout the program runs from ("+dirty" when it has changes), or empty.</summary>
    public static string Commit()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (!Directory.Exists(Path.Combine(d.FullName, ".git")) && !File.Exists(Path.Combine(d.FullName, ".git"))) continue;
            string head = Git(d.FullName, "rev-parse --short HEAD");
            if (head.Length == 0) return "";
            return Git(d.FullName, "status --porcelain --untracked-files=no").Length > 0 ? head + "+dirty" : head;
        }
        return "";
    }

    private static string Git(string dir, string args)
    {
        try
        {
            var r = ToolProcess.Run("git", $"-C \"{dir}\" {args}");
            return r.ExitCode == 0 ? r.Stdout.Trim() : "";
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return "";
        }
    }
}
