using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;
using StreamVision.Sinks.Interop;

namespace StreamVision.Sinks;

/// <summary>An MQTT error from libmosquitto, with its code and message.</summary>
public sealed class MqttException : StreamVisionException
{
    public MqttException(int code, string message, Exception? inner = null) : base(message, inner) => Code = code;

    /// <summary>libmosquitto's <c>mosq_err_t</c>.</summary>
    public int Code { get; }
}

/// <summary>Where and how a stream's events go to an MQTT broker. Check with <see cref="Validate"/> (the sink does).</summary>
public sealed record MqttOptions
{
    /// <summary>Broker host name or address. Default 127.0.0.1.</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Broker TCP port. Default 1883.</summary>
    public int Port { get; init; } = 1883;
    /// <summary>This instance's id, for the topics and the client id. Default "local".</summary>
    public string InstanceId { get; init; } = "local";
    /// <summary>
    /// Events topic; <c>{instance}</c> and <c>{stream}</c> are replaced (with <c>/ + #</c> in the ids turned into <c>_</c>).
    /// Default <c>streamvision/{instance}/{stream}/events</c>.
    /// </summary>
    public string Topic { get; init; } = "streamvision/{instance}/{stream}/events";
    /// <summary>
    /// Retained state topic: <c>online</c> once connected, <c>offline</c> on a clean stop and, as the last will, when the
    /// connection dies. Null or empty = none. Default <c>streamvision/{instance}/{stream}/state</c>.
    /// </summary>
    public string? StateTopic { get; init; } = "streamvision/{instance}/{stream}/state";
    /// <summary>0 at most once (cheapest), 1 at least once (broker acknowledges; a resend may duplicate), 2 exactly once (slowest). Default 1.</summary>
    public int Qos { get; init; } = 1;
    /// <summary>MQTT client id; null = <c>streamvision-{instance}-{stream}</c>. Must be unique on the broker.</summary>
    public string? ClientId { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    /// <summary>Seconds between keep-alive pings; a dead connection is noticed after about 1.5 times this. 5..3600, default 30.</summary>
    public int KeepAliveSeconds { get; init; } = 30;
    /// <summary>
    /// Events held while the broker is unreachable or slow (waiting plus unacknowledged); beyond it the oldest are dropped
    /// and counted. Bigger survives longer outages and costs about 0.5 KB per event. 1..1,000,000, default 10000.
    /// </summary>
    public int BufferCapacity { get; init; } = 10000;
    /// <summary>Messages sent and not yet acknowledged at once. More is faster on slow links and resends more after a drop. 1..1000, default 20.</summary>
    public int MaxInflight { get; init; } = 20;
    /// <summary>Seconds before the first reconnect attempt; doubles per failure up to <see cref="MaxReconnectDelaySeconds"/>. Default 0.5.</summary>
    public double ReconnectDelaySeconds { get; init; } = 0.5;
    /// <summary>Longest wait between reconnect attempts, seconds. Default 30.</summary>
    public double MaxReconnectDelaySeconds { get; init; } = 30;
    /// <summary>Seconds a connection attempt may take before it is abandoned and retried. Default 10.</summary>
    public double ConnectTimeoutSeconds { get; init; } = 10;
    /// <summary>Seconds <see cref="MqttEventSink.CompleteAsync"/> keeps trying to deliver what is buffered; the rest is dropped and counted. Default 5.</summary>
    public double DrainTimeoutSeconds { get; init; } = 5;
    /// <summary>
    /// Milliseconds the network thread waits for socket activity per turn; the most a new event waits before it is
    /// sent when the connection is idle. Smaller is snappier and wakes more often. 1..1000, default 20.
    /// </summary>
    public int PollIntervalMs { get; init; } = 20;

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "sinks.mqtt")
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new OptionsException($"{path}.host", "is required");
        if (Port is < 1 or > 65535) throw new OptionsException($"{path}.port", $"must be 1..65535, got {Port}");
        if (string.IsNullOrWhiteSpace(InstanceId)) throw new OptionsException($"{path}.instance", "is required");
        ValidateTopic(Topic, $"{path}.topic", required: true);
        ValidateTopic(StateTopic, $"{path}.state_topic", required: false);
        if (Qos is < 0 or > 2) throw new OptionsException($"{path}.qos", $"must be 0, 1 or 2, got {Qos}");
        if (KeepAliveSeconds is < 5 or > 3600) throw new OptionsException($"{path}.keepalive_seconds", $"must be 5..3600, got {KeepAliveSeconds}");
        if (BufferCapacity is < 1 or > 1_000_000) throw new OptionsException($"{path}.buffer", $"must be 1..1000000, got {BufferCapacity}");
        if (MaxInflight is < 1 or > 1000) throw new OptionsException($"{path}.max_inflight", $"must be 1..1000, got {MaxInflight}");
        OptionChecks.Seconds(ReconnectDelaySeconds, $"{path}.reconnect_delay_seconds", 0.01, 3600);
        OptionChecks.Seconds(MaxReconnectDelaySeconds, $"{path}.max_reconnect_delay_seconds", ReconnectDelaySeconds, 3600);
        OptionChecks.Seconds(ConnectTimeoutSeconds, $"{path}.connect_timeout_seconds", 0.1, 600);
        OptionChecks.Seconds(DrainTimeoutSeconds, $"{path}.drain_timeout_seconds", 0, 600);
        if (PollIntervalMs is < 1 or > 1000) throw new OptionsException($"{path}.poll_interval_ms", $"must be 1..1000, got {PollIntervalMs}");
        if (ClientId is { Length: > 128 }) throw new OptionsException($"{path}.client_id", "must be at most 128 characters");
    }

    private static void ValidateTopic(string? topic, string path, bool required)
    {
        if (string.IsNullOrEmpty(topic))
        {
            if (required) throw new OptionsException(path, "is required");
            return;
        }
        if (topic.Contains('+') || topic.Contains('#')) throw new OptionsException(path, $"'{topic}': wildcards + and # cannot be published to");
        if (Encoding.UTF8.GetByteCount(topic) > 60000) throw new OptionsException(path, "is too long");
    }

    /// <summary>Replaces {instance} and {stream} in a topic, making the ids safe as single topic levels.</summary>
    public static string ExpandTopic(string template, string instanceId, string streamId) =>
        template.Replace("{instance}", TopicLevel(instanceId), StringComparison.Ordinal).Replace("{stream}", TopicLevel(streamId), StringComparison.Ordinal);

    private static string TopicLevel(string id)
    {
        var sb = new StringBuilder(id.Length);
        foreach (char c in id) sb.Append(c is '/' or '+' or '#' || char.IsControl(c) ? '_' : c);
        return sb.Length == 0 ? "_" : sb.ToString();
    }
}

