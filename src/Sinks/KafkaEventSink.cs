using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// Publishes a stream's events to Kafka (Confluent.Kafka over librdkafka), one JSON message per event (schema
/// <see cref="EventJson.SchemaVersion"/>) keyed by the stream id, so a stream's events stay in one partition and in
/// order, through an idempotent producer (acks=all, no duplicates from retries) shared with the instance's other streams
/// (<see cref="KafkaProducers"/>). Never blocks the pipeline: <see cref="WriteAsync"/> only queues into this stream's
/// bounded buffer (oldest dropped and counted when full). A loop hands events to the producer, up to
/// <see cref="KafkaOptions.MaxInflight"/> unacknowledged; each delivery report counts the event as sent or as failed
/// (after <see cref="KafkaOptions.DeliveryTimeoutSeconds"/> without the brokers).
/// </summary>
public sealed class KafkaEventSink : ISink
{
    private readonly KafkaOptions _options;
    private readonly ILogger _logger;
    private readonly KafkaProducers _producers;
    private readonly KafkaProducer _producer;
    private readonly EventBuffer<byte[]> _pending;
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SinkMetrics _metrics;
    private readonly IDisposable[] _gauges;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivery;
    private readonly Task _loop;
    private TaskCompletionSource? _idle;
    private int _inflight;
    private long _sent, _droppedOverflow, _droppedFailed, _droppedRejected, _droppedShutdown;
    private int _stopping, _abandoned, _disposed;

    /// <param name="options">Brokers, topic, buffer (validated here).</param>
    /// <param name="streamId">The stream whose events this sink publishes: every message's key.</param>
    /// <param name="logger">Broker outages (once per kind), failed deliveries, librdkafka's own log at Debug.</param>
    /// <param name="producers">The instance's producers, to share one; null = <see cref="KafkaProducers.Shared"/>.</param>
    /// <param name="metrics">Where sent and dropped events, buffer depth and connection state go; null = <see cref="PipelineMetrics.Default"/>.</param>
    /// <exception cref="OptionsException">An option is invalid.</exception>
    public KafkaEventSink(KafkaOptions options, string streamId, ILogger? logger = null, KafkaProducers? producers = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        StreamId = streamId;
        Topic = options.TopicFor(options.InstanceId);
        _pending = new EventBuffer<byte[]>(options.BufferCapacity);
        _slots = new SemaphoreSlim(options.MaxInflight, options.MaxInflight);
        _metrics = new SinkMetrics(metrics, streamId, Name);
        _producers = producers ?? KafkaProducers.Shared;
        try
        {
            _producer = _producers.Attach(options, _logger);
        }
        catch (ArgumentException ex)
        {
            throw new OptionsException("sinks.kafka.properties", ex.Message);
        }
        catch (KafkaException ex)
        {
            throw new OptionsException("sinks.kafka", $"librdkafka refused the settings: {ex.Error.Reason}");
        }
        _onDelivery = OnDelivery;
        _gauges =
        [
            _metrics.Register(SinkMetrics.Gauge.EventBufferDepth, () => Buffered),
            _metrics.Register(SinkMetrics.Gauge.Connected, () => _producer.Connected ? 1 : 0),
        ];
        _loop = Task.Run(RunAsync);
    }

    public string Name => "kafka";
    public string StreamId { get; }
    /// <summary>The topic events go to (<see cref="KafkaOptions.Topic"/> with the instance id).</summary>
    public string Topic { get; }
    /// <summary>True once the brokers acknowledged an event and none has reported all brokers down since.</summary>
    public bool IsConnected => _producer.Connected;
    /// <summary>Events the brokers acknowledged (delivery reports without error).</summary>
    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>Events given up on: buffer overflow, failed deliveries, refused by the client, undelivered at shutdown.</summary>
    public long Dropped => DroppedOverflow + DroppedFailed + DroppedRejected + DroppedAtShutdown;
    public long DroppedOverflow => Interlocked.Read(ref _droppedOverflow);
    /// <summary>Events whose delivery report was an error (brokers away past the delivery timeout, or a broker refusal).</summary>
    public long DroppedFailed => Interlocked.Read(ref _droppedFailed);
    /// <summary>Events the client refused outright (too large, unknown topic).</summary>
    public long DroppedRejected => Interlocked.Read(ref _droppedRejected);
    public long DroppedAtShutdown => Interlocked.Read(ref _droppedShutdown);
    /// <summary>Events waiting here or handed to the producer and not acknowledged yet.</summary>
    public int Buffered => _pending.Count + Volatile.Read(ref _inflight);
    /// <summary>Events handed to the producer and not acknowledged yet (at most <see cref="KafkaOptions.MaxInflight"/>).</summary>
    public int InFlight => Volatile.Read(ref _inflight);

