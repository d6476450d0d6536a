using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>Streams of one instance share one connection per broker; the protocol version is the one asked for.</summary>
public partial class MqttEventSinkTests
{
    [Fact]
    public async Task StreamsShareOneConnectionWhichTheLastToStopCloses()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        var connections = new MqttConnections();
        var pool = new FramePool();
        var a = new MqttEventSink(Options(broker.Port), "cam1", null, connections);
        var b = new MqttEventSink(Options(broker.Port), "cam2", null, connections);
        Assert.Equal("streamvision-node-a", a.ClientId);
        Assert.Equal(a.ClientId, b.ClientId);
        Assert.Equal("streamvision/node-a/state", a.InstanceStateTopic);
        Assert.Equal(1, connections.Count);

        await WriteEventsAsync(a, pool, 0, 5);
        await WriteEventsAsync(b, pool, 100, 5);
        Assert.True(Poll.Until(() => observer.Payloads(a.EventsTopic).Count >= 5 && observer.Payloads(b.EventsTopic).Count >= 5, s_wait), broker.Log);
        Assert.Equal([0L, 1, 2, 3, 4], Frames(observer.Payloads(a.EventsTopic)));
        Assert.Equal([100L, 101, 102, 103, 104], Frames(observer.Payloads(b.EventsTopic)));
        Assert.True(Poll.Until(() => a.Sent == 5 && b.Sent == 5, s_wait));
        Assert.Equal(1, broker.ConnectionsOf(a.ClientId));
        Assert.Contains("online", observer.Payloads(a.StateTopic!));
        Assert.Contains("online", observer.Payloads(b.StateTopic!));
        Assert.Equal("online", observer.Payloads(a.InstanceStateTopic!).LastOrDefault());

        // The first stream stops: its state goes offline, the connection stays for the other.
        await a.CompleteAsync(CancellationToken.None);
        await a.DisposeAsync();
        Assert.True(Poll.Until(() => observer.Payloads(a.StateTopic!).LastOrDefault() == "offline", s_wait));
        Assert.True(b.IsConnected);
        Assert.Equal(1, connections.Count);
        await WriteEventsAsync(b, pool, 105, 3);
        Assert.True(Poll.Until(() => observer.Payloads(b.EventsTopic).Count >= 8, s_wait), broker.Log);
        Assert.Equal(1, broker.ConnectionsOf(b.ClientId));
        Assert.Equal("online", observer.Payloads(b.InstanceStateTopic!).LastOrDefault());

        // The last one out says goodbye for the instance and disconnects cleanly.
        await b.CompleteAsync(CancellationToken.None);
        await b.DisposeAsync();
        Assert.Equal(0, connections.Count);
        Assert.Equal(8, b.Sent);
        Assert.Equal(0, a.Dropped + b.Dropped);
        Assert.True(Poll.Until(() => observer.Payloads(b.InstanceStateTopic!).LastOrDefault() == "offline", s_wait));
        Assert.True(Poll.Until(() => broker.Log.Contains($"Received DISCONNECT from {b.ClientId}", StringComparison.Ordinal), s_wait), broker.Log);
        Assert.Equal("offline", Retained(broker, b.InstanceStateTopic!));
        Assert.Equal("offline", Retained(broker, b.StateTopic!));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task OptionsThatClashUnderOneClientIdAreRefusedNamingTheKey()
    {
        int port = MosquittoBroker.FreePort(); // nothing listens: the connections only try
        var connections = new MqttConnections();
        var a = new MqttEventSink(Options(port), "cam1", null, connections);
        var ex = Assert.Throws<OptionsException>(() => new MqttEventSink(Options(port) with { KeepAliveSeconds = 60 }, "cam2", null, connections));
        Assert.Equal("sinks.mqtt.keepalive_seconds", ex.Path);
        Assert.Contains("client id 'streamvision-node-a'", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<OptionsException>(() => new MqttEventSink(Options(port) with { Username = "other", Password = "x" }, "cam2", null, connections));
        Assert.Equal("sinks.mqtt.username", ex.Path);
        Assert.Equal(1, connections.Count);

        // A client id per stream gives that stream a connection of its own.
        var c = new MqttEventSink(Options(port) with { ClientId = "sv-{instance}-{stream}", KeepAliveSeconds = 60 }, "cam2", null, connections);
        Assert.Equal("sv-node-a-cam2", c.ClientId);
        Assert.Equal(2, connections.Count);
        await a.DisposeAsync();
        await c.DisposeAsync();
        Assert.Equal(0, connections.Count);
    }

    [Theory]
    [InlineData(MqttProtocol.V311, "p2")]
    [InlineData(MqttProtocol.V5, "p5")]
    public async Task TheBrokerIsSpokenToInTheProtocolAskedFor(MqttProtocol protocol, string level)
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        // An MQTT 5 observer that prints each message's content type before its payload.
        using var observer = new MqttObserver(broker.Port, "streamvision/#", format: "-V 5 -F \"%t %C|%p\"");
        observer.WaitSubscribed(broker.Port);
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port) with { Protocol = protocol }, "cam1");
        await WriteEventsAsync(sink, pool, 0, 5);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 5, s_wait), broker.Log);
        var messages = observer.Payloads(sink.EventsTopic);
        Assert.Equal([0L, 1, 2, 3, 4], Frames(messages.Select(m => m[(m.IndexOf('|') + 1)..])));
        // MQTT 5 messages say they carry JSON; MQTT 3.1.1 has no such property.
        string contentType = protocol == MqttProtocol.V5 ? "application/json" : "";
        Assert.All(messages, m => Assert.Equal(contentType, m[..m.IndexOf('|')]));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(5, sink.Sent);
        Assert.Equal([level], broker.ProtocolsOf(sink.ClientId));
    }

    /// <summary>The retained message of <paramref name="topic"/>, as a client subscribing now is told.</summary>
    private static string Retained(MosquittoBroker broker, string topic) =>
        TestEnvironment.Run("mosquitto_sub", $"-h 127.0.0.1 -p {broker.Port} {broker.ClientArgs} -t {topic} -C 1 -W 5", 10_000).Stdout.Trim();
}
