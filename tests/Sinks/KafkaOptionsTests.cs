using Confluent.Kafka;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class KafkaOptionsTests
{
    private static readonly KafkaOptions Good = new() { Brokers = "k1:9092,k2:9092", InstanceId = "edge-1" };

    [Fact]
    public void TopicAndClientIdCarryTheInstance()
    {
        Good.Validate();
        Assert.Equal("streamvision.events", Good.TopicFor("edge-1"));
        Assert.Equal("streamvision.edge-1", (Good with { Topic = "streamvision.{instance}" }).TopicFor("edge-1"));
        Assert.Equal("streamvision-edge-1", Good.ClientIdFor("edge-1"));
    }

    [Fact]
    public void TheProducerIsAlwaysIdempotentWithAcksFromAll()
    {
        var c = KafkaProducer.Config(Good with { Compression = "lz4", LingerMs = 20, DeliveryTimeoutSeconds = 0, Properties = new Dictionary<string, string> { ["acks"] = "1" } });
        Assert.True(c.EnableIdempotence);
        Assert.Equal(CompressionType.Lz4, c.CompressionType);
        Assert.Equal(20, c.LingerMs);
        Assert.Equal(0, c.MessageTimeoutMs); // forever
        Assert.Equal("k1:9092,k2:9092", c.BootstrapServers);
        Assert.Equal("streamvision-edge-1", c.ClientId);
        var sasl = KafkaProducer.Config(Good with { SecurityProtocol = "sasl_ssl", SaslMechanism = "SCRAM-SHA-512", Username = "u", Password = "p" });
        Assert.Equal(SaslMechanism.ScramSha512, sasl.SaslMechanism);
        Assert.Equal(SecurityProtocol.SaslSsl, sasl.SecurityProtocol);
    }

    [Theory]
    [InlineData("brokers", "k1", null, null)]
    [InlineData("topic", "k1:9092", "events/{instance}", null)]
    [InlineData("sasl_mechanism", "k1:9092", null, "GSSAPI")]
    public void BadValuesNameTheirKey(string key, string brokers, string? topic, string? mechanism)
    {
        var o = Good with { Brokers = brokers, Topic = topic ?? Good.Topic, SaslMechanism = mechanism ?? Good.SaslMechanism };
        Assert.Equal($"sinks.kafka.{key}", Assert.Throws<OptionsException>(() => o.Validate()).Path);
    }

    [Fact]
    public void SaslNeedsCredentialsAndIdempotenceCannotBeTurnedOff()
    {
        Assert.Equal("sinks.kafka.username", Assert.Throws<OptionsException>(() => (Good with { SecurityProtocol = "sasl_plaintext" }).Validate()).Path);
        Assert.Equal("sinks.kafka.properties", Assert.Throws<OptionsException>(() =>
            (Good with { Properties = new Dictionary<string, string> { ["enable.idempotence"] = "false" } }).Validate()).Path);
        Assert.Equal("sinks.kafka.buffer", Assert.Throws<OptionsException>(() => (Good with { BufferCapacity = 0 }).Validate()).Path);
    }
}
