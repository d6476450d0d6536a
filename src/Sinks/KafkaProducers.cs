using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace StreamVision.Sinks;

/// <summary>
/// The Kafka producers of one instance: sinks whose options give the same producer settings (brokers, client id,
/// security, batching, timeouts, extra properties) share one idempotent producer (librdkafka runs a few threads and a
/// connection per broker for each), which the last of them closes. Thread-safe.
/// </summary>
public sealed class KafkaProducers
{
    private readonly object _gate = new();
    private readonly Dictionary<string, KafkaProducer> _open = new(StringComparer.Ordinal);

    /// <summary>The process-wide registry, used by sinks not given one.</summary>
    public static KafkaProducers Shared { get; } = new();

    /// <summary>Producers open now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _open.Count;
        }
    }

    internal KafkaProducer Attach(KafkaOptions options, ILogger logger)
    {
        var config = KafkaProducer.Config(options);
        string key = string.Join('\n', config.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        lock (_gate)
        {
            if (!_open.TryGetValue(key, out var producer)) _open[key] = producer = new KafkaProducer(config, key, logger);
            producer.Refs++;
            return producer;
        }
    }

    /// <summary>The sink leaves its producer; the last one out flushes it for up to <paramref name="flush"/> and closes it.</summary>
    internal void Detach(KafkaProducer producer, TimeSpan flush)
    {
        lock (_gate)
        {
            if (--producer.Refs > 0) return;
            _open.Remove(producer.Key);
        }
        producer.Close(flush);
    }
}

/// <summary>One idempotent producer (acks=all, a stream's events in order) with its connection state, shared by sinks.</summary>
internal sealed class KafkaProducer
{
    private readonly ILogger _logger;
    private readonly HashSet<ErrorCode> _reported = new();
    private volatile bool _connected;

    public KafkaProducer(ProducerConfig config, string key, ILogger logger)
    {
        Key = key;
        _logger = logger;
        Broker = config.BootstrapServers;
        Producer = new ProducerBuilder<string, byte[]>(config)
            .SetErrorHandler((_, e) => OnError(e))
            .SetLogHandler((_, m) => _logger.LogDebug("kafka {Client} {Facility}: {Message}", m.Name, m.Facility, m.Message))
            .Build();
    }

    public string Key { get; }
    public string Broker { get; }
    public IProducer<string, byte[]> Producer { get; }
    public int Refs { get; set; }

    /// <summary>True once the brokers acknowledged an event and none has reported all brokers down since.</summary>
    public bool Connected => _connected;

    /// <summary>A delivery succeeded: the brokers are there.</summary>
    public void Delivered()
    {
        if (_connected) return;
        _connected = true;
        bool wasDown;
        lock (_reported)
        {
            wasDown = _reported.Remove(ErrorCode.Local_AllBrokersDown);
            _reported.Clear();
        }
        if (wasDown) _logger.LogInformation("kafka {Brokers}: delivering again", Broker);
    }

    private void OnError(Error e)
    {
        if (e.Code == ErrorCode.Local_AllBrokersDown) _connected = false;
        bool first;
        lock (_reported) first = _reported.Add(e.Code);
        if (e.IsFatal) _logger.LogError("kafka {Brokers}: fatal producer error {Code}: {Reason}; events of this producer fail from now on", Broker, e.Code, e.Reason);
        else if (first) _logger.LogWarning("kafka {Brokers}: {Reason} ({Code}); librdkafka keeps retrying", Broker, e.Reason, e.Code);
        else _logger.LogDebug("kafka {Brokers}: {Reason} ({Code})", Broker, e.Reason, e.Code);
    }

    public void Close(TimeSpan flush)
    {
        try
        {
            int left = Producer.Flush(flush);
            if (left > 0) _logger.LogWarning("kafka {Brokers}: closed with {Count} undelivered event(s)", Broker, left);
        }
        catch (KafkaException ex)
        {
            _logger.LogDebug("kafka {Brokers}: flush failed: {Error}", Broker, ex.Message);
        }
        Producer.Dispose();
    }

    /// <summary>The librdkafka settings of <paramref name="o"/>: idempotent, acks=all, then the extra properties.</summary>
    public static ProducerConfig Config(KafkaOptions o)
    {
        var c = new ProducerConfig
        {
            BootstrapServers = o.Brokers,
            ClientId = o.ClientIdFor(o.InstanceId),
            Acks = Acks.All,
            LingerMs = o.LingerMs,
            MessageTimeoutMs = (int)Math.Round(o.DeliveryTimeoutSeconds * 1000),
            CompressionType = o.Compression switch
            {
                "gzip" => CompressionType.Gzip,
                "snappy" => CompressionType.Snappy,
                "lz4" => CompressionType.Lz4,
                "zstd" => CompressionType.Zstd,
                _ => CompressionType.None,
            },
            SecurityProtocol = o.SecurityProtocol switch
            {
                "ssl" => Confluent.Kafka.SecurityProtocol.Ssl,
                "sasl_plaintext" => Confluent.Kafka.SecurityProtocol.SaslPlaintext,
                "sasl_ssl" => Confluent.Kafka.SecurityProtocol.SaslSsl,
                _ => Confluent.Kafka.SecurityProtocol.Plaintext,
            },
        };
        if (o.SecurityProtocol.StartsWith("sasl", StringComparison.Ordinal))
        {
            c.SaslMechanism = o.SaslMechanism switch
            {
                "SCRAM-SHA-256" => Confluent.Kafka.SaslMechanism.ScramSha256,
                "SCRAM-SHA-512" => Confluent.Kafka.SaslMechanism.ScramSha512,
                _ => Confluent.Kafka.SaslMechanism.Plain,
            };
            c.SaslUsername = o.Username;
            c.SaslPassword = o.Password;
        }
        if (o.CaFile is not null) c.SslCaLocation = o.CaFile;
        foreach (var (k, v) in o.Properties ?? new Dictionary<string, string>()) c.Set(k, v);
        c.EnableIdempotence = true;
        return c;
    }
}
