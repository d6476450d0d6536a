using System.Diagnostics;

namespace StreamVision.App.Tests.Commands;

/// <summary>A real <c>streamvision run -c CONFIG</c> process of the app under test, its output read as it comes.</summary>
internal sealed class RunProcess : IDisposable
{
    private RunProcess(Process process)
    {
        Process = process;
        Stdout = process.StandardOutput.ReadToEndAsync();
        Stderr = process.StandardError.ReadToEndAsync();
    }

    public Process Process { get; }
    public Task<string> Stdout { get; }
    public Task<string> Stderr { get; }

    public static RunProcess Start(string config)
    {
        string app = Path.Combine(AppContext.BaseDirectory, "streamvision.dll");
        var psi = new ProcessStartInfo("dotnet", $"\"{app}\" run -c \"{config}\"") { RedirectStandardOutput = true, RedirectStandardError = true };
        return new RunProcess(Process.Start(psi.WithoutDiagnosticFiles())!);
    }

    /// <summary>Kills the service if it still runs (a test that failed before stopping it), then lets go of it.</summary>
    public void Dispose()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
        Process.Dispose();
    }
}
