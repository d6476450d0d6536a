using System.Diagnostics;

namespace StreamVision.Bench;

/// <summary>
/// Runs a command-line tool (ffmpeg, ffprobe, git, the Python interpreter) to the end and returns its exit code and
/// output; both pipes are read at once, so neither can fill up and stall the tool.
/// </summary>
internal static class ToolProcess
{
    public readonly record struct Result(int ExitCode, string Stdout, string Stderr);

    /// <summary><paramref name="arguments"/> as one command line (quoted as the tool's shell would need).</summary>
    public static Result Run(string file, string arguments) => Run(new ProcessStartInfo(file, arguments));

    /// <summary>Each of <paramref name="arguments"/> passed as one argument, unquoted.</summary>
    public static Result Run(string file, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(file);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        return Run(psi);
    }

    private static Result Run(ProcessStartInfo psi)
    {
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {psi.FileName}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr);
    }
}
