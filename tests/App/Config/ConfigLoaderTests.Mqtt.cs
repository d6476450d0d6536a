using StreamVision.App.Config;
using StreamVision.Sinks;

namespace StreamVision.App.Tests.Config;

/// <summary>Every MQTT option is reachable from the YAML file; mistakes name their key paths.</summary>
public partial class ConfigLoaderTests
{
    [Fact]
    public void EveryMqttOptionIsReadFromYaml()
    {
        string dir = TestEnvironment.NewTempDir();
        foreach (var f in new[] { "ca.crt", "client.crt", "client.key" }) File.WriteAllText(Path.Combine(dir, f), "pem");
        string yaml = $$"""
            sinks:
              mqtt:
                host: broker.local
                port: 18883
                protocol: 5
                client_id: sv-{instance}-{stream}
                username: sv
                password: secret
                tls:
                  ca_file: {{dir}}/ca.crt
                  cert_file: {{dir}}/client.crt
                  key_file: {{dir}}/client.key
                  server_name: broker.example
                qos: 2
                topic: site/{instance}/{stream}
                state_topic: site/{instance}/{stream}/alive
                instance_state_topic: site/{instance}/alive
                keepalive_seconds: 15
                buffer: 500
                max_inflight: 7
                reconnect_delay_seconds: 0.25
                max_reconnect_delay_seconds: 8
                connect_timeout_seconds: 3
                drain_timeout_seconds: 2.5
            """;
        var m = ConfigLoader.LoadText(yaml, "mqtt.yaml", new Dictionary<string, string>()).Sinks.Mqtt;
        var expected = new MqttOptions
        {
            Host = "broker.local", Port = 18883, Protocol = MqttProtocol.V5, ClientId = "sv-{instance}-{stream}", Username = "sv", Password = "secret",
            Tls = new MqttTlsOptions { CaFile = $"{dir}/ca.crt", CertFile = $"{dir}/client.crt", KeyFile = $"{dir}/client.key", ServerName = "broker.example" },
            Qos = 2, Topic = "site/{instance}/{stream}", StateTopic = "site/{instance}/{stream}/alive", InstanceStateTopic = "site/{instance}/alive",
            KeepAliveSeconds = 15, BufferCapacity = 500, MaxInflight = 7, ReconnectDelaySeconds = 0.25, MaxReconnectDelaySeconds = 8,
            ConnectTimeoutSeconds = 3, DrainTimeoutSeconds = 2.5,
        };
        Assert.Equal(expected, m);
        var printed = new StringWriter();
        ConfigPrinter.Print(ConfigLoader.LoadText(yaml, "mqtt.yaml", new Dictionary<string, string>()), printed);
        Assert.Contains("client_id: sv-{instance}-{stream}", printed.ToString(), StringComparison.Ordinal);
        Assert.Contains("password: (set)", printed.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", printed.ToString(), StringComparison.Ordinal);
        // Every settable option of the record was given a non-default value above, so none can be left unmapped.
        var defaults = new MqttOptions();
        foreach (var p in typeof(MqttOptions).GetProperties().Where(p => p.CanWrite && p.Name != nameof(MqttOptions.InstanceId)))
            Assert.False(Equals(p.GetValue(defaults), p.GetValue(m)), $"{p.Name} keeps its default: not read from YAML?");
    }

    [Fact]
    public void MqttDefaultsTlsPortAndEnvironmentOverrides()
    {
        const string yaml = """
            sinks:
              mqtt:
                host: broker.local
                tls: {}
                state_topic: ""
            """;
        var env = new Dictionary<string, string> { ["SV__SINKS__MQTT__PASSWORD"] = "from-env", ["SV__SINKS__MQTT__USERNAME"] = "sv" };
        var m = ConfigLoader.LoadText(yaml, "mqtt.yaml", env).Sinks.Mqtt!;
        Assert.Equal(8883, m.Port);
        Assert.Equal(new MqttTlsOptions(), m.Tls);
        Assert.Equal("", m.StateTopic);
        Assert.Equal("streamvision/{instance}/state", m.InstanceStateTopic);
        Assert.Equal(MqttProtocol.V311, m.Protocol);
        Assert.Equal(("sv", "from-env"), (m.Username, m.Password));
        var off = ConfigLoader.LoadText("sinks:\n  mqtt:\n    host: b\n    tls:\n      enabled: false\n      ca_file: /nowhere.crt\n", "off.yaml",
            new Dictionary<string, string>()).Sinks.Mqtt!;
        Assert.Null(off.Tls);
        Assert.Equal(1883, off.Port);
    }

    [Fact]
    public void MqttMistakesAreAllReportedWithTheirKeyPaths()
    {
        string dir = TestEnvironment.NewTempDir();
        string cert = Path.Combine(dir, "client.crt");
        File.WriteAllText(cert, "pem");
        string yaml = $$"""
            sinks:
              mqtt:
                host: broker.local
                protocol: 4
                qos: 3
                tls:
                  cafile: x
            streams:
              - id: a
                uri: lavfi:testsrc2
                sinks:
                  mqtt:
                    host: broker.local
                    tls:
                      cert_file: {{cert}}
              - id: b
                uri: lavfi:testsrc2
                sinks:
                  mqtt:
                    host: broker.local
                    instance_state_topic: sv/{stream}
              - id: c
                uri: lavfi:testsrc2
                sinks:
                  mqtt:
                    host: broker.local
                    tls:
                      ca_file: {{dir}}/missing.crt
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "bad.yaml", new Dictionary<string, string>()));
        var paths = ex.Errors.Select(e => e.Path).ToList();
        Assert.Equal(
            ["sinks.mqtt.protocol", "sinks.mqtt.qos", "sinks.mqtt.tls.cafile", "streams[0].sinks.mqtt.tls.key_file",
             "streams[1].sinks.mqtt.instance_state_topic", "streams[2].sinks.mqtt.tls.ca_file"],
            paths.Order(StringComparer.Ordinal));
        Assert.Contains(ex.Errors, e => e.ToString() == "sinks.mqtt.protocol: must be 3.1.1 or 5, got '4'");
        Assert.Contains(ex.Errors, e => e.ToString() == "streams[0].sinks.mqtt.tls.key_file: is required with cert_file");
        Assert.Contains(ex.Errors, e => e.ToString() == $"streams[2].sinks.mqtt.tls.ca_file: file not found: {dir}/missing.crt");
    }
}
