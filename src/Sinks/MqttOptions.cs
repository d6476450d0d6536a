using System.Text;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>MQTT protocol version spoken to the broker.</summary>
public enum MqttProtocol
{
    /// <summary>MQTT 3.1.1: understood by every broker.</summary>
    [OptionName("3.1.1", "311")]
    V311,
    /// <summary>MQTT 5: adds reason codes on refusals and acknowledgements; events carry content type application/json.</summary>
    [OptionName("5", "5.0")]
    V5,
}

/// <summary>TLS to the broker. The broker's certificate is always verified; there is no switch to accept an untrusted one.</summary>
public sealed record MqttTlsOptions
{
    /// <summary>
    /// PEM file of the certificate authorities that may sign the broker's certificate; they replace the system's trust
    /// store for this connection. Null = the system's trust store (a broker with a publicly signed certificate).
    /// </summary>
    public string? CaFile { get; init; }
    /// <summary>PEM client certificate for mutual TLS (with <see cref="KeyFile"/>). Null = none.</summary>
    public string? CertFile { get; init; }
    /// <summary>PEM private key of <see cref="CertFile"/> (unencrypted PKCS#8, PKCS#1 or SEC1). Null = none.</summary>
    public string? KeyFile { get; init; }
    /// <summary>Name the broker's certificate must carry; null = <see cref="MqttOptions.Host"/> (a DNS name or an IP address).</summary>
    public string? ServerName { get; init; }

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path)
    {
        CheckFile(CaFile, $"{path}.ca_file");
        CheckFile(CertFile, $"{path}.cert_file");
        CheckFile(KeyFile, $"{path}.key_file");
        if (CertFile is not null && KeyFile is null) throw new OptionsException($"{path}.key_file", "is required with cert_file");
        if (KeyFile is not null && CertFile is null) throw new OptionsException($"{path}.cert_file", "is required with key_file");
        if (ServerName is { Length: 0 }) throw new OptionsException($"{path}.server_name", "must not be empty");
    }

    private static void CheckFile(string? file, string path)
    {
        if (file is null) return;
        if (file.Length == 0) throw new OptionsException(path, "must not be empty");
        if (!File.Exists(file)) throw new OptionsException(path, $"file not found: {file}");
    }
}

