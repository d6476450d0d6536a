using System.Runtime.InteropServices;

namespace StreamVision.App;

/// <summary>
/// SIGINT/SIGTERM: the first cancels <see cref="Token"/> (graceful stop: drain, finalise, exit 0); a second exits at once.
/// SIGHUP invokes <see cref="Reload"/> when set.
/// </summary>
public sealed class ShutdownSignals : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly List<PosixSignalRegistration> _registrations = new();
    private int _signals;

    public ShutdownSignals(Action? onReload = null)
    {
        Reload = onReload;
        foreach (var s in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            _registrations.Add(PosixSignalRegistration.Create(s, ctx =>
            {
                ctx.Cancel = true; // we exit ourselves, after finalising outputs
                if (Interlocked.Increment(ref _signals) > 1)
                {
                    Console.Error.WriteLine("streamvision: second signal, exiting now");
                    Environment.Exit(ExitCodes.Interrupted);
                }
                Console.Error.WriteLine("streamvision: stopping (draining queues, finalising outputs; signal again to exit at once)");
                _cts.Cancel();
            }));
        }
        if (!OperatingSystem.IsWindows())
        {
            _registrations.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, ctx =>
            {
                ctx.Cancel = true;
                Reload?.Invoke();
            }));
        }
    }

    public CancellationToken Token => _cts.Token;
    public Action? Reload { get; set; }
    /// <summary>Which signal stopped us: true when stopped by a signal (not by the job ending).</summary>
    public bool Signalled => Volatile.Read(ref _signals) > 0;

    public void Dispose()
    {
        foreach (var r in _registrations) r.Dispose();
        _cts.Dispose();
    }
}
