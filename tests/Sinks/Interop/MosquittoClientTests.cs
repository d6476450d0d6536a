using StreamVision.Sinks.Interop;

namespace StreamVision.Sinks.Tests.Interop;

public class MosquittoClientTests
{
    private sealed class Events : IMosquittoEvents
    {
        public int Connected = -1;
        public void OnConnect(int code) => Connected = code;
        public void OnDisconnect(int code) { }
        public void OnPublish(int messageId) { }
    }

    [Fact]
    public void LastWillIsPublishedWhenTheClientVanishesWithoutDisconnecting()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "will/#");
        observer.WaitSubscribed(broker.Port);
        Assert.True(MosquittoClient.LibraryVersion.Major >= 1);

        var events = new Events();
        var client = new MosquittoClient("will-test", events);
        client.SetWill("will/state", "offline"u8, 1, retain: true);
        Assert.Equal(Mosquitto.Success, client.ConnectAsync("127.0.0.1", broker.Port, 30));
        Assert.True(Poll.Until(() => client.Loop(20) == Mosquitto.Success && events.Connected == 0, TimeSpan.FromSeconds(10)));
        client.Dispose(); // closes the socket without DISCONNECT, as a crash would
        Assert.True(Poll.Until(() => observer.Payloads("will/state").Contains("offline"), TimeSpan.FromSeconds(10)), broker.Log);
    }

    [Fact]
    public void ErrorsAreDescribedByName()
    {
        Assert.Contains("not currently connected", MosquittoClient.Describe(Mosquitto.NoConnection), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("refused", MosquittoClient.DescribeConnack(5), StringComparison.OrdinalIgnoreCase);
    }
}
