using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using StreamVision.Inference;

namespace StreamVision.Bench;

/// <summary>
/// e2e: whole processes, as users run them, timed side by side on one clip: the peer (bench/peer/peer.py, Python + OpenCV:
/// cv2.VideoCapture -> resize -> cv2.dnn BlazeFace -> draw -> cv2.VideoWriter), <c>streamvision annotate</c>, and FFmpeg's
/// same pixel work (<c>ffmpeg -i IN -vf format=bgr24,format=yuv420p -c:v libx264 -preset P</c>: the decode and the two
/// colour conversions StreamVision does, minus the model) — at x264 medium and veryfast, writing a video and not
/// (analytics only), plus start-up (<c>streamvision version</c>). Runs interleaved; medians; ratios of medians.
/// </summary>
public static partial class EndToEndBenchmark
{
    public const string Name = "e2e";
    /// <summary>The peer's and annotate's detection threshold (the issue's comparison).</summary>
    public const double Confidence = 0.75;
    public const int Crf = 23;
    /// <summary>The one preset the peer really encodes at (OpenCV 4.6's writer uses x264's defaults whatever it is asked).</summary>
    public const string PeerPreset = "medium";

    private sealed record Job(string Key, string What, string Preset, Func<int, (string File, string[] Args)> Command);

    private sealed record Sample(double Wall, double Cpu, long Frames, long Boxes);

    public static async Task RunAsync(BenchContext ctx)
    {
        string root = RepoRoot() ?? throw new InvalidOperationException("e2e needs the repository (bench/peer/peer.py and the launcher) above the bench program");
        string peer = Path.Combine(root, "bench", "peer", "peer.py");
        string app = Path.Combine(root, "src", "App", "bin", "Release", "net10.0", "streamvision.dll");
        if (!File.Exists(app)) throw new InvalidOperationException($"build the app first: {Path.GetRelativePath(root, app)} is missing");
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} is missing (set-up installs it with python3-opencv)");
        string model = ModelCatalog.Resolve(ModelCatalog.DefaultModel);
        string clip = MakeClip(ctx, root);
        string outDir = Path.Combine(ctx.WorkDir, "e2e");
        Directory.CreateDirectory(outDir);
        string conf = Confidence.ToString(CultureInfo.InvariantCulture);
        // The peer runs at medium only: OpenCV 4.6's writer (Debian's python3-opencv) ignores OPENCV_FFMPEG_WRITER_OPTIONS and
        // always encodes with x264's defaults (preset medium, a key frame every 250 frames), so a "veryfast" peer would
        // be the medium one again. veryfast is compared with FFmpeg only.
        string[] presets = ctx.Quick ? ["medium"] : ["medium", "veryfast"];
        double fps = ClipFps(clip);
        string gop = (2 * Math.Max(1, (int)fps)).ToString(CultureInfo.InvariantCulture); // as StreamVision's writer: 2 x the whole frames per second (46 at 23.976)

