using System.Net;
using System.Text.Json;
using StreamVision.Cluster;
using StreamVision.Sinks.Tests.Support;

namespace StreamVision.App.Tests.Commands;

/// <summary>
/// A cluster's events in one place: two clustered <c>streamvision run</c> processes send every stream's line crossings
/// to one MQTT broker and one Kafka topic (librdkafka's mock cluster: no Kafka broker can be installed here); after
/// <c>kill -9</c> of one, its streams' events go on from the survivor, its instance state turns <c>offline</c> through
/// its last will, and each stream's events stay in order per instance.
/// </summary>
public partial class RunCommandTests
{
    [Fact]
    public async Task AClustersInstancesSendEveryStreamsEventsToOneBrokerAndOneTopicAndAMovedStreamsEventsGoOnFromItsNewOwner()
    {
        using var etcd = new EtcdCluster(1);
        etcd.Start();
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        using var kafka = new KafkaMockCluster(brokers: 1);
        kafka.CreateTopic("fleet.events", 2);
        string stages = $"""
            detector:
              model: motion
              motion:
                learning_rate: 0.01
                min_area: 100
                downscale: 1
            sinks:
              preview: false
              mqtt:
                host: 127.0.0.1
                port: {broker.Port}
                qos: 1
              kafka:
                brokers: {kafka.Bootstrap}
                topic: fleet.events
                linger_ms: 1
            """;
        string dir = TestEnvironment.NewTempDir();
        string name = $"e{Guid.NewGuid():N}"[..10];
        var nodes = new[] { "a", "b" }.Select(id => new ClusterNode(id, dir, etcd, name, ClusterLease, stages)).ToList();
        var streams = Enumerable.Range(1, 4).Select(i => $"cam{i}").ToList();
        try
        {
            foreach (var n in nodes) n.Start();
            await Poll.UntilAsync(async () => (await Task.WhenAll(nodes.Select(n => n.ReadyAsync()))).All(r => r), TimeSpan.FromSeconds(90), "two instances joined");

            // A white square crosses a vertical line every 3.5 s on each live stream.
            const string square = "lavfi:color=c=gray:s=160x120:r=10[bg];color=c=white:s=20x20:r=10[fg];[bg][fg]overlay=x='mod(t*40,140)':y=50";
            foreach (var s in streams)
            {
                var add = await nodes[0].Http.PostAsync("/api/streams", Json($$"""
                    {"id":"{{s}}","uri":"{{square}}","mode":"live","lines":[{"name":"middle","points":[[80,0],[80,120]]}]}
                    """));
                Assert.Equal(HttpStatusCode.Created, add.StatusCode);
            }
            string[] both = ["a", "b"];
            await Poll.UntilAsync(async () => Placed(await ClusterNode.SampleAsync(nodes), streams, both), TimeSpan.FromSeconds(60), "four streams on their owners");
            var owner = streams.ToDictionary(s => s, s => Rendezvous.Owner(s, both)!);

            // Every stream's crossings reach the one broker, on its owner's topic, and the one Kafka topic under its key.
            await Poll.UntilAsync(() => Task.FromResult(streams.All(s => Crossings(observer, owner[s], s) > 0)), TimeSpan.FromSeconds(60),
                "a crossing of every stream on MQTT");
            await Poll.UntilAsync(() => Task.FromResult(streams.All(s => KafkaCrossings(kafka, owner[s], s) > 0)), TimeSpan.FromSeconds(60),
                "a crossing of every stream on Kafka");

            // kill -9 the instance with more streams: its streams' events go on from the survivor.
            var victim = nodes.OrderByDescending(n => owner.Values.Count(o => o == n.Id)).First();
            var survivor = nodes.Single(n => n != victim);
            var moved = streams.Where(s => owner[s] == victim.Id).ToList();
            Assert.NotEmpty(moved);
            victim.Kill();
            await Poll.UntilAsync(() => Task.FromResult(observer.Payloads($"streamvision/{victim.Id}/state").LastOrDefault() == "offline"),
                TimeSpan.FromSeconds(30), "the killed instance's last will says offline");
            await Poll.UntilAsync(() => Task.FromResult(moved.All(s => Crossings(observer, survivor.Id, s) > 0)), TimeSpan.FromSeconds(60),
                "moved streams' crossings on MQTT from the survivor");
            await Poll.UntilAsync(() => Task.FromResult(moved.All(s => KafkaCrossings(kafka, survivor.Id, s) > 0)), TimeSpan.FromSeconds(60),
                "moved streams' crossings on Kafka from the survivor");

            // Per instance, a stream's events are in frame order in its partition (one key, one partition).
            var messages = kafka.Consume("fleet.events", 2, int.MaxValue, TimeSpan.FromSeconds(3));
            foreach (var group in messages.Select(m => JsonDocument.Parse(m.Message.Value).RootElement)
                         .GroupBy(e => (e.GetProperty("instance").GetString(), e.GetProperty("stream").GetString())))
            {
                var frames = group.Select(e => e.GetProperty("frame").GetInt64()).ToList();
                Assert.Equal(frames.Order(), frames);
            }
            Assert.All(messages, m => Assert.Equal(m.Message.Key, JsonDocument.Parse(m.Message.Value).RootElement.GetProperty("stream").GetString()));
        }
        catch
        {
            foreach (var n in nodes) output.WriteLine($"---- {n.Id}\n{n.Log}");
            throw;
        }
        finally
        {
            foreach (var n in nodes) n.Dispose();
        }
    }

    private static int Crossings(MqttObserver observer, string instance, string stream) =>
        observer.Payloads($"streamvision/{instance}/{stream}/events").Count(p => p.Contains("\"line_crossed\"", StringComparison.Ordinal));

    private static int KafkaCrossings(KafkaMockCluster kafka, string instance, string stream) =>
        kafka.Consume("fleet.events", 2, int.MaxValue, TimeSpan.FromSeconds(1))
            .Where(m => m.Message.Key == stream)
            .Select(m => JsonDocument.Parse(m.Message.Value).RootElement)
            .Count(e => e.GetProperty("type").GetString() == "line_crossed" && e.GetProperty("instance").GetString() == instance);
}
