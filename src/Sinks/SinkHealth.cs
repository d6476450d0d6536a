namespace StreamVision.Sinks;

/// <summary>How a sink is doing, as <c>/api/streams</c> and the log show it.</summary>
public enum SinkState
{
    /// <summary>Its output is open (a file written, a broker or server reachable).</summary>
    Connected,
    /// <summary>Its destination is away; what it produces is held in a bounded buffer (and counted when pushed out).</summary>
    Buffering,
    /// <summary>It cannot write (disk full, server gone, too many errors): items are dropped and counted; it retries.</summary>
    Faulted,
}

/// <summary>A sink's state, why (null when connected) and since when (UTC).</summary>
public sealed record SinkHealth(SinkState State, string? Reason, DateTimeOffset Since)
{
    public override string ToString() => Reason is null ? State.ToString().ToLowerInvariant() : $"{State.ToString().ToLowerInvariant()} ({Reason})";
}

/// <summary>
/// A sink that knows more about its health than "its last write did not throw" (a broker connection, a file it had to
/// close). <see cref="SinkRunner"/> reads it after every item and logs each change; a sink without it is
/// <see cref="SinkState.Connected"/> until its runner switches it off.
/// </summary>
public interface ISinkHealth
{
    SinkHealth Health { get; }
}

/// <summary>
/// An event sink's own counts, in events (its runner counts frames): what reached the destination, what it gave up on
/// (counted by reason in <c>sv_sink_events_dropped_total</c>) and what it holds. delivered + dropped + buffered = produced.
/// </summary>
public interface IEventSinkCounts
{
    /// <summary>Events written to the file or acknowledged by the broker or server.</summary>
    long EventsDelivered { get; }
    /// <summary>Events given up on (buffer overflow, write failed, refused, shutdown).</summary>
    long EventsGivenUp { get; }
    /// <summary>Events held, waiting for the destination.</summary>
    int EventsBuffered { get; }
}

/// <summary>Keeps a state and the time it was entered; a new reason within the same state keeps the time. Thread-safe.</summary>
public sealed class SinkHealthTracker
{
    private SinkHealth _current = new(SinkState.Connected, null, DateTimeOffset.UtcNow);

    public SinkHealth Current => Volatile.Read(ref _current);

    /// <summary>Moves to <paramref name="state"/>; returns true when the state changed.</summary>
    public bool Set(SinkState state, string? reason = null)
    {
        var old = Volatile.Read(ref _current);
        if (state == SinkState.Connected) reason = null;
        if (old.State == state)
        {
            if (old.Reason != reason) Volatile.Write(ref _current, old with { Reason = reason });
            return false;
        }
        Volatile.Write(ref _current, new SinkHealth(state, reason, DateTimeOffset.UtcNow));
        return true;
    }
}