        var jobs = new List<Job>();
        foreach (var p in presets)
        {
            if (p == PeerPreset)
                jobs.Add(new($"peer-{p}", $"peer: Python + OpenCV, cv2.VideoWriter avc1 (libx264 defaults: {p}, crf {Crf}, key frame every 250)", p,
                    r => (Python, [peer, clip, "-o", Out($"peer-{p}-{r}.mp4"), "--model", model, "--preset", p, "--crf", $"{Crf}", "--confidence", conf])));
            jobs.Add(new($"annotate-{p}", $"streamvision annotate --preset {p} (+ tracks and events)", p,
                r => ("dotnet", [app, "annotate", clip, "-o", Out($"sv-{p}-{r}.mp4"), "--preset", p, "--crf", $"{Crf}", "--confidence", conf,
                    "--tracks", Out($"sv-{p}-{r}.txt"), "--events", Out($"sv-{p}-{r}.jsonl")])));
            jobs.Add(new($"ffmpeg-{p}", $"ffmpeg: decode -> bgr24 -> yuv420p -> libx264 {p} (no model)", p,
                r => ("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", clip, "-an", "-vf", "format=bgr24,format=yuv420p",
                    "-c:v", "libx264", "-preset", p, "-crf", $"{Crf}", "-g", gop, Out($"ff-{p}-{r}.mp4")])));
        }
        jobs.Add(new("peer-analytics", "peer --no-write: detections only, nothing drawn or written", "",
            r => (Python, [peer, clip, "--no-write", "--model", model, "--confidence", conf])));
        jobs.Add(new("annotate-analytics", "streamvision annotate --tracks --events (no -o: analytics only)", "",
            r => ("dotnet", [app, "annotate", clip, "--confidence", conf, "--tracks", Out($"sv-a-{r}.txt"), "--events", Out($"sv-a-{r}.jsonl")])));
        jobs.Add(new("ffmpeg-analytics", "ffmpeg: decode -> bgr24, nothing written (-f null)", "",
            r => ("ffmpeg", ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", clip, "-an", "-vf", "format=bgr24", "-f", "null", "-"])));
        jobs.Add(new("version-launcher", "./streamvision version (launcher: staleness check + app start)", "",
            r => (Path.Combine(root, "streamvision"), ["version"])));
        jobs.Add(new("version-app", "dotnet streamvision.dll version (the app alone)", "",
            r => ("dotnet", [app, "version"])));

        long clipFrames = CountFrames(clip);
        ctx.Progress($"e2e: {ctx.Runs} interleaved run(s) of {jobs.Count} processes on {Path.GetFileName(clip)} ({clipFrames} frames)");
        var samples = jobs.ToDictionary(j => j.Key, _ => new List<Sample>());
        for (int r = 0; r < ctx.Runs; r++)
        {
            foreach (var job in jobs)
            {
                ctx.Ct.ThrowIfCancellationRequested();
                var (file, args) = job.Command(r);
                var s = await TimeProcessAsync(file, args, Path.Combine(outDir, $"{job.Key}-{r}"), ctx.Ct).ConfigureAwait(false);
                samples[job.Key].Add(s with { Frames = s.Frames > 0 ? s.Frames : (job.Key.StartsWith("ffmpeg", StringComparison.Ordinal) ? clipFrames : 0) });
                ctx.Progress(string.Create(CultureInfo.InvariantCulture, $"e2e: run {r + 1} {job.Key}: {s.Wall:0.00} s wall, {s.Cpu:0.00} s CPU"));
            }
        }

        var table = new BenchTable
        {
            Name = Name,
            Title = "end to end, whole processes: the peer (Python + OpenCV), streamvision annotate, FFmpeg's same pixel work",
            Baseline = "the peer (bench/peer/peer.py) at the same preset; and ffmpeg's decode + two colour conversions + x264 at the same preset",
        };
        table.Column("job", "job").Column("wall", "wall s", 2).Column("fps", "frames/s").Column("cpu", "CPU s (user+sys)", 2)
             .Column("cores", "cores busy", 2).Column("boxes", "faces", 0).Column("vs_peer", "ratio vs peer (frames/s)", 3).Column("vs_ffmpeg", "ratio vs ffmpeg (frames/s)", 3);
        double Median(string key, Func<Sample, double> f) => Summary.Of(samples[key].Select(f)).Median;
        foreach (var job in jobs)
        {
            var wall = Summary.Of(samples[job.Key].Select(s => s.Wall));
            bool video = !job.Key.StartsWith("version", StringComparison.Ordinal);
            string group = job.Preset.Length > 0 ? job.Preset : "analytics";
            BenchCell vsPeer = new(), vsFfmpeg = new();
            if (video && !job.Key.StartsWith("peer", StringComparison.Ordinal) && samples.ContainsKey($"peer-{group}")) vsPeer = Median($"peer-{group}", s => s.Wall) / wall.Median;
            if (video && !job.Key.StartsWith("ffmpeg", StringComparison.Ordinal)) vsFfmpeg = Median($"ffmpeg-{group}", s => s.Wall) / wall.Median;
            double frames = Median(job.Key, s => s.Frames);
            table.Row(("job", job.What), ("wall", wall), ("fps", video ? Summary.Of(samples[job.Key].Select(s => s.Frames / s.Wall)) : new BenchCell()),
                ("cpu", Summary.Of(samples[job.Key].Select(s => s.Cpu))), ("cores", Median(job.Key, s => s.Cpu / s.Wall)),
                ("boxes", job.Key.StartsWith("ffmpeg", StringComparison.Ordinal) || !video ? new BenchCell() : Median(job.Key, s => s.Boxes)),
                ("vs_peer", vsPeer), ("vs_ffmpeg", vsFfmpeg));
        }
        foreach (var p in presets)
        {
            double vsFf = Median($"ffmpeg-{p}", s => s.Wall) / Median($"annotate-{p}", s => s.Wall);
            if (samples.ContainsKey($"peer-{p}"))
            {
                double vsPeer = Median($"peer-{p}", s => s.Wall) / Median($"annotate-{p}", s => s.Wall);
                table.Targets.Add(new BenchTarget($"annotate / peer frames/s, writing, x264 {p}", ">= 1.3", vsPeer, vsPeer >= 1.3));
            }
            table.Targets.Add(new BenchTarget($"annotate / ffmpeg same pixel work frames/s, x264 {p}", ">= 0.9", vsFf, vsFf >= 0.9));
        }
        double analytics = Median("peer-analytics", s => s.Wall) / Median("annotate-analytics", s => s.Wall);
        table.Targets.Add(new BenchTarget("analytics only: annotate / peer --no-write frames/s", ">= 2", analytics, analytics >= 2));
        double startup = Median("version-launcher", s => s.Wall);
        table.Targets.Add(new BenchTarget("start-up: ./streamvision version wall (s)", "<= 0.3", startup, startup <= 0.3));
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"clip: {Path.GetFileName(clip)}, {clipFrames} frames of 720x528 H.264 ({(ctx.Quick ? "quick: the first frames of the sample" : "the opencv-doc Megamind sample looped 5 times")}), {fps:0.###} fps; BlazeFace 128x128, confidence {conf}, NMS IoU 0.45; x264 crf {Crf}, a key frame every {gop} frames, threads auto everywhere"));
        table.Notes.Add("wall and CPU: the whole process from start to exit (bash's time: interpreter or runtime start, model load, file finalising included); frames/s = clip frames / wall; ratios divide medians of the same interleaved run");
        table.Notes.Add("faces: boxes the process reported over the clip (the peer's after NMS, annotate's detections) — the same model, decoding and threshold should give nearly the same count");
        table.Notes.Add("the peer runs at x264 medium only: OpenCV 4.6's writer ignores OPENCV_FFMPEG_WRITER_OPTIONS and always encodes with x264's defaults (medium, crf 23, a key frame every 250 frames; checked in the files' x264 headers), so veryfast is compared with FFmpeg alone");
        table.Notes.Add("under load the scheduler shares the cores per runnable thread: a process with more busy threads (annotate, ffmpeg) gets more of a loaded machine than a mostly single-threaded one (the peer), so compare CPU seconds too");
        ctx.Add(table);
        string Out(string name) => Path.Combine(outDir, name);
    }

    /// <summary>Debian's interpreter, which has python3-opencv (the python3 on PATH may not).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The repository the bench runs from (holds bench/peer/peer.py), or null.</summary>
    public static string? RepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "bench", "peer", "peer.py"))) return d.FullName;
        return null;
    }

    /// <summary>The benchmark clip: Megamind.avi looped 5 times as H.264 (bench/tmp, made once); quick: its first 40 frames in the work folder.</summary>
    private static string MakeClip(BenchContext ctx, string root)
    {
        if (!File.Exists(BenchInputs.FacesSample)) throw new InvalidOperationException($"{BenchInputs.FacesSample} is missing (Debian opencv-doc, installed by set-up)");
        string dir = ctx.Quick ? ctx.WorkDir : Path.Combine(root, "bench", "tmp");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, ctx.Quick ? "megamind-40.mp4" : "megamind-x5.mp4");
        if (File.Exists(path) && new FileInfo(path).Length > 0) return path;
        string tmp = path + ".part.mp4";
        string loop = ctx.Quick ? "" : "-stream_loop 4";
        string limit = ctx.Quick ? "-frames:v 40" : "";
        BenchInputs.Ffmpeg($"{loop} -i \"{BenchInputs.FacesSample}\" -an {limit} -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p \"{tmp}\"");
        File.Move(tmp, path, overwrite: true);
        return path;
    }

    private static double ClipFps(string clip)
    {
        string text = Probe($"-select_streams v:0 -show_entries stream=r_frame_rate -of csv=p=0 \"{clip}\"");
        var parts = text.Split('/');
        return parts.Length == 2 && double.TryParse(parts[0], CultureInfo.InvariantCulture, out var n) && double.TryParse(parts[1], CultureInfo.InvariantCulture, out var d) && d > 0 ? n / d : 25;
    }

    private static long CountFrames(string clip) =>
        long.TryParse(Probe($"-count_packets -select_streams v:0 -show_entries stream=nb_read_packets -of csv=p=0 \"{clip}\""), CultureInfo.InvariantCulture, out var n) ? n : 0;

    private static string Probe(string args) => ToolProcess.Run("ffprobe", "-v error " + args).Stdout.Trim();

    /// <summary>Runs one process under bash's <c>time</c>: wall and user+sys CPU of the whole process; frames and boxes from its summary line.</summary>
    private static async Task<Sample> TimeProcessAsync(string file, string[] args, string prefix, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("/bin/bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // The launcher's run times its staleness check and start, never a rebuild: one would also rewrite the binaries that
        // this bench (and, run from the tests, every other test host) is running from.
        psi.Environment["STREAMVISION_NO_SETUP"] = "1";
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("TIMEFORMAT='%R %U %S'; p=\"$1\"; shift; { time \"$@\" >\"$p.out\" 2>\"$p.err\"; } 2>\"$p.time\"");
        psi.ArgumentList.Add("bench-e2e");
        psi.ArgumentList.Add(prefix);
        psi.ArgumentList.Add(file);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        try
        {
            await p.WaitForExitAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw;
        }
        string stdout = File.Exists(prefix + ".out") ? await File.ReadAllTextAsync(prefix + ".out", ct).ConfigureAwait(false) : "";
        string stderr = File.Exists(prefix + ".err") ? await File.ReadAllTextAsync(prefix + ".err", ct).ConfigureAwait(false) : "";
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args.Select(Path.GetFileName))} exited with {p.ExitCode}: {Last(stderr)} {Last(stdout)}".Trim());
        var t = (await File.ReadAllTextAsync(prefix + ".time", ct).ConfigureAwait(false)).Trim().Split('\n')[^1].Split(' ');
        double wall = double.Parse(t[0], CultureInfo.InvariantCulture);
        double cpu = double.Parse(t[1], CultureInfo.InvariantCulture) + double.Parse(t[2], CultureInfo.InvariantCulture);
        long frames = 0, boxes = 0;
        if (PeerLine().Match(stdout) is { Success: true } m)
        {
            frames = long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            boxes = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        else if (AnnotateLine().Match(stdout) is { Success: true } a)
        {
            frames = long.Parse(a.Groups[1].Value, CultureInfo.InvariantCulture);
            boxes = long.Parse(a.Groups[2].Value, CultureInfo.InvariantCulture);
        }
        return new Sample(wall, cpu, frames, boxes);

        static string Last(string text) => text.Trim().Split('\n')[^1];
    }

    [GeneratedRegex(@"peer: (\d+) frames, (\d+) faces")]
    private static partial Regex PeerLine();

    [GeneratedRegex(@"annotate: (\d+) frames, (\d+) objects")]
    private static partial Regex AnnotateLine();
}
