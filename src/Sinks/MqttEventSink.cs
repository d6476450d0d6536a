using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Protocol;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// Publishes a stream's events to an MQTT broker (MQTTnet), one JSON message per event (schema
/// <see cref="EventJson.SchemaVersion"/>), over a connection shared with the instance's other streams
/// (<see cref="MqttConnections"/>). Never blocks the pipeline: <see cref="WriteAsync"/> only queues into this stream's
/// bounded buffer (the oldest are dropped and counted when it is full). An async loop sends as events arrive, up to
/// <see cref="MqttOptions.MaxInflight"/> unacknowledged at once (QoS 2: one) and in order; what a lost connection left unacknowledged
/// goes back to the front of the buffer and is sent again after the reconnect, so a broker restart loses nothing
/// (QoS 1 may then deliver a message twice). Events count as sent when the broker acknowledges them (QoS 1, 2) or when
/// they are written to the connection (QoS 0).
/// </summary>
public sealed class MqttEventSink : ISink, ISinkHealth, IEventSinkCounts
{
    private static readonly byte[] s_online = "online"u8.ToArray();
    private static readonly byte[] s_offline = "offline"u8.ToArray();

    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly MqttConnections _connections;
    private readonly MqttConnection _connection;
    private readonly OutboxSender<Message> _sender;
    private readonly EventOutbox<Message> _outbox;
    private readonly List<Message> _unconfirmed = new();         // failed with the connection; resent after the reconnect
    private readonly SinkMetrics _metrics;
    private long _sequence;
    private long _connects, _failedAttempts;

    private sealed class Message(long sequence, byte[] payload)
    {
        public long Sequence { get; } = sequence;
        public byte[] Payload { get; } = payload;
    }

    /// <param name="options">Broker, topics, buffer (validated here).</param>
    /// <param name="streamId">The stream whose events this sink publishes (part of the topics).</param>
    /// <param name="logger">Connection changes and failures.</param>
    /// <param name="connections">The instance's connections, to share one per broker; null = <see cref="MqttConnections.Shared"/>.</param>
    /// <param name="metrics">Where sent and dropped events, reconnects, buffer depth and connection state are recorded; null = <see cref="PipelineMetrics.Default"/>.</param>
    /// <exception cref="OptionsException">An option is invalid, a TLS file cannot be read, or the options clash with the connection they would share.</exception>
    public MqttEventSink(MqttOptions options, string streamId, ILogger? logger = null, MqttConnections? connections = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        options.Validate();
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        StreamId = streamId;
        EventsTopic = MqttOptions.ExpandTopic(options.Topic, options.InstanceId, streamId);
        StateTopic = string.IsNullOrEmpty(options.StateTopic) ? null : MqttOptions.ExpandTopic(options.StateTopic, options.InstanceId, streamId);
        InstanceStateTopic = string.IsNullOrEmpty(options.InstanceStateTopic) ? null : MqttOptions.ExpandTopic(options.InstanceStateTopic, options.InstanceId, "");
        ClientId = options.ExpandClientId(streamId);
        // MQTTnet finishes concurrent exactly-once handshakes (PUBREC -> PUBREL) in any order, and the broker forwards a
        // QoS 2 message on its PUBREL: one at a time keeps a stream's events in order.
        int inflight = options.Qos == 2 ? 1 : options.MaxInflight;
        _metrics = new SinkMetrics(metrics, streamId, Name);
        _sender = new OutboxSender<Message>(options.BufferCapacity, inflight, _metrics, streamId, _logger,
            TimeSpan.FromSeconds(options.DrainTimeoutSeconds));
        _outbox = _sender.Outbox;
        _connections = connections ?? MqttConnections.Shared;
        _connection = _connections.Attach(this, options, ClientId, _logger, "sinks.mqtt");
        _sender.Start(SendAsync, LeaveAsync, () => IsConnected);
    }

    public string Name => "mqtt";
    public string StreamId { get; }
    public string EventsTopic { get; }
    /// <summary>The stream's retained state topic, or null.</summary>
    public string? StateTopic { get; }
    /// <summary>The shared connection's retained state topic (its last will), or null.</summary>
    public string? InstanceStateTopic { get; }
    /// <summary>Client id of the (shared) connection.</summary>
    public string ClientId { get; }
    public bool IsConnected => _connection.IsConnected;

