using Microsoft.Extensions.Logging;

namespace StreamVision.Sinks;

/// <summary>
/// The lifetime a broker event sink (<see cref="MqttEventSink"/>, <see cref="KafkaEventSink"/>) runs around its
/// <see cref="EventOutbox{T}"/>: the sender loop and its stop token, the gauges (buffer depth, connected), the events
/// sent and refused, and the one stop path that <see cref="CompleteAsync"/> (drain first) and <see cref="DisposeAsync"/>
/// (no drain) share: stop the sender, count what is left as dropped at shutdown (once), then let the sink leave its
/// connection. The sink supplies only what differs: how events are sent over its client and how it leaves. Owns no
/// events' memory. Thread-safe; <see cref="CompleteAsync"/> and <see cref="DisposeAsync"/> may race and both return once
/// the sink has stopped.
/// </summary>
internal sealed class OutboxSender<T>
{
    private readonly SinkMetrics _metrics;
    private readonly string _sink;
    private readonly string _streamId;
    private readonly ILogger _logger;
    private readonly TimeSpan _drainTimeout;
    private readonly SinkHealthTracker _health = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IDisposable[] _gauges = [];
    private Func<Task>? _leave;
    private Task? _loop;
    private long _sent, _droppedRejected;
    private int _disposed;

    /// <param name="capacity">Events held at most (waiting, not in flight).</param>
    /// <param name="maxInflight">Events handed to the client and not settled yet, at most.</param>
    /// <param name="metrics">The sink's metrics.</param>
    /// <param name="streamId">The stream (named in log lines).</param>
    /// <param name="logger">The sender's failure and the events left undelivered at the stop.</param>
    /// <param name="drainTimeout">How long <see cref="CompleteAsync"/> keeps delivering before it stops.</param>
    public OutboxSender(int capacity, int maxInflight, SinkMetrics metrics, string streamId, ILogger logger, TimeSpan drainTimeout)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(logger);
        Outbox = new EventOutbox<T>(capacity, maxInflight, metrics);
        _metrics = metrics;
        _sink = metrics.Sink;
        _streamId = streamId;
        _logger = logger;
        _drainTimeout = drainTimeout;
    }

    /// <summary>The events waiting and in flight.</summary>
    public EventOutbox<T> Outbox { get; }
    /// <summary>Events delivered (<see cref="Delivered"/>).</summary>
    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>Events the broker or the client refused (<see cref="Rejected"/>).</summary>
    public long DroppedRejected => Interlocked.Read(ref _droppedRejected);

    /// <summary>
    /// Registers the gauges and starts the sender: <paramref name="send"/> runs until its token is cancelled (the stop), and
    /// <paramref name="leave"/> runs once after it ended and what was left was counted (leave the shared connection).
    /// Call once, last in the sink's constructor (a constructor that throws before leaves no series behind).
    /// </summary>
    /// <param name="connected">Whether the client is connected now (the <c>connected</c> gauge).</param>
    public void Start(Func<CancellationToken, Task> send, Func<Task> leave, Func<bool> connected)
    {
        ArgumentNullException.ThrowIfNull(send);
        ArgumentNullException.ThrowIfNull(leave);
        ArgumentNullException.ThrowIfNull(connected);
        if (_loop is not null) throw new InvalidOperationException("the sender is already started");
        _leave = leave;
        _gauges =
        [
            _metrics.Register(SinkMetrics.Gauge.EventBufferDepth, () => Outbox.Buffered),
            _metrics.Register(SinkMetrics.Gauge.Connected, () => connected() ? 1 : 0),
        ];
        _loop = Task.Run(() => RunAsync(send));
    }

    /// <summary>
    /// The sink's health now: buffering (with <paramref name="why"/>) while <paramref name="buffering"/> says so, connected
    /// otherwise. Once the sink stopped it stays as it was (the sink left its connection: that is not an outage).
    /// </summary>
    public SinkHealth Health(Func<bool> buffering, Func<string> why)
    {
        if (Outbox.Stopping) return _health.Current;
        if (buffering()) _health.Set(SinkState.Buffering, why());
        else _health.Set(SinkState.Connected);
        return _health.Current;
    }

    /// <summary>One event delivered: counted as sent.</summary>
    public void Delivered()
    {
        Interlocked.Increment(ref _sent);
        _metrics.EventsSent.Inc();
    }

    /// <summary>One event refused (by the broker or the client): counted as dropped, <c>rejected</c>.</summary>
    public void Rejected()
    {
        Interlocked.Increment(ref _droppedRejected);
        _metrics.EventsDropped("rejected").Inc();
    }

    /// <summary>
    /// Keeps delivering for up to the drain time, or until <paramref name="ct"/> is cancelled (the stream's stop deadline:
    /// it ends the drain like the timeout, without throwing), then stops. Nothing after <see cref="DisposeAsync"/>.
    /// </summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        await Outbox.DrainAsync(_drainTimeout, ct).ConfigureAwait(false);
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Stops without draining (what is held is dropped and counted) and removes the gauges; idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopAsync().ConfigureAwait(false);
        foreach (var g in _gauges) g.Dispose();
    }

    private async Task StopAsync()
    {
        if (!Outbox.BeginStop())
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }
        try
        {
            _stop.Cancel();
            if (_loop is not null) await _loop.ConfigureAwait(false);
            // Settlements that arrive from now on are not counted again: what is left is counted here, once.
            int left = Outbox.Abandon();
            if (left > 0) _logger.LogWarning("stream {Stream}: {Sink} stopped with {Count} undelivered events", _streamId, _sink, left);
            if (_leave is not null) await _leave().ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
            _stopped.TrySetResult();
        }
    }

    private async Task RunAsync(Func<CancellationToken, Task> send)
    {
        var ct = _stop.Token;
        try
        {
            await send(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "stream {Stream}: {Sink} sender failed; events are no longer sent", _streamId, _sink);
        }
    }
}
