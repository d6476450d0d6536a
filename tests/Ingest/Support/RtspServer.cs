using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StreamVision.Ingest.Tests.Support;

/// <summary>
/// A real RTSP camera: rtsp_server.py (gst-rtsp-server under /usr/bin/python3) serving a file in an endless real-time
/// loop on 127.0.0.1. Kill it and start it again on the same port to test reconnects; pause it (SIGSTOP) to make it stall.
/// </summary>
internal sealed class RtspServer : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly Process _process;

    private RtspServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }
    public string Url => $"rtsp://127.0.0.1:{Port}/cam";

    /// <summary>Starts the server on <paramref name="port"/> (0 = a free one) and waits until it accepts clients.</summary>
    public static RtspServer Start(string file, int port = 0)
    {
        if (port == 0) port = FreeTcpPort();
        string script = Path.Combine(AppContext.BaseDirectory, "rtsp_server.py");
        var psi = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { script, "--port", port.ToString(), "--file", file }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start " + Python);
        var stderr = p.StandardError.ReadToEndAsync();
        var ready = p.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(15)) || ready.Result is not { } line || !line.StartsWith("READY", StringComparison.Ordinal))
        {
            try { p.Kill(true); } catch (InvalidOperationException) { }
            p.WaitForExit(5000);
            throw new InvalidOperationException(
                $"rtsp_server.py did not start on port {port} (needs {Python} with gi and gst-rtsp-server: tools/setup.sh installs them): " +
                (stderr.Wait(2000) ? stderr.Result : ""));
        }
        return new RtspServer(p, port);
    }

    /// <summary>Kills the server (and its feeder) the hard way, as a crashing camera would go.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>Freezes the server (SIGSTOP): connections stay open, nothing is sent or answered.</summary>
    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited) Signal("CONT");
        }
        catch (InvalidOperationException) { }
        Kill();
        _process.Dispose();
    }

    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private void Signal(string name) => TestEnvironment.Run("kill", $"-{name} {_process.Id}", 10_000);
}