/// <summary>
/// Publishes a stream's events to an MQTT broker through libmosquitto, one JSON message per event
/// (schema <see cref="EventJson.SchemaVersion"/>). Never blocks the pipeline: <see cref="WriteAsync"/> only queues into a
/// bounded buffer (the oldest are dropped and counted when it is full). A dedicated network thread owns the client:
/// it connects, publishes up to <see cref="MqttOptions.MaxInflight"/> unacknowledged messages, reconnects with
/// exponential backoff, and on every reconnect starts a fresh client and resends what was not acknowledged, so nothing
/// in the buffer is lost to a broker restart (QoS 1 may then deliver a message twice).
/// </summary>
public sealed class MqttEventSink : ISink, IMosquittoEvents
{
    private const int RunMode = 0, DrainMode = 1, StopMode = 2;
    private static readonly byte[] s_online = "online"u8.ToArray();
    private static readonly byte[] s_offline = "offline"u8.ToArray();

    private readonly MqttOptions _options;
    private readonly ILogger _logger;
    private readonly EventBuffer<Message> _pending;
    private readonly Dictionary<int, Message> _inflight = new();     // network thread only
    private readonly HashSet<int> _earlyAcks = new();                // network thread only
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _wake = new(false);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SinkMetrics _metrics;
    private readonly IDisposable[] _gauges;
    private MosquittoClient? _client;                                // network thread only
    private long _sequence;
    private volatile bool _connected;
    private volatile int _inflightCount;
    private int _mode;
    private long _drainDeadline;
    private bool _needOnline, _stateAcked;
    private long _sent, _droppedOverflow, _droppedRejected, _droppedShutdown, _connections, _failedAttempts;
    private int _disposed;

    private sealed class Message(long sequence, byte[] payload, bool isState = false)
    {
        public long Sequence { get; } = sequence;
        public byte[] Payload { get; } = payload;
        public bool IsState { get; } = isState;
    }

