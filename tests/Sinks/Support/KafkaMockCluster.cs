using System.Runtime.InteropServices;
using Confluent.Kafka;
using StreamVision.Sinks.Tests.Support.Interop;

namespace StreamVision.Sinks.Tests.Support;

/// <summary>
/// librdkafka's built-in mock Kafka cluster (what <c>test.mock.num.brokers</c> starts inside a client), on loopback ports
/// in this process: producers and consumers reach it at <see cref="Bootstrap"/> like real brokers. No Kafka broker can
/// be installed on our machines; this is what the Kafka tests run against. Brokers are numbered 1..N.
/// </summary>
internal sealed class KafkaMockCluster : IDisposable
{
    private IntPtr _client, _cluster;

    public KafkaMockCluster(int brokers = 1)
    {
        Librdkafka.Load();
        var errors = new byte[512];
        // The mock cluster lives inside a client handle of its own (it runs on that client's threads).
        _client = Librdkafka.rd_kafka_new(Librdkafka.Producer, Librdkafka.rd_kafka_conf_new(), errors, (UIntPtr)errors.Length);
        if (_client == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_new failed: " + System.Text.Encoding.UTF8.GetString(errors).TrimEnd('\0'));
        _cluster = Librdkafka.rd_kafka_mock_cluster_new(_client, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        Bootstrap = Marshal.PtrToStringUTF8(Librdkafka.rd_kafka_mock_cluster_bootstraps(_cluster))!;
        Brokers = brokers;
    }

    /// <summary>host:port of every mock broker, comma-separated.</summary>
    public string Bootstrap { get; }
    public int Brokers { get; }

    public void CreateTopic(string topic, int partitions) =>
        Check(Librdkafka.rd_kafka_mock_topic_create(_cluster, topic, partitions, 1), "create topic");

    /// <summary>Broker <paramref name="id"/> drops its connections and refuses new ones.</summary>
    public void Down(int id) => Check(Librdkafka.rd_kafka_mock_broker_set_down(_cluster, id), "set broker down");

    public void Up(int id) => Check(Librdkafka.rd_kafka_mock_broker_set_up(_cluster, id), "set broker up");

    public void AllDown()
    {
        for (int i = 1; i <= Brokers; i++) Down(i);
    }

    public void AllUp()
    {
        for (int i = 1; i <= Brokers; i++) Up(i);
    }

    /// <summary>Every message of <paramref name="topic"/> so far, waiting until there are <paramref name="expected"/>.</summary>
    public List<ConsumeResult<string, string>> Consume(string topic, int partitions, int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = Bootstrap,
            GroupId = $"test-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var list = new List<ConsumeResult<string, string>>();
        var until = DateTime.UtcNow + timeout;
        while (list.Count < expected && DateTime.UtcNow < until)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is { IsPartitionEOF: false, Message: not null }) list.Add(r);
        }
        consumer.Close();
        return list;
    }

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"mock cluster: {what} failed ({(ErrorCode)err})");
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero) Librdkafka.rd_kafka_mock_cluster_destroy(_cluster);
        if (_client != IntPtr.Zero) Librdkafka.rd_kafka_destroy(_client);
        _cluster = _client = IntPtr.Zero;
    }
}
