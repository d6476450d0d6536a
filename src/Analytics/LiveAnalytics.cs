namespace StreamVision.Analytics;

/// <summary>
/// A stream's zones and lines that can be replaced while it runs (the browser's zone editor): the stream's loop reads
/// <see cref="Current"/> once per frame, so a replacement takes effect from the next frame, without restarting the source.
/// The new set starts with no track state (a track already inside a new zone enters it on its next frame) and counts
/// from zero. Thread-safe: <see cref="Replace"/> may be called from any thread.
/// </summary>
public sealed class LiveAnalytics
{
    private StreamAnalytics? _current;
    private long _version;

    /// <param name="initial">The zones and lines to start with; null = none yet.</param>
    public LiveAnalytics(StreamAnalytics? initial = null) => _current = initial;

    /// <summary>The set in use now; null when the stream has no zones and no lines.</summary>
    public StreamAnalytics? Current => Volatile.Read(ref _current);

    /// <summary>Incremented by each <see cref="Replace"/> (drawings cache on it).</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Uses <paramref name="next"/> from the next frame on (null or empty = none).</summary>
    public void Replace(StreamAnalytics? next)
    {
        Volatile.Write(ref _current, next is { IsEmpty: true } ? null : next);
        Interlocked.Increment(ref _version);
    }
}