    /// <param name="options">Broker, topics, buffer (validated here).</param>
    /// <param name="streamId">The stream whose events this sink publishes (part of the topics and client id).</param>
    /// <param name="logger">Connection changes and failures.</param>
    /// <exception cref="OptionsException">An option is invalid.</exception>
    /// <param name="metrics">Where sent and dropped events, reconnects, buffer depth and connection state are recorded; null = <see cref="PipelineMetrics.Default"/>.</param>
    /// <exception cref="MqttException">libmosquitto is not installed.</exception>
    public MqttEventSink(MqttOptions options, string streamId, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        options.Validate();
        _ = MosquittoClient.LibraryVersion; // fail here, not on the network thread, when the library is missing
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        StreamId = streamId;
        EventsTopic = MqttOptions.ExpandTopic(options.Topic, options.InstanceId, streamId);
        StateTopic = string.IsNullOrEmpty(options.StateTopic) ? null : MqttOptions.ExpandTopic(options.StateTopic, options.InstanceId, streamId);
        ClientId = options.ClientId ?? $"streamvision-{options.InstanceId}-{streamId}";
        _pending = new EventBuffer<Message>(options.BufferCapacity);
        _metrics = new SinkMetrics(metrics, streamId, Name);
        _gauges =
        [
            _metrics.Register(SinkMetrics.Gauge.EventBufferDepth, () => Buffered),
            _metrics.Register(SinkMetrics.Gauge.Connected, () => _connected ? 1 : 0),
        ];
        _thread = new Thread(Run) { IsBackground = true, Name = $"mqtt {streamId}" };
        _thread.Start();
    }

    public string Name => "mqtt";
    public string StreamId { get; }
    public string EventsTopic { get; }
    /// <summary>The retained state topic, or null.</summary>
    public string? StateTopic { get; }
    public string ClientId { get; }
    public bool IsConnected => _connected;
    /// <summary>Events delivered (written for QoS 0, acknowledged for QoS 1 and 2).</summary>
    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>Events given up on: buffer overflow, refused by the library (too big), undelivered at shutdown.</summary>
    public long Dropped => DroppedOverflow + Interlocked.Read(ref _droppedRejected) + DroppedAtShutdown;
    /// <summary>Events pushed out of a full buffer.</summary>
    public long DroppedOverflow => Interlocked.Read(ref _droppedOverflow);
    /// <summary>Events still undelivered when the sink stopped.</summary>
    public long DroppedAtShutdown => Interlocked.Read(ref _droppedShutdown);
    /// <summary>Events waiting or unacknowledged.</summary>
    public int Buffered => _pending.Count + _inflightCount;
    /// <summary>Successful connections (the first plus each reconnect).</summary>
    public long Connections => Interlocked.Read(ref _connections);
    /// <summary>Connection attempts that failed.</summary>
    public long FailedAttempts => Interlocked.Read(ref _failedAttempts);

