using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// Where and how a stream's events go to Kafka (Confluent.Kafka over librdkafka). Streams of an instance whose options
/// give the same producer settings share one producer. Check with <see cref="Validate"/> (the sink does).
/// </summary>
public sealed record KafkaOptions
{
    /// <summary>
    /// Bootstrap brokers, <c>host:port</c>: one, several separated by commas (<c>SV__SINKS__KAFKA__BROKERS</c>), or a list.
    /// Required: no default.
    /// </summary>
    [OptionRequired, OptionSeparator(",")]
    public string Brokers { get; init; } = "";
    /// <summary>
    /// Topic of the events; <c>{instance}</c> is replaced, so <c>streamvision.{instance}</c> gives each instance its own
    /// topic and a name without it is one topic for all. Letters, digits, '.', '_', '-'. Each event's key is its stream
    /// id, so a stream's events land in one partition, in order. Default <c>streamvision.events</c>.
    /// </summary>
    public string Topic { get; init; } = "streamvision.events";
    /// <summary>This instance's id (topics, client id, the events' <c>instance</c> field). Default "local".</summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";
    /// <summary>Client id the brokers see, at most 255 characters; <c>{instance}</c> is replaced. Null = <c>streamvision-{instance}</c>. Default null.</summary>
    public string? ClientId { get; init; }
    /// <summary>
    /// Events a stream holds while the brokers are away or slow, beyond those handed to the producer; the oldest are then
    /// dropped and counted (<c>reason="overflow"</c>). About 0.5 KB each. 1..1,000,000, default 10000.
    /// </summary>
    [OptionKey("buffer"), OptionRange(1, 1_000_000)]
    public int BufferCapacity { get; init; } = 10000;
    /// <summary>Events of a stream handed to the producer and not yet acknowledged, 1..100,000. Default 1000.</summary>
    [OptionRange(1, 100_000)]
    public int MaxInflight { get; init; } = 1000;
    /// <summary>
    /// How long an event handed to the producer may wait for the brokers (librdkafka <c>message.timeout.ms</c>) before it
    /// fails and is counted (<c>reason="failed"</c>); 0 = forever (it then waits in the producer and the buffer takes the
    /// rest). Seconds, 0..86400, default 300.
    /// </summary>
    [OptionRange(0, 86400)]
    public double DeliveryTimeoutSeconds { get; init; } = 300;
    /// <summary>
    /// How long the producer waits to batch events (librdkafka <c>linger.ms</c>): fewer requests against latency.
    /// Milliseconds, 0..10000; 0 = send at once. Default 5.
    /// </summary>
    [OptionRange(0, 10000)]
    public double LingerMs { get; init; } = 5;
    /// <summary>Compression of the batches: none, gzip, snappy, lz4 or zstd. Default none.</summary>
    public string Compression { get; init; } = "none";
    /// <summary>Transport to the brokers: plaintext, ssl, sasl_plaintext or sasl_ssl (SASL needs <see cref="Username"/> and <see cref="Password"/>). Default plaintext.</summary>
    public string SecurityProtocol { get; init; } = "plaintext";
    /// <summary>With SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (GSSAPI/Kerberos is missing from the librdkafka build Debian 12 gets). Default PLAIN.</summary>
    public string SaslMechanism { get; init; } = "PLAIN";
    /// <summary>SASL user name; null = none. Default null.</summary>
    public string? Username { get; init; }
    /// <summary>SASL password (keep it out of the file with <c>SV__SINKS__KAFKA__PASSWORD</c>); null = none. Default null.</summary>
    [OptionSecret]
    public string? Password { get; init; }
    /// <summary>PEM file of the authorities that may sign the brokers' certificates (with ssl); null = the system's trust store. Default null.</summary>
    public string? CaFile { get; init; }
    /// <summary>
    /// Seconds a stopping stream keeps delivering what it holds; the rest is dropped and counted (<c>reason="shutdown"</c>).
    /// 0 = drop at once. 0..600, default 5.
    /// </summary>
    [OptionRange(0, 600)]
    public double DrainTimeoutSeconds { get; init; } = 5;
    /// <summary>
    /// Further librdkafka producer properties, as librdkafka names them (e.g. <c>socket.keepalive.enable</c>); they
    /// override the settings above except idempotence. <c>test.mock.num.brokers: 3</c> produces to librdkafka's built-in
    /// mock cluster instead of real brokers (trying things out without Kafka). Null = none.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Properties { get; init; }

