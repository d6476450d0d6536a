namespace StreamVision.App;

/// <summary>Process exit codes (documented in the README).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The job started but failed (input unreadable, model unusable, output unwritable).</summary>
    public const int Failed = 1;
    /// <summary>Bad command line or configuration; nothing was run.</summary>
    public const int Usage = 2;
    /// <summary>Stopped by Ctrl-C / SIGTERM after a clean shutdown.</summary>
    public const int Interrupted = 130;
}
