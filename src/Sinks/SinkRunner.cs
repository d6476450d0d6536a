using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>What a sink's queue does when it is full.</summary>
public enum SinkQueuePolicy
{
    /// <summary>The pipeline waits (lossless: offline annotation of files).</summary>
    Wait,
    /// <summary>The oldest queued item is dropped and counted (live: never stall detection).</summary>
    DropOldest,
}

/// <summary>Queue of one sink.</summary>
public sealed record SinkRunnerOptions
{
    /// <summary>Items the queue holds (1..1024). Each holds a frame, so this bounds memory. Default 16.</summary>
    [OptionShorthand, OptionRange(1, 1024)]
    public int Capacity { get; init; } = 16;
    /// <summary>What a full queue does. Default <see cref="SinkQueuePolicy.DropOldest"/>.</summary>
    [OptionIgnore("from the stream: files wait (lossless), live sources drop the oldest")]
    public SinkQueuePolicy Policy { get; init; } = SinkQueuePolicy.DropOldest;
    /// <summary>Consecutive write errors after which the sink is switched off (its items are then dropped and counted). 0 = never. Default 10.</summary>
    [OptionRange(0, 1_000_000)]
    public int MaxConsecutiveErrors { get; init; } = 10;
    /// <summary>
    /// Seconds between attempts to write again once the sink was switched off: one item is let through, and a success
    /// switches the sink back on (a disk with room again). 0 = stay off. Default 10.
    /// </summary>
    [OptionRange(0, 86400)]
    public double RetrySeconds { get; init; } = 10;
}

/// <summary>
/// Runs one sink on its own loop behind a bounded channel. <see cref="TryEnqueue"/>/<see cref="EnqueueAsync"/> take ownership
/// of the item; the runner disposes it after the sink saw it, or when it is dropped. A failing sink logs, counts and goes on;
/// it never throws into the pipeline.
/// </summary>
public sealed class SinkRunner : IAsyncDisposable
{
    private readonly ISink _sink;
    private readonly SinkRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<AnalyzedFrame> _queue;
    private readonly Task _loop;
    private readonly SinkMetrics _metrics;
    private readonly CancellationTokenSource _abort = new();
    private readonly IDisposable _depthGauge;
    private readonly IDisposable _stateGauge;
    private readonly StackTraceOnce _stackLogged = new();
    private readonly SinkHealthTracker _health = new();
    private SinkHealth? _logged;
    private long _retryAt;
    private int _consecutiveErrors;
    private int _disposed;
    // Drop mode: a drop and the loop's next read happen under this lock, so the events of dropped items (kept in _salvaged,
    // oldest first, at most MaxSalvagedEvents) go to the sink before any later item's.
    private readonly object _dropGate = new();
    private List<AnalyticsEvent>? _salvaged;
    private volatile bool _closing;

    /// <summary>Events of dropped items a drop-mode runner keeps for its sink; beyond this the oldest are dropped and counted.</summary>
    public const int MaxSalvagedEvents = 1024;
    private long _written, _dropped, _errors;

    /// <param name="metrics">Where written, dropped, errors, write time and queue depth are recorded (labels stream, sink); null = <see cref="PipelineMetrics.Default"/>.</param>
    public SinkRunner(ISink sink, string streamId, SinkRunnerOptions? options = null, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        _sink = sink;
        _options = options ?? new SinkRunnerOptions();
        if (_options.Capacity is < 1 or > 1024) throw new OptionsException("sinks.queue", $"must be 1..1024, got {_options.Capacity}");
        if (!(_options.RetrySeconds is >= 0 and <= 86400)) throw new OptionsException("sinks.queue.retry_seconds", $"must be 0..86400, got {_options.RetrySeconds}");
        _logger = logger ?? NullLogger.Instance;
        StreamId = streamId;
        _metrics = new SinkMetrics(metrics, streamId, sink.Name);
        // Created at zero so that rate() is defined before the first write, drop or error.
        _ = (_metrics.Written, _metrics.Dropped, _metrics.Errors);
        // Drop mode drops the oldest itself (TryEnqueue), not through the channel's DropOldest: the dropped item's events
        // are kept for the sink, in order, which the channel's callback (run outside its lock) cannot promise.
        _queue = Channel.CreateBounded<AnalyzedFrame>(new BoundedChannelOptions(_options.Capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = _options.Policy == SinkQueuePolicy.Wait,
        });
        _depthGauge = _metrics.Register(SinkMetrics.Gauge.QueueDepth, () => _queue.Reader.Count);
        _stateGauge = _metrics.Register(SinkMetrics.Gauge.State, () => (int)Health.State);
        _loop = Task.Run(RunAsync);
    }

