using StreamVision.App.Config;
using StreamVision.Sinks;

namespace StreamVision.App.Tests.Config;

/// <summary>Every Kafka option is reachable from the YAML file; mistakes name their key paths.</summary>
public partial class ConfigLoaderTests
{
    [Fact]
    public void EveryKafkaOptionIsReadFromYaml()
    {
        string dir = TestEnvironment.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "ca.pem"), "pem");
        string yaml = $$"""
            sinks:
              kafka:
                brokers: [k1:9093, k2:9093]
                topic: site.{instance}
                client_id: sv-{instance}
                buffer: 500
                max_inflight: 50
                delivery_timeout_seconds: 60
                linger_ms: 20
                compression: zstd
                security_protocol: sasl_ssl
                sasl_mechanism: SCRAM-SHA-256
                username: sv
                password: secret
                ca_file: {{dir}}/ca.pem
                drain_timeout_seconds: 2.5
                properties:
                  socket.keepalive.enable: "true"
            """;
        var k = ConfigLoader.LoadText(yaml, "kafka.yaml", NoEnv).Sinks.Kafka!;
        Assert.Equal("k1:9093,k2:9093", k.Brokers);
        Assert.Equal("site.{instance}", k.Topic);
        Assert.Equal("sv-{instance}", k.ClientId);
        Assert.Equal((500, 50, 60.0, 20.0), (k.BufferCapacity, k.MaxInflight, k.DeliveryTimeoutSeconds, k.LingerMs));
        Assert.Equal(("zstd", "sasl_ssl", "SCRAM-SHA-256", "sv", "secret"), (k.Compression, k.SecurityProtocol, k.SaslMechanism, k.Username, k.Password));
        Assert.Equal($"{dir}/ca.pem", k.CaFile);
        Assert.Equal(2.5, k.DrainTimeoutSeconds);
        Assert.Equal("true", k.Properties!["socket.keepalive.enable"]);
        var defaults = new KafkaOptions();
        foreach (var p in typeof(KafkaOptions).GetProperties().Where(p => p.CanWrite && p.Name != nameof(KafkaOptions.InstanceId)))
            Assert.False(Equals(p.GetValue(defaults), p.GetValue(k)), $"{p.Name} keeps its default: not read from YAML?");
        string printed = Printed(yaml);
        Assert.Contains("  kafka:\n    brokers: k1:9093,k2:9093\n    topic: site.{instance}", printed, StringComparison.Ordinal);
        Assert.Contains("password: (set)", printed, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", printed, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sinks:\n  kafka:\n    topic: t\n", "sinks.kafka.brokers: missing")]
    [InlineData("sinks:\n  kafka:\n    brokers: k1\n", "sinks.kafka.brokers: must be host:port")]
    [InlineData("sinks:\n  kafka:\n    brokers: k1:9092\n    topic: a/b\n", "sinks.kafka.topic: must be 1..249")]
    [InlineData("sinks:\n  kafka:\n    brokers: k1:9092\n    sasl_mechanism: GSSAPI\n", "sinks.kafka.sasl_mechanism: must be one of")]
    [InlineData("sinks:\n  kafka:\n    brokers: k1:9092\n    acks: 1\n", "sinks.kafka.acks: unknown key")]
    public void KafkaMistakesNameTheirKey(string yaml, string error)
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "bad.yaml", NoEnv));
        Assert.Contains(ex.Errors, e => e.ToString().StartsWith(error, StringComparison.Ordinal));
    }
}
