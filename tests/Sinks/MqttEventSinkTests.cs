using System.Text.Json;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>Against a real mosquitto broker started by each test, observed by an independent mosquitto_sub.</summary>
public partial class MqttEventSinkTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    private static AnalyticsEvent Event(long frame) => new()
    {
        Type = EventTypes.LineCrossed, StreamId = "cam1", Time = DateTimeOffset.UtcNow, Pts = TimeSpan.FromMilliseconds(40 * frame),
        FrameSequence = frame, TrackId = (int)frame + 1, ClassName = "person", Region = "door", Direction = "in",
    };

    private static async Task WriteEventsAsync(ISink sink, FramePool pool, long from, int count)
    {
        for (long i = from; i < from + count; i++)
        {
            using var item = SinkTestData.Item(pool, i, events: [Event(i)]);
            await sink.WriteAsync(item, CancellationToken.None);
        }
    }

    private static List<long> Frames(IEnumerable<string> payloads) =>
        payloads.Select(p => JsonDocument.Parse(p).RootElement.GetProperty("frame").GetInt64()).ToList();

    private static MqttOptions Options(int port, int buffer = 1000) => new()
    {
        Port = port, InstanceId = "node-a", Qos = 1, BufferCapacity = buffer,
        ReconnectDelaySeconds = 0.05, MaxReconnectDelaySeconds = 0.2, DrainTimeoutSeconds = 5,
    };

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task EventsArriveOnTheStreamTopicAndStateIsRetained(int qos)
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port) with { Qos = qos }, "cam/1");
        Assert.Equal("streamvision/node-a/cam_1/events", sink.EventsTopic);
        Assert.Equal("streamvision/node-a/cam_1/state", sink.StateTopic);

        await WriteEventsAsync(sink, pool, 0, 20);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 20, s_wait), broker.Log);
        var payloads = observer.Payloads(sink.EventsTopic);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)i), Frames(payloads));
        var first = JsonDocument.Parse(payloads[0]).RootElement;
        Assert.Equal("streamvision.event/1", first.GetProperty("schema").GetString());
        Assert.Equal("line_crossed", first.GetProperty("type").GetString());
        Assert.Equal("node-a", first.GetProperty("instance").GetString());
        Assert.Equal("in", first.GetProperty("direction").GetString());
        Assert.Contains("online", observer.Payloads(sink.StateTopic!));

        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(20, sink.Sent);
        Assert.Equal(0, sink.Dropped);
        // The broker received every event once, at the QoS asked for, not retained; the states retained at QoS 1.
        Assert.Equal(Enumerable.Repeat($"q{qos}, r0", 20), broker.PublishesOn(sink.EventsTopic));
        Assert.Equal(["q1, r1", "q1, r1"], broker.PublishesOn(sink.StateTopic!));
        Assert.True(Poll.Until(() => observer.Payloads(sink.StateTopic!).LastOrDefault() == "offline", s_wait));
        // Retained: a client that subscribes afterwards is told the stream is offline.
        var (retained, _) = TestEnvironment.Run("mosquitto_sub", $"-h 127.0.0.1 -p {broker.Port} -t {sink.StateTopic} -C 1 -W 5", 10_000);
        Assert.Equal("offline", retained.Trim());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task BrokerDownAtStartQueuedEventsAreDeliveredWhenItComesUpAndOverflowIsCounted()
    {
        using var broker = new MosquittoBroker();
        // The observer's persistent session is registered first, so the broker queues for it whatever arrives early.
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        broker.Stop();

        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port, buffer: 8), "cam1");
        await WriteEventsAsync(sink, pool, 0, 12);
        Assert.False(sink.IsConnected);
        Assert.Equal(8, sink.Buffered);
        Assert.Equal(4, sink.DroppedOverflow); // the oldest four
        // The sink has tried and failed to reach the broker before it comes up (on a loaded machine the first attempt
        // may not have finished yet when the events are queued).
        Assert.True(Poll.Until(() => sink.FailedAttempts > 0, s_wait));

        broker.Start();
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 8, s_wait), broker.Log);
        Assert.Equal(Enumerable.Range(4, 8).Select(i => (long)i), Frames(observer.Payloads(sink.EventsTopic)));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(8, sink.Sent);
        Assert.Equal(0, sink.DroppedAtShutdown);
    }

    [Fact]
    public async Task BrokerStoppedMidRunReconnectsAndLosesNothing()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port), "cam1");
        await WriteEventsAsync(sink, pool, 0, 5);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 5, s_wait), broker.Log);

        broker.Stop();
        Assert.True(Poll.Until(() => !sink.IsConnected, s_wait));
        await WriteEventsAsync(sink, pool, 5, 10);
        Assert.InRange(sink.Buffered, 10, 15); // plus any whose acknowledgement the stop cut off (they are resent)
        broker.Start();

        Assert.True(Poll.Until(() => Frames(observer.Payloads(sink.EventsTopic)).Distinct().Count() >= 15, s_wait), broker.Log);
        Assert.Equal(Enumerable.Range(0, 15).Select(i => (long)i), Frames(observer.Payloads(sink.EventsTopic)).Distinct().Order());
        Assert.True(Poll.Until(() => sink.Connections == 2, s_wait));
        Assert.True(Poll.Until(() => observer.Payloads(sink.StateTopic!).LastOrDefault() == "online", s_wait));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(15, sink.Sent);
        Assert.Equal(0, sink.Dropped);
    }

    [Fact]
    public async Task BrokerKilledMidRunIsReconnectedAndTheBufferIsFlushedToIt()
    {
        using var broker = new MosquittoBroker();
        broker.Start();
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(broker.Port), "cam1");
        await WriteEventsAsync(sink, pool, 0, 5);
        Assert.True(Poll.Until(() => sink.Sent == 5, s_wait), broker.Log);

        broker.Kill();
        Assert.True(Poll.Until(() => !sink.IsConnected, s_wait));
        await WriteEventsAsync(sink, pool, 5, 10);
        broker.Start();
        // The broker acknowledged every buffered event after the reconnect.
        Assert.True(Poll.Until(() => sink.Sent == 15, s_wait), broker.Log);
        Assert.Equal(2, sink.Connections);

        // And the connection is live for new events.
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        await WriteEventsAsync(sink, pool, 15, 3);
        Assert.True(Poll.Until(() => observer.Payloads(sink.EventsTopic).Count >= 3, s_wait), broker.Log);
        Assert.Equal([15L, 16L, 17L], Frames(observer.Payloads(sink.EventsTopic)));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(0, sink.Dropped);
    }

    [Fact]
    public async Task StoppingWhileTheBrokerIsDownCountsWhatWasNotDelivered()
    {
        var pool = new FramePool();
        var sink = new MqttEventSink(Options(MosquittoBroker.FreePort()) with { DrainTimeoutSeconds = 0.1 }, "cam1");
        await WriteEventsAsync(sink, pool, 0, 3);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        await sink.DisposeAsync();
        Assert.Equal(0, sink.Sent);
        Assert.Equal(3, sink.DroppedAtShutdown);
        // After the stop, new events are counted, never queued.
        await WriteEventsAsync(sink, pool, 3, 2);
        Assert.Equal(5, sink.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Theory]
    [InlineData("qos", 3)]
    [InlineData("port", 0)]
    [InlineData("buffer", 0)]
    public void InvalidOptionsNameTheirKey(string key, int value)
    {
        var o = key switch
        {
            "qos" => new MqttOptions { Qos = value },
            "port" => new MqttOptions { Port = value },
            _ => new MqttOptions { BufferCapacity = value },
        };
        var ex = Assert.Throws<OptionsException>(() => o.Validate());
        Assert.Equal($"sinks.mqtt.{key}", ex.Path);
        Assert.Equal("sinks.mqtt.topic", Assert.Throws<OptionsException>(() => new MqttOptions { Topic = "a/#" }.Validate()).Path);
    }
}