    public ISink Sink => _sink;
    public string StreamId { get; }
    public long Written => Interlocked.Read(ref _written);
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Errors => Interlocked.Read(ref _errors);
    public int QueueDepth => _queue.Reader.Count;
    /// <summary>True while the sink is switched off after too many consecutive errors (it retries every <see cref="SinkRunnerOptions.RetrySeconds"/>).</summary>
    public bool IsFaulted { get; private set; }

    /// <summary>
    /// The sink's state: faulted while switched off (with the last error), else what the sink says (<see cref="ISinkHealth"/>),
    /// else connected. Each change is logged as a warning.
    /// </summary>
    public SinkHealth Health => IsFaulted ? _health.Current : (_sink as ISinkHealth)?.Health ?? _health.Current;

    /// <summary>
    /// Null when the output was finalised; otherwise why not (finalising failed, or the sink was faulted or abandoned at the
    /// end). Set by <see cref="CompleteAsync"/>.
    /// </summary>
    public string? NotFinalised { get; private set; }

    /// <summary>
    /// Queues an item without waiting. Drop mode accepts until the runner completes (dropping the oldest item, whose
    /// pixels are lost but whose events the sink still gets, ahead of the next item's); wait mode returns false when full.
    /// </summary>
    public bool TryEnqueue(AnalyzedFrame item)
    {
        if (_options.Policy == SinkQueuePolicy.Wait) return _queue.Writer.TryWrite(item);
        lock (_dropGate)
        {
            while (!_queue.Writer.TryWrite(item))
            {
                if (_closing || !_queue.Reader.TryRead(out var oldest)) return false;
                Salvage(oldest.Events);
                Drop(oldest);
            }
            return true;
        }
    }

    /// <summary>Keeps a dropped item's events for the sink (under <see cref="_dropGate"/>).</summary>
    private void Salvage(IReadOnlyList<AnalyticsEvent> events)
    {
        if (events.Count == 0) return;
        var kept = _salvaged ??= new List<AnalyticsEvent>();
        kept.AddRange(events);
        int over = kept.Count - MaxSalvagedEvents;
        if (over > 0)
        {
            kept.RemoveRange(0, over);
            _metrics.EventsDropped("overflow").Inc(over);
        }
    }

    /// <summary>The next item and, in drop mode, the events of items dropped before it (null when none).</summary>
    private bool TryReadNext(out AnalyzedFrame item, out List<AnalyticsEvent>? salvaged)
    {
        salvaged = null;
        if (_options.Policy == SinkQueuePolicy.Wait) return _queue.Reader.TryRead(out item!);
        lock (_dropGate)
        {
            if (!_queue.Reader.TryRead(out item!)) return false; // (events are salvaged only while a later item is queued)
            salvaged = _salvaged;
            _salvaged = null;
            return true;
        }
    }

    /// <summary>Queues an item, waiting for room in wait mode. Takes ownership of the item even when it throws.</summary>
    public async ValueTask EnqueueAsync(AnalyzedFrame item, CancellationToken ct)
    {
        try
        {
            await _queue.Writer.WriteAsync(item, ct).ConfigureAwait(false);
        }
        catch
        {
            Drop(item);
            throw;
        }
    }

