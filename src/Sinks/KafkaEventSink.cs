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
public sealed class KafkaEventSink : ISink, ISinkHealth, IEventSinkCounts
{
    private readonly KafkaOptions _options;
    private readonly ILogger _logger;
    private readonly KafkaProducers _producers;
    private readonly KafkaProducer _producer;
    private readonly OutboxSender<byte[]> _sender;
    private readonly EventOutbox<byte[]> _outbox;
    private readonly SinkMetrics _metrics;
    private readonly Action<DeliveryReport<string, byte[]>> _onDelivery;
    private long _droppedFailed;

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
        _sender = new OutboxSender<byte[]>(options.BufferCapacity, options.MaxInflight, _metrics, streamId, _logger,
            TimeSpan.FromSeconds(options.DrainTimeoutSeconds));
        _outbox = _sender.Outbox;
        // Leaving comes after the drain (every event settled, or the drain time or the stop deadline ran out and what is left
        // was counted as dropped): the producer is closed without flushing again. Flushing for the drain time once more held
        // a stop whose deadline had cut the drain for that whole time (60 s) while the brokers were down.
        _sender.Start(SendAsync, () => Task.Run(() => _producers.Detach(_producer, TimeSpan.Zero)), () => _producer.Connected);
    }

    public string Name => "kafka";
    public string StreamId { get; }
    /// <summary>The topic events go to (<see cref="KafkaOptions.Topic"/> with the instance id).</summary>
    public string Topic { get; }
    /// <summary>True once the brokers acknowledged an event and none has reported all brokers down since.</summary>
    public bool IsConnected => _producer.Connected;
    /// <summary>Events the brokers acknowledged (delivery reports without error).</summary>
    public long Sent => _sender.Sent;
    /// <summary>Events given up on: buffer overflow, failed deliveries, refused by the client, undelivered at shutdown.</summary>
    public long Dropped => DroppedOverflow + DroppedFailed + DroppedRejected + DroppedAtShutdown;
    public long DroppedOverflow => _outbox.DroppedOverflow;
    /// <summary>Events whose delivery report was an error (brokers away past the delivery timeout, or a broker refusal).</summary>
    public long DroppedFailed => Interlocked.Read(ref _droppedFailed);
    /// <summary>Events the client refused outright (too large, unknown topic).</summary>
    public long DroppedRejected => _sender.DroppedRejected;
    public long DroppedAtShutdown => _outbox.DroppedAtShutdown;
    /// <summary>Events waiting here or handed to the producer and not acknowledged yet.</summary>
    public int Buffered => _outbox.Buffered;
    long IEventSinkCounts.EventsDelivered => Sent;
    long IEventSinkCounts.EventsGivenUp => Dropped;
    int IEventSinkCounts.EventsBuffered => Buffered;

    /// <summary>
    /// Buffering while events wait and the brokers are not known to be up (none acknowledged yet, or all reported down);
    /// connected otherwise. After the sink stopped the state stays as it was.
    /// </summary>
    public SinkHealth Health => _sender.Health(() => !IsConnected && Buffered > 0,
        () => $"brokers {_options.Brokers} not reachable; events are buffered (up to {_options.BufferCapacity})");

    /// <summary>Events handed to the producer and not acknowledged yet (at most <see cref="KafkaOptions.MaxInflight"/>).</summary>
    public int InFlight => _outbox.InFlight;

    /// <summary>Queues the item's events (never waits). After the sink stopped they are dropped and counted.</summary>
    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        foreach (var e in item.Events) _outbox.Add(() => EventJson.SerializeUtf8(e, _options.InstanceId));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Keeps delivering for up to <see cref="KafkaOptions.DrainTimeoutSeconds"/>, or until <paramref name="ct"/> is cancelled
    /// (the stream's stop deadline: it ends the drain like the timeout, without throwing); what is left is dropped and
    /// counted, then the sink leaves the producer.
    /// </summary>
    public ValueTask CompleteAsync(CancellationToken ct) => _sender.CompleteAsync(ct);

    /// <summary>Stops without draining (what is held is dropped and counted); idempotent.</summary>
    public ValueTask DisposeAsync() => _sender.DisposeAsync();

    /// <summary>Hands events to the producer until the sink stops (<paramref name="ct"/>).</summary>
    private async Task SendAsync(CancellationToken ct)
    {
        while (true)
        {
            await _outbox.WaitForEventAndSlotAsync(ct).ConfigureAwait(false);
            if (!_outbox.TryTake(out var payload)) continue;
            try
            {
                _producer.Producer.Produce(Topic, new Message<string, byte[]> { Key = StreamId, Value = payload }, _onDelivery);
            }
            catch (ProduceException<string, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                // librdkafka's own queue is full (other streams share it): wait and try again, oldest first.
                _outbox.PutBack([payload]);
                _outbox.ReleaseSlot();
                await Task.Delay(50, ct).ConfigureAwait(false);
            }
            catch (KafkaException ex)
            {
                _outbox.Settle();
                _sender.Rejected();
                _logger.LogError("stream {Stream}: kafka refused an event for {Topic}: {Error}", StreamId, Topic, ex.Error.Reason);
            }
        }
    }

    /// <summary>A delivery report (on librdkafka's poll thread): sent, or failed and counted.</summary>
    private void OnDelivery(DeliveryReport<string, byte[]> report)
    {
        // After the stop what was left is counted once: reports that arrive from then on are not counted again.
        if (_outbox.Abandoned) return;
        if (report.Error.IsError)
        {
            long n = Interlocked.Increment(ref _droppedFailed);
            _metrics.EventsDropped("failed").Inc();
            if (n == 1 || n % 1000 == 0)
                _logger.LogWarning("stream {Stream}: kafka could not deliver to {Topic}: {Error} ({Count} so far)", StreamId, Topic, report.Error.Reason, n);
        }
        else
        {
            _sender.Delivered();
            _producer.Delivered();
        }
        _outbox.Settle();
    }
}