    /// <summary>Queues the item's events (never waits). After the sink stopped they are dropped and counted.</summary>
    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        foreach (var e in item.Events)
        {
            var msg = new Message(Interlocked.Increment(ref _sequence), EventJson.SerializeUtf8(e, _options.InstanceId));
            if (Volatile.Read(ref _mode) == StopMode || _stopped.Task.IsCompleted)
            {
                DropShutdown(1);
                continue;
            }
            if (_pending.Add(msg, out _)) DropOverflow(1);
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Keeps delivering for up to <see cref="MqttOptions.DrainTimeoutSeconds"/>, then publishes offline and disconnects.</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _disposed) != 0) return;
        Interlocked.Exchange(ref _drainDeadline, Stopwatch.GetTimestamp() + (long)(_options.DrainTimeoutSeconds * Stopwatch.Frequency));
        Interlocked.CompareExchange(ref _mode, DrainMode, RunMode);
        _wake.Set();
        await _stopped.Task.WaitAsync(ct).ConfigureAwait(false);
    }

    /// <summary>Stops without draining (what is buffered is dropped and counted); idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Volatile.Write(ref _mode, StopMode);
        _wake.Set();
        await _stopped.Task.ConfigureAwait(false);
        foreach (var g in _gauges) g.Dispose();
        _wake.Dispose();
    }

    private void Run()
    {
        var backoff = TimeSpan.FromSeconds(_options.ReconnectDelaySeconds);
        long nextAttempt = 0, connectStarted = 0;
        bool wasUp = false;
        try
        {
            while (true)
            {
                int mode = Volatile.Read(ref _mode);
                if (mode == StopMode) break;
                if (mode == DrainMode && (Buffered == 0 || Stopwatch.GetTimestamp() >= Interlocked.Read(ref _drainDeadline))) break;
                if (_client is null)
                {
                    long wait = nextAttempt - Stopwatch.GetTimestamp();
                    if (wait > 0)
                    {
                        _wake.Wait(TimeSpan.FromSeconds(Math.Min(0.1, (double)wait / Stopwatch.Frequency)));
                        continue;
                    }
                    if (!TryStartConnect(out string? error))
                    {
                        Interlocked.Increment(ref _failedAttempts);
                        _metrics.Reconnects("failed").Inc();
                        _logger.LogDebug("stream {Stream}: mqtt {Host}:{Port} connect failed: {Error}", StreamId, _options.Host, _options.Port, error);
                        nextAttempt = Stopwatch.GetTimestamp() + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
                        backoff = Next(backoff);
                        continue;
                    }
                    connectStarted = Stopwatch.GetTimestamp();
                    continue;
                }
                int rc = _client.Loop(_options.PollIntervalMs);
                string? lost = null;
                if (rc != Mosquitto.Success) lost = MosquittoClient.Describe(rc);
                else if (!_connected && Stopwatch.GetElapsedTime(connectStarted).TotalSeconds > _options.ConnectTimeoutSeconds) lost = "no answer from the broker";
                if (lost is not null)
                {
                    bool up = _connected;
                    Disconnected();
                    if (up)
                    {
                        _logger.LogWarning("stream {Stream}: mqtt connection to {Host}:{Port} lost ({Error}); buffering up to {Capacity} events and reconnecting",
                            StreamId, _options.Host, _options.Port, lost, _options.BufferCapacity);
                        backoff = TimeSpan.FromSeconds(_options.ReconnectDelaySeconds);
                    }
                    else
                    {
                        Interlocked.Increment(ref _failedAttempts);
                        _metrics.Reconnects("failed").Inc();
                        _logger.LogDebug("stream {Stream}: mqtt {Host}:{Port} connect failed: {Error}", StreamId, _options.Host, _options.Port, lost);
                    }
                    nextAttempt = Stopwatch.GetTimestamp() + (long)(backoff.TotalSeconds * Stopwatch.Frequency);
                    backoff = Next(backoff);
                    continue;
                }
                if (_connected)
                {
                    if (!wasUp)
                    {
                        wasUp = true;
                        backoff = TimeSpan.FromSeconds(_options.ReconnectDelaySeconds);
                    }
                    Pump();
                }
                else
                {
                    wasUp = false;
                }
            }
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "stream {Stream}: mqtt network thread failed; events are no longer sent", StreamId);
        }
        finally
        {
            Shutdown();
        }
    }

    private TimeSpan Next(TimeSpan backoff) =>
        TimeSpan.FromSeconds(Math.Min(_options.MaxReconnectDelaySeconds, backoff.TotalSeconds * 2));

    private bool TryStartConnect(out string? error)
    {
        error = null;
        var client = new MosquittoClient(ClientId, this);
        try
        {
            if (StateTopic is not null) client.SetWill(StateTopic, s_offline, 1, retain: true);
            if (_options.Username is not null) client.SetCredentials(_options.Username, _options.Password);
            int rc = client.ConnectAsync(_options.Host, _options.Port, _options.KeepAliveSeconds);
            if (rc != Mosquitto.Success)
            {
                error = MosquittoClient.Describe(rc);
                client.Dispose();
                return false;
            }
        }
        catch (MqttException ex)
        {
            error = ex.Message;
            client.Dispose();
            return false;
        }
        _client = client;
        return true;
    }

    /// <summary>Drops the client; what it had not confirmed goes back to the front of the buffer, to be sent again.</summary>
    private void Disconnected()
    {
        _connected = false;
        _client?.Dispose();
        _client = null;
        var resend = _inflight.Values.Where(m => !m.IsState).OrderBy(m => m.Sequence).ToList();
        _inflight.Clear();
        _earlyAcks.Clear();
        _inflightCount = 0;
        var dropped = new List<Message>();
        _pending.PushFront(resend, dropped);
        if (dropped.Count > 0) DropOverflow(dropped.Count);
    }

    private void Pump()
    {
        var client = _client!;
        if (_needOnline && StateTopic is not null)
        {
            _needOnline = false;
            Publish(client, StateTopic, new Message(0, s_online, isState: true), qos: 1, retain: true);
        }
        while (_inflight.Count < _options.MaxInflight && _pending.TryTake(out var msg))
        {
            int rc = Publish(client, EventsTopic, msg, _options.Qos, retain: false);
            if (rc == Mosquitto.Success) continue;
            if (rc is Mosquitto.PayloadSize or Mosquitto.MalformedUtf8 or Mosquitto.Invalid)
            {
                Interlocked.Increment(ref _droppedRejected);
                _metrics.EventsDropped("rejected").Inc();
                _logger.LogError("stream {Stream}: mqtt refused an event: {Error}", StreamId, MosquittoClient.Describe(rc));
                continue;
            }
            var lost = new List<Message>();
            _pending.PushFront([msg], lost); // full only if events arrived meanwhile: then it is the oldest and goes
            if (lost.Count > 0) DropOverflow(lost.Count);
            break; // the connection is failing; Loop reports it
        }
        _inflightCount = _inflight.Count;
    }

    private int Publish(MosquittoClient client, string topic, Message msg, int qos, bool retain)
    {
        int rc = client.Publish(topic, msg.Payload, qos, retain, out int mid);
        if (rc != Mosquitto.Success) return rc;
        if (_earlyAcks.Remove(mid)) Delivered(msg);
        else _inflight[mid] = msg;
        return rc;
    }

    private void Delivered(Message msg)
    {
        if (msg.IsState)
        {
            _stateAcked = true;
            return;
        }
        Interlocked.Increment(ref _sent);
        _metrics.EventsSent.Inc();
    }

    private void Shutdown()
    {
        try
        {
            if (_client is not null && _connected)
            {
                if (StateTopic is not null)
                {
                    _stateAcked = false;
                    Publish(_client, StateTopic, new Message(0, s_offline, isState: true), qos: 1, retain: true);
                    long start = Stopwatch.GetTimestamp();
                    while (!_stateAcked && Stopwatch.GetElapsedTime(start).TotalSeconds < 1 && _client.Loop(10) == Mosquitto.Success) { }
                }
                _client.Disconnect();
                _client.Loop(10);
            }
        }
        catch (Exception ex)
        {
            _logger.LogDebug("stream {Stream}: mqtt disconnect: {Error}", StreamId, ex.Message);
        }
        _connected = false;
        _client?.Dispose();
        _client = null;
        int left = _inflight.Values.Count(m => !m.IsState) + _pending.TakeAll().Count;
        _inflight.Clear();
        _inflightCount = 0;
        if (left > 0)
        {
            DropShutdown(left);
            _logger.LogWarning("stream {Stream}: mqtt stopped with {Count} undelivered events", StreamId, left);
        }
        _stopped.TrySetResult();
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

    void IMosquittoEvents.OnConnect(int code)
    {
        if (code == 0)
        {
            _connected = true;
            _needOnline = true;
            long n = Interlocked.Increment(ref _connections);
            if (n > 1)
            {
                _metrics.Reconnects("ok").Inc();
                _logger.LogInformation("stream {Stream}: mqtt reconnected to {Host}:{Port}; {Count} events buffered", StreamId, _options.Host, _options.Port, Buffered);
            }
            else
            {
                _logger.LogInformation("stream {Stream}: mqtt connected to {Host}:{Port}, publishing to {Topic}", StreamId, _options.Host, _options.Port, EventsTopic);
            }
        }
        else
        {
            _logger.LogError("stream {Stream}: mqtt broker {Host}:{Port} refused the connection: {Reason}", StreamId, _options.Host, _options.Port, MosquittoClient.DescribeConnack(code));
        }
    }

    void IMosquittoEvents.OnDisconnect(int code) => _connected = false;

    void IMosquittoEvents.OnPublish(int messageId)
    {
        if (_inflight.Remove(messageId, out var msg)) Delivered(msg);
        else _earlyAcks.Add(messageId);
    }
}