    /// <summary>Queues the item's events (never waits). After the sink stopped they are dropped and counted.</summary>
    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        foreach (var e in item.Events)
        {
            if (Volatile.Read(ref _stopping) != 0)
            {
                Drop(ref _droppedShutdown, "shutdown", 1);
                continue;
            }
            if (_pending.Add(EventJson.SerializeUtf8(e, _options.InstanceId), out _)) Drop(ref _droppedOverflow, "overflow", 1);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Keeps delivering for up to <see cref="KafkaOptions.DrainTimeoutSeconds"/> (the rest is dropped and counted), then leaves the producer.</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        var idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _idle, idle);
        if (Buffered == 0) idle.TrySetResult();
        try
        {
            await idle.Task.WaitAsync(TimeSpan.FromSeconds(_options.DrainTimeoutSeconds), ct).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Stops without draining (what is held is dropped and counted); idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopAsync().ConfigureAwait(false);
        foreach (var g in _gauges) g.Dispose();
    }

    private async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) != 0)
        {
            await _stopped.Task.ConfigureAwait(false);
            return;
        }
        try
        {
            _stop.Cancel();
            await _loop.ConfigureAwait(false);
            // Reports that arrive from now on are not counted again: what is left is counted here, once.
            Volatile.Write(ref _abandoned, 1);
            int left = _pending.TakeAll().Count + Interlocked.Exchange(ref _inflight, 0);
            if (left > 0)
            {
                Drop(ref _droppedShutdown, "shutdown", left);
                _logger.LogWarning("stream {Stream}: kafka stopped with {Count} undelivered events", StreamId, left);
            }
            await Task.Run(() => _producers.Detach(_producer, TimeSpan.FromSeconds(_options.DrainTimeoutSeconds))).ConfigureAwait(false);
        }
        finally
        {
            _stop.Dispose();
            _stopped.TrySetResult();
        }
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        try
        {
            while (true)
            {
                await _pending.WaitAsync(ct).ConfigureAwait(false);
                await _slots.WaitAsync(ct).ConfigureAwait(false);
                Interlocked.Increment(ref _inflight); // before the take, so Buffered never reads 0 while an event moves
                if (!_pending.TryTake(out var payload))
                {
                    Interlocked.Decrement(ref _inflight);
                    _slots.Release();
                    continue;
                }
                try
                {
                    _producer.Producer.Produce(Topic, new Message<string, byte[]> { Key = StreamId, Value = payload }, _onDelivery);
                }
                catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's own queue is full (other streams share it): wait and try again, oldest first.
                    var lost = new List<byte[]>();
                    _pending.PushFront([payload], lost);
                    if (lost.Count > 0) Drop(ref _droppedOverflow, "overflow", lost.Count);
                    Settle();
                    await Task.Delay(50, ct).ConfigureAwait(false);
                }
                catch (KafkaException ex)
                {
                    Settle();
                    Drop(ref _droppedRejected, "rejected", 1);
                    _logger.LogError("stream {Stream}: kafka refused an event for {Topic}: {Error}", StreamId, Topic, ex.Error.Reason);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "stream {Stream}: kafka sender failed; events are no longer sent", StreamId);
        }
    }

    /// <summary>A delivery report (on librdkafka's poll thread): sent, or failed and counted.</summary>
    private void OnDelivery(DeliveryReport<string, byte[]> report)
    {
        if (Volatile.Read(ref _abandoned) != 0) return;
        if (report.Error.IsError)
        {
            long n = Interlocked.Increment(ref _droppedFailed);
            _metrics.EventsDropped("failed").Inc();
            if (n == 1 || n % 1000 == 0)
                _logger.LogWarning("stream {Stream}: kafka could not deliver to {Topic}: {Error} ({Count} so far)", StreamId, Topic, report.Error.Reason, n);
        }
        else
        {
            Interlocked.Increment(ref _sent);
            _metrics.EventsSent.Inc();
            _producer.Delivered();
        }
        Settle();
    }

    /// <summary>An event left the producer (delivered, failed or never accepted): its slot is free again.</summary>
    private void Settle()
    {
        Interlocked.Decrement(ref _inflight);
        _slots.Release();
        if (Buffered == 0) Volatile.Read(ref _idle)?.TrySetResult();
    }

    private void Drop(ref long counter, string reason, int n)
    {
        Interlocked.Add(ref counter, n);
        _metrics.EventsDropped(reason).Inc(n);
    }
}