    long IEventSinkCounts.EventsDelivered => Sent;
    long IEventSinkCounts.EventsGivenUp => Dropped;
    int IEventSinkCounts.EventsBuffered => Buffered;

    /// <summary>
    /// Connected while the broker connection is up; buffering (events held, oldest dropped and counted when full) while it
    /// is not. Once stopped the sink has left the connection (the last stream out closes it): the state stays as it was.
    /// </summary>
    public SinkHealth Health => _sender.Health(() => !IsConnected,
        () => $"no connection to {_connection.Broker}; events are buffered (up to {_options.BufferCapacity})");
    /// <summary>Events delivered (acknowledged for QoS 1 and 2, written for QoS 0).</summary>
    public long Sent => _sender.Sent;
    /// <summary>Events given up on: buffer overflow, refused by the broker or the client library, undelivered at shutdown.</summary>
    public long Dropped => DroppedOverflow + DroppedRejected + DroppedAtShutdown;
    /// <summary>Events pushed out of a full buffer.</summary>
    public long DroppedOverflow => _outbox.DroppedOverflow;
    /// <summary>Events the broker refused (an MQTT 5 reason code) or that could not be encoded.</summary>
    public long DroppedRejected => _sender.DroppedRejected;
    /// <summary>Events still undelivered when the sink stopped.</summary>
    public long DroppedAtShutdown => _outbox.DroppedAtShutdown;
    /// <summary>Events waiting or unacknowledged.</summary>
    public int Buffered => _outbox.Buffered;
    /// <summary>Times this sink's connection came up while it was attached (the first plus each reconnect).</summary>
    public long Connections => Interlocked.Read(ref _connects);
    /// <summary>Connection attempts that failed while this sink was attached.</summary>
    public long FailedAttempts => Interlocked.Read(ref _failedAttempts);

    /// <summary>Queues the item's events (never waits). After the sink stopped they are dropped and counted.</summary>
    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        foreach (var e in item.Events) _outbox.Add(() => new Message(Interlocked.Increment(ref _sequence), EventJson.SerializeUtf8(e, _options.InstanceId)));
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Keeps delivering for up to <see cref="MqttOptions.DrainTimeoutSeconds"/>, or until <paramref name="ct"/> is cancelled
    /// (the stream's stop deadline: it ends the drain like the timeout, without throwing); what is left is dropped and
    /// counted, then the sink publishes the stream's state <c>offline</c> and leaves the connection (the last stream out
    /// closes it).
    /// </summary>
    public ValueTask CompleteAsync(CancellationToken ct) => _sender.CompleteAsync(ct);

    /// <summary>Stops without draining (what is buffered is dropped and counted); idempotent.</summary>
    public ValueTask DisposeAsync() => _sender.DisposeAsync();

    /// <summary>The shared connection came up (again) while this sink is attached. Called under the connection's lock.</summary>
    internal void OnConnected(bool reconnect)
    {
        Interlocked.Increment(ref _connects);
        if (reconnect) _metrics.Reconnects("ok").Inc();
    }

    /// <summary>A connection attempt failed while this sink is attached. Called under the connection's lock.</summary>
    internal void OnConnectFailed()
    {
        Interlocked.Increment(ref _failedAttempts);
        _metrics.Reconnects("failed").Inc();
    }

    /// <summary>Test hook: the shared connection vanishes as if the process had crashed (no DISCONNECT: the broker sends the will).</summary>
    internal Task DangerousCrashConnectionAsync() => _connection.DangerousCrashAsync();

    /// <summary>
    /// After the sender stopped and what was left was counted (what a lost connection left unconfirmed was still in flight:
    /// counted with the rest, once): publishes the stream's state offline and leaves the connection.
    /// </summary>
    private async Task LeaveAsync()
    {
        lock (_unconfirmed) _unconfirmed.Clear();
        await PublishOfflineAsync().ConfigureAwait(false);
        await _connections.DetachAsync(this, _connection).ConfigureAwait(false);
    }

