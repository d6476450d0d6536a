namespace StreamVision.Ingest;

/// <summary>
/// Picks the frames to keep so that at most <c>maxFps</c> are delivered, by timestamp (not by counting), so that a
/// 25 fps source limited to 10 fps keeps 10 frames a second with their own timestamps. Not thread-safe.
/// </summary>
internal sealed class FrameRateLimiter
{
    // Timestamps are microsecond-rounded; 30000/1001 fps sources must not lose a frame to rounding.
    private static readonly TimeSpan s_tolerance = TimeSpan.FromMilliseconds(1);
    private readonly TimeSpan _interval;
    private TimeSpan? _nextDue;

    /// <param name="maxFps">Frames per second to keep at most; 0 keeps every frame.</param>
    public FrameRateLimiter(double maxFps)
    {
        if (!double.IsFinite(maxFps) || maxFps < 0) throw new ArgumentOutOfRangeException(nameof(maxFps), maxFps, "must be 0 or positive");
        _interval = maxFps > 0 ? TimeSpan.FromSeconds(1 / maxFps) : TimeSpan.Zero;
    }

    /// <summary>Whether to keep the frame with timestamp <paramref name="pts"/> (timestamps must not go backwards, except after <see cref="Reset"/>).</summary>
    public bool ShouldKeep(TimeSpan pts)
    {
        if (_interval == TimeSpan.Zero) return true;
        if (_nextDue is { } due && pts < due - s_tolerance) return false;
        // Keep a steady grid; after a gap (or the first frame) restart it from this frame.
        var next = (_nextDue ?? pts) + _interval;
        _nextDue = next <= pts ? pts + _interval : next;
        return true;
    }

    /// <summary>Forgets the grid (timestamps jumped, e.g. after a reconnect).</summary>
    public void Reset() => _nextDue = null;
}
