namespace StreamVision.Ingest;

/// <summary>
/// Where a <see cref="VideoSource"/> is. Files go Connecting -> Streaming -> Ended (or Failed); live sources cycle
/// Connecting -> Streaming -> Backoff -> Connecting ... until stopped (Ended) or out of attempts (Failed).
/// </summary>
public enum SourceState
{
    /// <summary>Created, not started.</summary>
    Idle,
    /// <summary>Opening the input (connecting, probing).</summary>
    Connecting,
    /// <summary>Decoding frames.</summary>
    Streaming,
    /// <summary>Live only: waiting before the next reconnect attempt.</summary>
    Backoff,
    /// <summary>Finished without error: end of file, or stopped. The channel is complete.</summary>
    Ended,
    /// <summary>Finished with an error (cannot open a file, out of reconnect attempts); the channel completed with it.</summary>
    Failed,
}