    private async Task PublishOfflineAsync()
    {
        if (StateTopic is null || _connection.CurrentSession is not { IsLost: false } session) return;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Min(5, _options.ConnectTimeoutSeconds)));
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, session.Lost);
        try
        {
            await MqttConnection.PublishRetainedAsync(session, StateTopic, s_offline, linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("stream {Stream}: mqtt offline state not published: {Error}", StreamId, ex.Message);
        }
    }

    /// <summary>Sends over each session the shared connection brings up, until the sink stops (<paramref name="ct"/>).</summary>
    private async Task SendAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var session = await _connection.WaitSessionAsync(ct).ConfigureAwait(false);
            await SendOverAsync(session, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends over one live session until it is lost (or the sink stops), then waits for every publish of it to settle and
    /// puts the unconfirmed events back at the front of the buffer, oldest first.
    /// </summary>
    private async Task SendOverAsync(MqttSession session, CancellationToken ct)
    {
        using var broken = CancellationTokenSource.CreateLinkedTokenSource(ct, session.Lost);
        var token = broken.Token;
        var outstanding = new List<Task>();
        try
        {
            if (StateTopic is not null) outstanding.Add(PublishOnlineAsync(session, token));
            while (true)
            {
                await _outbox.WaitForEventAndSlotAsync(token).ConfigureAwait(false);
                try
                {
                    await session.AcquireAsync(token).ConfigureAwait(false);
                }
                catch
                {
                    _outbox.ReleaseSlot();
                    throw;
                }
                if (!_outbox.TryTake(out var msg))
                {
                    session.Release();
                    continue;
                }
                outstanding.Add(PublishAsync(session, msg, broken));
                if (outstanding.Count > 2 * _options.MaxInflight) outstanding.RemoveAll(t => t.IsCompleted);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        await Task.WhenAll(outstanding).ConfigureAwait(false);
        if (ct.IsCancellationRequested) return; // stopping: StopAsync counts what is left
        if (!session.IsLost)
        {
            // A publish failed with the connection before the client noticed; wait until it does.
            using var lostOrStopped = CancellationTokenSource.CreateLinkedTokenSource(ct, session.Lost);
            try
            {
                await Task.Delay(Timeout.Infinite, lostOrStopped.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
            if (ct.IsCancellationRequested) return;
        }
        List<Message> resend;
        lock (_unconfirmed)
        {
            resend = _unconfirmed.OrderBy(m => m.Sequence).ToList();
            _unconfirmed.Clear();
        }
        _outbox.PutBack(resend);
    }

    private async Task PublishOnlineAsync(MqttSession session, CancellationToken token)
    {
        try
        {
            await MqttConnection.PublishRetainedAsync(session, StateTopic!, s_online, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
        {
            _logger.LogDebug("stream {Stream}: mqtt online state not published: {Error}", StreamId, ex.Message);
        }
    }

    /// <summary>One event: delivered, refused (dropped and counted) or, when the connection failed, kept for the resend.</summary>
    private async Task PublishAsync(MqttSession session, Message msg, CancellationTokenSource broken)
    {
        bool unconfirmed = false;
        try
        {
            var result = await session.Client.PublishAsync(Build(session, msg), broken.Token).ConfigureAwait(false);
            if (result.IsSuccess)
            {
                _sender.Delivered();
            }
            else
            {
                Reject($"{result.ReasonCode}{(string.IsNullOrEmpty(result.ReasonString) ? "" : $" ({result.ReasonString})")}");
            }
        }
        catch (Exception ex) when (ex is MqttCommunicationException or OperationCanceledException or ObjectDisposedException)
        {
            unconfirmed = true;
            lock (_unconfirmed) _unconfirmed.Add(msg);
            try
            {
                broken.Cancel(); // stop taking events until the connection is back
            }
            catch (ObjectDisposedException)
            {
            }
        }
        catch (Exception ex)
        {
            Reject(ex.Message);
        }
        finally
        {
            session.Release();
            // An unconfirmed event stays in flight until it is put back after the reconnect (or counted at the stop).
            if (unconfirmed) _outbox.ReleaseSlot();
            else _outbox.Settle();
        }
    }

    private MqttApplicationMessage Build(MqttSession session, Message msg)
    {
        var b = new MqttApplicationMessageBuilder().WithTopic(EventsTopic).WithPayload(msg.Payload)
            .WithQualityOfServiceLevel((MqttQualityOfServiceLevel)_options.Qos);
        if (session.Protocol == MqttProtocol.V5) b.WithContentType("application/json").WithPayloadFormatIndicator(MqttPayloadFormatIndicator.CharacterData);
        return b.Build();
    }

    private void Reject(string why)
    {
        _sender.Rejected();
        _logger.LogError("stream {Stream}: mqtt {Topic} refused an event: {Error}", StreamId, EventsTopic, why);
    }

}