/// <summary>
/// Where and how a stream's events go to an MQTT broker. Streams of one instance whose options name the same broker, client
/// id, credentials and TLS settings share one connection. Check with <see cref="Validate"/> (the sink does).
/// </summary>
public sealed record MqttOptions
{
    /// <summary>Broker host name or address. Default 127.0.0.1.</summary>
    [OptionRequired]
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>Broker TCP port, 1..65535. Default 1883, or 8883 when <see cref="Tls"/> is on.</summary>
    [OptionRange(1, 65535), OptionDefault("1883, 8883 with tls")]
    public int Port { get => _port ?? (Tls is null ? 1883 : 8883); init => _port = value; }
    private readonly int? _port;
    /// <summary>MQTT protocol version: <c>3.1.1</c> (default) or <c>5</c> (refusals and acknowledgements carry reason codes; events carry content type application/json).</summary>
    public MqttProtocol Protocol { get; init; } = MqttProtocol.V311;
    /// <summary>TLS to the broker; null = plain TCP. In a configuration file a mapping turns it on (<c>tls: {}</c> with the system's trust store). Default null.</summary>
    public MqttTlsOptions? Tls { get; init; }
    /// <summary>User name for the broker (MQTT 3.1.1 needs one with a password); null = none. Default null.</summary>
    public string? Username { get; init; }
    /// <summary>Password for <see cref="Username"/> (keep it out of the file with <c>SV__SINKS__MQTT__PASSWORD</c>); null = none. Default null.</summary>
    [OptionSecret]
    public string? Password { get; init; }
    /// <summary>This instance's id, for the topics and the client id. Default "local".</summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";
    /// <summary>
    /// MQTT client id of the connection; <c>{instance}</c> and <c>{stream}</c> are replaced. Streams whose client ids expand
    /// to the same text share one connection; it must be unique on the broker (a second connection with the same id takes
    /// the first over). Null = <c>streamvision-{instance}</c>: one connection per instance. At most 128 characters.
    /// </summary>
    public string? ClientId { get; init; }
    /// <summary>
    /// Events topic; <c>{instance}</c> and <c>{stream}</c> are replaced (with <c>/ + #</c> in the ids turned into <c>_</c>).
    /// Default <c>streamvision/{instance}/{stream}/events</c>.
    /// </summary>
    public string Topic { get; init; } = "streamvision/{instance}/{stream}/events";
    /// <summary>
    /// The stream's retained state topic: <c>online</c> whenever its connection comes up, <c>offline</c> when the stream
    /// stops. When the connection dies it keeps its last value; <see cref="InstanceStateTopic"/> (the connection's last
    /// will) says <c>offline</c> then. Null or empty = none. Default <c>streamvision/{instance}/{stream}/state</c>.
    /// </summary>
    public string? StateTopic { get; init; } = "streamvision/{instance}/{stream}/state";
    /// <summary>
    /// The connection's retained state topic (<c>{instance}</c> is replaced; <c>{stream}</c> is not allowed): <c>online</c>
    /// once connected, <c>offline</c> when the last stream stops and, as the broker-sent last will, when the connection dies
    /// without a goodbye. Null or empty = none (and no last will). Default <c>streamvision/{instance}/state</c>.
    /// </summary>
    public string? InstanceStateTopic { get; init; } = "streamvision/{instance}/state";
    /// <summary>0 at most once (cheapest), 1 at least once (broker acknowledges; a resend may duplicate), 2 exactly once (slowest). Default 1.</summary>
    [OptionRange(0, 2)]
    public int Qos { get; init; } = 1;
    /// <summary>Seconds between keep-alive pings; a dead connection is noticed after about 1.5 times this. 5..3600, default 30.</summary>
    [OptionKey("keepalive_seconds"), OptionRange(5, 3600)]
    public int KeepAliveSeconds { get; init; } = 30;
    /// <summary>
    /// Events this stream holds while the broker is unreachable or slow (waiting plus unacknowledged); beyond it the oldest
    /// are dropped and counted. Bigger survives longer outages and costs about 0.5 KB per event. 1..1,000,000, default 10000.
    /// </summary>
    [OptionKey("buffer"), OptionRange(1, 1_000_000)]
    public int BufferCapacity { get; init; } = 10000;
    /// <summary>
    /// This stream's messages sent and not yet acknowledged at once (the connection also respects the broker's receive
    /// maximum). More is faster on slow links and resends more after a drop. With QoS 2 a stream sends one at a time, to
    /// keep its events in order. 1..1000, default 20.
    /// </summary>
    [OptionRange(1, 1000)]
    public int MaxInflight { get; init; } = 20;
    /// <summary>Seconds before the first reconnect attempt; doubles per failure up to <see cref="MaxReconnectDelaySeconds"/>. 0.01..3600, default 0.5.</summary>
    [OptionRange(0.01, 3600)]
    public double ReconnectDelaySeconds { get; init; } = 0.5;
    /// <summary>Longest wait between reconnect attempts, seconds; at least <see cref="ReconnectDelaySeconds"/>. Default 30.</summary>
    [OptionRange(0.01, 3600)]
    public double MaxReconnectDelaySeconds { get; init; } = 30;
    /// <summary>Seconds a connection attempt (TCP, TLS, CONNACK) may take before it is abandoned and retried. 0.1..600, default 10.</summary>
    [OptionRange(0.1, 600)]
    public double ConnectTimeoutSeconds { get; init; } = 10;
    /// <summary>
    /// On stop, seconds a stream keeps trying to deliver what is buffered (<see cref="MqttEventSink.CompleteAsync"/>); the
    /// rest is dropped and counted. 0 = drop at once. 0..600, default 5.
    /// </summary>
    [OptionRange(0, 600)]
    public double DrainTimeoutSeconds { get; init; } = 5;

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "sinks.mqtt")
    {
        if (string.IsNullOrWhiteSpace(Host)) throw new OptionsException($"{path}.host", "is required");
        if (Port is < 1 or > 65535) throw new OptionsException($"{path}.port", $"must be 1..65535, got {Port}");
        if (!Enum.IsDefined(Protocol)) throw new OptionsException($"{path}.protocol", "must be 3.1.1 or 5");
        if (string.IsNullOrWhiteSpace(InstanceId)) throw new OptionsException($"{path}.instance", "is required");
        ValidateTopic(Topic, $"{path}.topic", required: true);
        ValidateTopic(StateTopic, $"{path}.state_topic", required: false);
        ValidateTopic(InstanceStateTopic, $"{path}.instance_state_topic", required: false);
        if (InstanceStateTopic?.Contains("{stream}", StringComparison.Ordinal) == true)
            throw new OptionsException($"{path}.instance_state_topic", "belongs to the connection, which streams share: {stream} is not allowed");
        if (Qos is < 0 or > 2) throw new OptionsException($"{path}.qos", $"must be 0, 1 or 2, got {Qos}");
        if (KeepAliveSeconds is < 5 or > 3600) throw new OptionsException($"{path}.keepalive_seconds", $"must be 5..3600, got {KeepAliveSeconds}");
        if (BufferCapacity is < 1 or > 1_000_000) throw new OptionsException($"{path}.buffer", $"must be 1..1000000, got {BufferCapacity}");
        if (MaxInflight is < 1 or > 1000) throw new OptionsException($"{path}.max_inflight", $"must be 1..1000, got {MaxInflight}");
        OptionChecks.Seconds(ReconnectDelaySeconds, $"{path}.reconnect_delay_seconds", 0.01, 3600);
        OptionChecks.Seconds(MaxReconnectDelaySeconds, $"{path}.max_reconnect_delay_seconds", ReconnectDelaySeconds, 3600);
        OptionChecks.Seconds(ConnectTimeoutSeconds, $"{path}.connect_timeout_seconds", 0.1, 600);
        OptionChecks.Seconds(DrainTimeoutSeconds, $"{path}.drain_timeout_seconds", 0, 600);
        if (ClientId is not null && (ClientId.Length is 0 or > 128 || ClientId.Any(char.IsControl)))
            throw new OptionsException($"{path}.client_id", "must be 1..128 characters without control characters");
        if (Password is not null && Username is null && Protocol == MqttProtocol.V311)
            throw new OptionsException($"{path}.username", "is required with a password in MQTT 3.1.1");
        Tls?.Validate($"{path}.tls");
    }

    /// <summary>The connection's client id for <paramref name="streamId"/>: <see cref="ClientId"/> (or its default) expanded.</summary>
    public string ExpandClientId(string streamId) =>
        (ClientId ?? "streamvision-{instance}").Replace("{instance}", InstanceId, StringComparison.Ordinal).Replace("{stream}", streamId, StringComparison.Ordinal);

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
