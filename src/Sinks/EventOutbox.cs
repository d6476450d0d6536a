namespace StreamVision.Sinks;

/// <summary>
/// The bounded buffer and drain shared by the broker event sinks (<see cref="MqttEventSink"/>, <see cref="KafkaEventSink"/>):
/// events queue here without ever blocking the pipeline (the oldest pushed out and counted as <c>overflow</c> when full);
/// the sink's sender takes them one at a time, up to a number in flight (unacknowledged) at once; a delivered, failed or
/// refused event settles its slot; events a lost connection left unconfirmed go back to the front. At the end
/// <see cref="DrainAsync"/> waits until nothing is held (or the drain time is up), and <see cref="Abandon"/> counts what is
/// left as <c>shutdown</c>, once: later settlements no longer count. Owns no events' memory (payloads are the sink's).
/// Thread-safe.
/// </summary>
internal sealed class EventOutbox<T>
{
    private readonly EventBuffer<T> _pending;
    private readonly SemaphoreSlim _slots;
    private readonly SinkMetrics _metrics;
    private TaskCompletionSource? _idle;
    private int _inflight, _stopping, _abandoned;
    private long _droppedOverflow, _droppedShutdown;

    /// <param name="capacity">Events held at most (waiting, not in flight).</param>
    /// <param name="maxInflight">Events handed to the client and not settled yet, at most.</param>
    /// <param name="metrics">The sink's metrics: dropped events by reason.</param>
    public EventOutbox(int capacity, int maxInflight, SinkMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        _pending = new EventBuffer<T>(capacity);
        _slots = new SemaphoreSlim(maxInflight, maxInflight);
        _metrics = metrics;
    }

    /// <summary>Events waiting here or in flight.</summary>
    public int Buffered => _pending.Count + Volatile.Read(ref _inflight);
    /// <summary>Events taken and not settled (nor put back) yet.</summary>
    public int InFlight => Volatile.Read(ref _inflight);
    /// <summary>True once <see cref="BeginStop"/> was called: new events are dropped and counted as shutdown.</summary>
    public bool Stopping => Volatile.Read(ref _stopping) != 0;
    /// <summary>True once <see cref="Abandon"/> ran: settlements no longer count.</summary>
    public bool Abandoned => Volatile.Read(ref _abandoned) != 0;
    /// <summary>Events pushed out of the full buffer (also those that no longer fitted when put back).</summary>
    public long DroppedOverflow => Interlocked.Read(ref _droppedOverflow);
    /// <summary>Events that came after the stop or were still held at it.</summary>
    public long DroppedAtShutdown => Interlocked.Read(ref _droppedShutdown);

    /// <summary>Queues one event (never waits); <paramref name="make"/> is not called once stopping (the event is counted as dropped).</summary>
    public void Add(Func<T> make)
    {
        if (Stopping)
        {
            DropShutdown(1);
            return;
        }
        if (_pending.Add(make(), out _)) DropOverflow(1);
    }

    /// <summary>Completes when an event waits and a slot is free (the slot is then the caller's: <see cref="TryTake"/>, or <see cref="ReleaseSlot"/>).</summary>
    public async Task WaitForEventAndSlotAsync(CancellationToken ct)
    {
        await _pending.WaitAsync(ct).ConfigureAwait(false);
        await _slots.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the oldest event into flight under the slot the caller holds; false (and the slot released) when another
    /// taker was first. Counted in flight before the take, so <see cref="Buffered"/> never reads 0 while an event moves.
    /// </summary>
    public bool TryTake(out T item)
    {
        Interlocked.Increment(ref _inflight);
        if (_pending.TryTake(out item)) return true;
        Interlocked.Decrement(ref _inflight);
        _slots.Release();
        return false;
    }

    /// <summary>Gives back a slot without settling an event (an event stays in flight until <see cref="PutBack"/>).</summary>
    public void ReleaseSlot() => _slots.Release();

    /// <summary>An event in flight is done with (delivered, failed or refused): its slot is free again.</summary>
    public void Settle()
    {
        if (Volatile.Read(ref _abandoned) == 0) Interlocked.Decrement(ref _inflight);
        _slots.Release();
        SignalIfIdle();
    }

    /// <summary>
    /// Events in flight that were not delivered go back to the front, oldest first (their slots are not touched); those
    /// that no longer fit are the oldest of all and counted as overflow.
    /// </summary>
    public void PutBack(IReadOnlyList<T> items)
    {
        if (items.Count == 0) return;
        var lost = new List<T>();
        _pending.PushFront(items, lost);
        if (Volatile.Read(ref _abandoned) == 0) Interlocked.Add(ref _inflight, -items.Count);
        if (lost.Count > 0) DropOverflow(lost.Count);
    }

    /// <summary>
    /// Waits until nothing is held, for at most <paramref name="timeout"/>. Cancelling <paramref name="ct"/> (the stream's
    /// stop deadline) ends the wait the way the timeout does: it returns normally and what is still held is counted as
    /// dropped at shutdown by <see cref="Abandon"/>, so a sink's CompleteAsync always stops the sink and never throws for it.
    /// </summary>
    public async Task DrainAsync(TimeSpan timeout, CancellationToken ct)
    {
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idle, idle);
        SignalIfIdle();
        try
        {
            await idle.Task.WaitAsync(timeout, ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Marks the outbox stopping; true for the first caller only.</summary>
    public bool BeginStop() => Interlocked.Exchange(ref _stopping, 1) == 0;

    /// <summary>
    /// After the sender stopped: empties the buffer, counts what was waiting or in flight as dropped at shutdown and
    /// returns how many; settlements that arrive later no longer count.
    /// </summary>
    public int Abandon()
    {
        Volatile.Write(ref _abandoned, 1);
        int left = _pending.TakeAll().Count + Interlocked.Exchange(ref _inflight, 0);
        if (left > 0) DropShutdown(left);
        return left;
    }

    private void DropOverflow(int n)
    {
        Interlocked.Add(ref _droppedOverflow, n);
        _metrics.EventsDropped("overflow").Inc(n);
    }

    private void DropShutdown(int n)
    {
        Interlocked.Add(ref _droppedShutdown, n);
        _metrics.EventsDropped("shutdown").Inc(n);
    }

    private void SignalIfIdle()
    {
        if (Buffered == 0) Volatile.Read(ref _idle)?.TrySetResult();
    }
}