    private static readonly string[] Compressions = ["none", "gzip", "snappy", "lz4", "zstd"];
    private static readonly string[] Protocols = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"];
    private static readonly string[] Mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

    /// <summary>The topic of an instance: <c>{instance}</c> replaced.</summary>
    public string TopicFor(string instance) => Topic.Replace("{instance}", instance, StringComparison.Ordinal);

    /// <summary>The client id of an instance.</summary>
    public string ClientIdFor(string instance) => (ClientId ?? "streamvision-{instance}").Replace("{instance}", instance, StringComparison.Ordinal);

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "sinks.kafka")
    {
        var brokers = Brokers.Split(',', StringSplitOptions.TrimEntries);
        if (Brokers.Length == 0 || brokers.Any(b => !IsHostPort(b)))
            throw new OptionsException($"{path}.brokers", $"must be host:port, comma-separated, got '{Brokers}'");
        string topic = TopicFor(InstanceId);
        if (topic.Length is 0 or > 249 || topic is "." or ".." || !topic.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            throw new OptionsException($"{path}.topic", $"must be 1..249 letters, digits, '.', '_' or '-' ({{instance}} allowed), got '{Topic}'");
        if (string.IsNullOrWhiteSpace(InstanceId)) throw new OptionsException($"{path}.instance", "is required");
        if (ClientIdFor(InstanceId) is { Length: 0 or > 255 }) throw new OptionsException($"{path}.client_id", "must be 1..255 characters");
        if (BufferCapacity is < 1 or > 1_000_000) throw new OptionsException($"{path}.buffer", $"must be 1..1000000, got {BufferCapacity}");
        if (MaxInflight is < 1 or > 100_000) throw new OptionsException($"{path}.max_inflight", $"must be 1..100000, got {MaxInflight}");
        OptionChecks.Seconds(DeliveryTimeoutSeconds, $"{path}.delivery_timeout_seconds", 0, 86400);
        if (!(LingerMs is >= 0 and <= 10000))
            throw new OptionsException($"{path}.linger_ms", string.Create(CultureInfo.InvariantCulture, $"must be 0..10000 ms, got {LingerMs}"));
        if (!Compressions.Contains(Compression)) throw new OptionsException($"{path}.compression", $"must be one of {string.Join(", ", Compressions)}, got '{Compression}'");
        if (!Protocols.Contains(SecurityProtocol)) throw new OptionsException($"{path}.security_protocol", $"must be one of {string.Join(", ", Protocols)}, got '{SecurityProtocol}'");
        if (!Mechanisms.Contains(SaslMechanism))
            throw new OptionsException($"{path}.sasl_mechanism", $"must be one of {string.Join(", ", Mechanisms)} (GSSAPI is not in the librdkafka build used on Debian 12), got '{SaslMechanism}'");
        if (SecurityProtocol.StartsWith("sasl", StringComparison.Ordinal) && (Username is null || Password is null))
            throw new OptionsException($"{path}.username", $"username and password are required with {SecurityProtocol}");
        if (CaFile is not null && !File.Exists(CaFile)) throw new OptionsException($"{path}.ca_file", $"file not found: {CaFile}");
        OptionChecks.Seconds(DrainTimeoutSeconds, $"{path}.drain_timeout_seconds", 0, 600);
        if (Properties is not null && Properties.Keys.FirstOrDefault(k => k.StartsWith("enable.idempotence", StringComparison.Ordinal) || k.Length == 0) is { } bad)
            throw new OptionsException($"{path}.properties", $"'{bad}' cannot be set: the producer is always idempotent");
    }

    private static bool IsHostPort(string s)
    {
        int colon = s.LastIndexOf(':');
        return colon > 0 && int.TryParse(s.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and < 65536;
    }
}
