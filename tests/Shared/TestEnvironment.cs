using System.Diagnostics;

namespace StreamVision.Testing;

/// <summary>Paths and tools every test project shares: the repository root, ../shared/data, temp folders, running ffmpeg.</summary>
internal static class TestEnvironment
{
    private static readonly Lazy<string> s_repoRoot = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props"))) return dir.FullName;
        }
        throw new InvalidOperationException("repository root (Directory.Packages.props) not found above " + AppContext.BaseDirectory);
    });

    public static string RepoRoot => s_repoRoot.Value;

    /// <summary>../shared/data beside the clone; a test that needs it fails with this message when it is absent.</summary>
    public static string SharedData
    {
        get
        {
            var p = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
            if (!Directory.Exists(p))
                throw new DirectoryNotFoundException($"evaluation data not found at {p}: clone the repository beside the 'shared' folder that holds data/");
            return p;
        }
    }

    private static readonly List<string> s_tempDirs = new();

    /// <summary>
    /// A new empty folder under the system temp folder, deleted when the test assembly's run ends
    /// (<see cref="CleaningTestFramework"/>) or, failing that, at process exit.
    /// </summary>
    public static string NewTempDir(string prefix = "sv")
    {
        var dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        lock (s_tempDirs)
        {
            if (s_tempDirs.Count == 0) AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteTempDirs();
            s_tempDirs.Add(dir);
        }
        return dir;
    }

    /// <summary>Deletes every folder <see cref="NewTempDir"/> made (one that cannot be deleted is left; the rest still go).</summary>
    public static void DeleteTempDirs()
    {
        string[] dirs;
        lock (s_tempDirs)
        {
            dirs = s_tempDirs.ToArray();
            s_tempDirs.Clear();
        }
        foreach (var dir in dirs)
        {
            try
            {
                Directory.Delete(dir, true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// For a .NET child process a test may kill: without the debugger pipes and the diagnostics socket, which the runtime
    /// makes in the temp folder and only removes at a normal exit (a killed child left them behind).
    /// </summary>
    public static ProcessStartInfo WithoutDiagnosticFiles(this ProcessStartInfo psi)
    {
        psi.Environment["DOTNET_EnableDiagnostics_Debugger"] = "0";
        psi.Environment["DOTNET_EnableDiagnostics_IPC"] = "0";
        return psi;
    }

    /// <summary>Runs a program to completion; throws with its stderr when it fails.</summary>
    public static (string Stdout, string Stderr) Run(string file, string args, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(true);
            throw new TimeoutException($"{file} {args} did not finish in {timeoutMs} ms");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {args} exited {p.ExitCode}: {stderr.Result}");
        return (stdout.Result, stderr.Result);
    }

    /// <summary>Runs ffmpeg quietly with the given arguments.</summary>
    public static void Ffmpeg(string args) => Run("ffmpeg", "-hide_banner -loglevel error -y " + args);

    public static string Ffprobe(string args) => Run("ffprobe", "-hide_banner -loglevel error " + args).Stdout;
}

/// <summary>Small clips made with ffmpeg's lavfi sources, generated once per test run and shared.</summary>
internal static class TestMedia
{
    private static readonly string s_dir = TestEnvironment.NewTempDir("svmedia");
    private static readonly Dictionary<string, string> s_made = new();
    private static readonly object s_gate = new();

    /// <summary>H.264 MP4 of testsrc2 (moving pattern), SPS/PPS in-band so it can also feed RTSP servers.</summary>
    public static string H264(int width = 320, int height = 240, int frames = 30, int fps = 25) =>
        Make($"h264-{width}x{height}-{frames}-{fps}.mp4",
            $"-f lavfi -i testsrc2=size={width}x{height}:rate={fps} -frames:v {frames} -c:v libx264 -preset ultrafast -pix_fmt yuv420p -x264-params repeat-headers=1 -g {fps}");

    public static string Hevc(int width = 320, int height = 240, int frames = 20, int fps = 25) =>
        Make($"hevc-{width}x{height}-{frames}-{fps}.mkv",
            $"-f lavfi -i testsrc2=size={width}x{height}:rate={fps} -frames:v {frames} -c:v libx265 -preset ultrafast -x265-params log-level=error -pix_fmt yuv420p");

    /// <summary>A file with any other recipe (name must be unique per recipe).</summary>
    public static string Make(string name, string ffmpegArgs)
    {
        lock (s_gate)
        {
            if (s_made.TryGetValue(name, out var existing)) return existing;
            var path = Path.Combine(s_dir, name);
            TestEnvironment.Ffmpeg($"{ffmpegArgs} \"{path}\"");
            s_made[name] = path;
            return path;
        }
    }
}

/// <summary>Waits for a condition without asserting any timing.</summary>
internal static class Poll
{
    /// <summary>Polls <paramref name="condition"/> until true or <paramref name="timeout"/>; returns the last result.</summary>
    public static bool Until(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) return condition();
            Thread.Sleep(20);
        }
        return true;
    }

    /// <summary>Async form: awaits <paramref name="condition"/> until true; throws <see cref="TimeoutException"/> naming <paramref name="what"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!await condition())
        {
            if (sw.Elapsed > timeout) throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0} s");
            await Task.Delay(50);
        }
    }
}