    private void Drop(AnalyzedFrame item)
    {
        item.Dispose();
        Interlocked.Increment(ref _dropped);
        _metrics.Dropped.Inc();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var ct = _abort.Token;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (TryReadNext(out var item, out var salvaged))
                {
                    if (salvaged is not null)
                    {
                        // The events of dropped items, as an events-only item (picture sinks skip it) with the next frame's times;
                        // their frames were counted as dropped, so it is not counted as written.
                        item.Frame.AddRef();
                        await WriteAsync(new AnalyzedFrame(item.Frame, Detections.Empty, [], salvaged, eventsOnly: true, detected: false), count: false, ct)
                            .ConfigureAwait(false);
                    }
                    await WriteAsync(item, count: true, ct).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var left)) Drop(left);
    }

    /// <summary>Writes one item (dropped while the sink is switched off); disposes it.</summary>
    private async ValueTask WriteAsync(AnalyzedFrame item, bool count, CancellationToken ct)
    {
        if (IsFaulted && !(_options.RetrySeconds > 0 && Stopwatch.GetTimestamp() >= Interlocked.Read(ref _retryAt)))
        {
            if (count) Drop(item);
            else item.Dispose();
            return;
        }
        long start = Stopwatch.GetTimestamp();
        try
        {
            await _sink.WriteAsync(item, ct).ConfigureAwait(false);
            _consecutiveErrors = 0;
            if (IsFaulted)
            {
                IsFaulted = false;
                _health.Set(SinkState.Connected);
                _logger.LogInformation("stream {Stream}: sink {Sink} writes again; switched back on", StreamId, _sink.Name);
            }
            if (count)
            {
                Interlocked.Increment(ref _written);
                _metrics.Written.Inc();
                _metrics.WriteSeconds.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            RecordError(ex, "write");
        }
        finally
        {
            item.Dispose();
        }
        CheckHealth();
    }

    private void RecordError(Exception ex, string what)
    {
        Interlocked.Increment(ref _errors);
        _metrics.Errors.Inc();
        _consecutiveErrors++;
        // The first failure of a kind carries its stack trace; repeats are one line each.
        if (_stackLogged.IsFirst(ex)) _logger.LogError(ex, "stream {Stream}: sink {Sink} {What} failed: {Error}", StreamId, _sink.Name, what, ex.Message);
        else _logger.LogError("stream {Stream}: sink {Sink} {What} failed: {Error}", StreamId, _sink.Name, what, ex.Message);
        if (IsFaulted)
        {
            // A retry that failed: wait another period.
            _health.Set(SinkState.Faulted, ex.Message);
            Interlocked.Exchange(ref _retryAt, Stopwatch.GetTimestamp() + (long)(_options.RetrySeconds * Stopwatch.Frequency));
        }
        else if (_options.MaxConsecutiveErrors > 0 && _consecutiveErrors >= _options.MaxConsecutiveErrors && what == "write")
        {
            IsFaulted = true;
            _health.Set(SinkState.Faulted, ex.Message);
            Interlocked.Exchange(ref _retryAt, Stopwatch.GetTimestamp() + (long)(_options.RetrySeconds * Stopwatch.Frequency));
            _logger.LogError("stream {Stream}: sink {Sink} switched off after {Count} consecutive errors; its items are dropped and counted{Retry}",
                StreamId, _sink.Name, _consecutiveErrors,
                _options.RetrySeconds > 0 ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $", retrying every {_options.RetrySeconds} s") : "");
        }
    }

    /// <summary>Logs a warning when the sink's state changed since the last look.</summary>
    private void CheckHealth()
    {
        var now = Health;
        var last = _logged;
        if (last is not null && last.State == now.State) return;
        _logged = now;
        if (last is null && now.State == SinkState.Connected) return; // the start is not news
        _logger.LogWarning("stream {Stream}: sink {Sink} is now {State}{Reason}", StreamId, _sink.Name,
            now.State.ToString().ToLowerInvariant(), now.Reason is null ? "" : $": {now.Reason}");
    }

    /// <summary>
    /// Lets the queue drain, then completes the sink (finalises its output). Errors are logged, never thrown.
    /// </summary>
    /// <param name="ct">Stops draining: what is still queued is dropped and counted, the sink is finalised.</param>
    /// <param name="abandon">Handed to the sink's <see cref="ISink.CompleteAsync"/>: the caller gives up waiting for it
    /// (a sink that honours it stops finalising; one that does not is left to finish on its own).</param>
    public async ValueTask CompleteAsync(CancellationToken ct = default, CancellationToken abandon = default)
    {
        _closing = true;
        _queue.Writer.TryComplete();
        using (ct.Register(() => _abort.Cancel()))
        {
            await _loop.ConfigureAwait(false);
        }
        try
        {
            await _sink.CompleteAsync(abandon).ConfigureAwait(false);
            CheckHealth();
            var end = Health;
            if (end.State == SinkState.Faulted) NotFinalised = $"{_sink.Name}: faulted since {end.Since:HH:mm:ss}Z ({end.Reason}); its output is incomplete";
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            NotFinalised = $"{_sink.Name}: stopped finalising at the shutdown deadline";
            _logger.LogWarning("stream {Stream}: sink {Sink} stopped finalising at the deadline", StreamId, _sink.Name);
        }
        catch (Exception ex)
        {
            NotFinalised = $"{_sink.Name}: finalising failed: {ex.Message}";
            RecordError(ex, "finalise");
        }
    }

    /// <summary>Stops without draining (dropping what is queued), finalises the sink, disposes it. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (!_loop.IsCompleted)
        {
            _closing = true;
            _queue.Writer.TryComplete();
            _abort.Cancel();
            await _loop.ConfigureAwait(false);
            try
            {
                await _sink.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RecordError(ex, "finalise");
            }
        }
        try
        {
            await _sink.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RecordError(ex, "dispose");
        }
        _depthGauge.Dispose();
        _stateGauge.Dispose();
        _abort.Dispose();
    }
}
