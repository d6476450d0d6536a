using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class MqttOptionsTests
{
    [Fact]
    public void MistakesNameTheirKeyUnderTheGivenPath()
    {
        string dir = TestEnvironment.NewTempDir();
        string pem = System.IO.Path.Combine(dir, "a.pem");
        File.WriteAllText(pem, "not checked here");
        string KeyOf(MqttOptions o) => Assert.Throws<OptionsException>(() => o.Validate("streams[1].sinks.mqtt")).Path;

        Assert.Equal("streams[1].sinks.mqtt.tls.ca_file", KeyOf(new MqttOptions { Tls = new MqttTlsOptions { CaFile = System.IO.Path.Combine(dir, "missing.pem") } }));
        Assert.Equal("streams[1].sinks.mqtt.tls.key_file", KeyOf(new MqttOptions { Tls = new MqttTlsOptions { CertFile = pem } }));
        Assert.Equal("streams[1].sinks.mqtt.tls.cert_file", KeyOf(new MqttOptions { Tls = new MqttTlsOptions { KeyFile = pem } }));
        Assert.Equal("streams[1].sinks.mqtt.instance_state_topic", KeyOf(new MqttOptions { InstanceStateTopic = "sv/{stream}/state" }));
        Assert.Equal("streams[1].sinks.mqtt.state_topic", KeyOf(new MqttOptions { StateTopic = "sv/+/state" }));
        Assert.Equal("streams[1].sinks.mqtt.username", KeyOf(new MqttOptions { Password = "p" }));
        Assert.Equal("streams[1].sinks.mqtt.client_id", KeyOf(new MqttOptions { ClientId = "" }));
        Assert.Equal("streams[1].sinks.mqtt.max_reconnect_delay_seconds", KeyOf(new MqttOptions { ReconnectDelaySeconds = 2, MaxReconnectDelaySeconds = 1 }));
        // MQTT 5 allows a password without a user name.
        new MqttOptions { Protocol = MqttProtocol.V5, Password = "p", Tls = new MqttTlsOptions { CertFile = pem, KeyFile = pem } }.Validate();
    }

    [Fact]
    public void ClientIdAndTopicsExpandTheirPlaceholders()
    {
        var o = new MqttOptions { InstanceId = "site-1" };
        Assert.Equal("streamvision-site-1", o.ExpandClientId("cam/1"));
        Assert.Equal("sv-site-1-cam/1", (o with { ClientId = "sv-{instance}-{stream}" }).ExpandClientId("cam/1"));
        Assert.Equal("streamvision/site-1/cam_1/events", MqttOptions.ExpandTopic(o.Topic, o.InstanceId, "cam/1"));
        Assert.Equal("streamvision/site-1/state", MqttOptions.ExpandTopic(o.InstanceStateTopic!, o.InstanceId, ""));
    }

    [Fact]
    public void AnUnreadableCertificateIsAnOptionsErrorWhenTheSinkIsMade()
    {
        string dir = TestEnvironment.NewTempDir();
        string pem = System.IO.Path.Combine(dir, "junk.pem");
        File.WriteAllText(pem, "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n");
        var o = new MqttOptions { Port = MosquittoBroker.FreePort(), Tls = new MqttTlsOptions { CertFile = pem, KeyFile = pem } };
        var ex = Assert.Throws<OptionsException>(() => new MqttEventSink(o, "cam1", null, new MqttConnections()));
        Assert.Equal("sinks.mqtt.tls.cert_file", ex.Path);
        Assert.Contains(pem, ex.Message, StringComparison.Ordinal);
    }
}
