using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.Sinks.Tests.Support;

namespace StreamVision.App.Tests.Http;

public class ServiceHostKafkaTests
{
    [Fact]
    public async Task TwoInstancesPublishTheirEventsToOneKafkaTopicEachCarryingItsInstanceAndStream()
    {
        // The square-crossing clip of the analytics test: each stream counts one crossing and publishes it.
        string clip = TestMedia.Make("square-crossing.mp4",
            "-f lavfi -i color=c=gray:s=320x240:r=25 -f lavfi -i color=c=white:s=40x40:r=25 " +
            "-filter_complex \"[0][1]overlay=x='20+t*100':y=100:shortest=1\" -t 2.4 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
        using var kafka = new KafkaMockCluster(brokers: 3);
        kafka.CreateTopic("site.events", 3);
        SvConfig Config(string instance, string stream) => ConfigLoader.LoadText($$"""
            instance: {{instance}}
            http:
              listen: http://127.0.0.1:0
            detector:
              model: motion
              motion:
                learning_rate: 0.01
                min_area: 200
                downscale: 1
            sinks:
              preview: false
              kafka:
                brokers: {{kafka.Bootstrap}}
                topic: site.events
                linger_ms: 1
            streams:
              - id: {{stream}}
                uri: {{clip}}
                lines:
                  - name: middle
                    points: [[160, 0], [160, 240]]
            """, $"{instance}.yaml", new Dictionary<string, string>());
        await using (var a = await ServiceHost.StartAsync(Config("edge-a", "north"), NullLoggerFactory.Instance))
        await using (var b = await ServiceHost.StartAsync(Config("edge-b", "south"), NullLoggerFactory.Instance))
        {
            foreach (var host in new[] { a, b })
            {
                using var http = new HttpClient { BaseAddress = host.Address };
                await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!.All(s => s.GetProperty("status").GetString() == "ended"),
                    TimeSpan.FromSeconds(60), "stream ends");
            }
        } // stopping drains each sink: every event is acknowledged before the services are gone
        var messages = kafka.Consume("site.events", 3, int.MaxValue, TimeSpan.FromSeconds(5));
        foreach (var (instance, stream) in new[] { ("edge-a", "north"), ("edge-b", "south") })
        {
            var mine = messages.Where(m => m.Message.Key == stream).Select(m => JsonDocument.Parse(m.Message.Value).RootElement).ToList();
            Assert.Contains(mine, e => e.GetProperty("type").GetString() == "line_crossed");
            Assert.All(mine, e => Assert.Equal(instance, e.GetProperty("instance").GetString()));
            Assert.All(mine, e => Assert.Equal(stream, e.GetProperty("stream").GetString()));
            var frames = mine.Select(e => e.GetProperty("frame").GetInt64()).ToList();
            Assert.Equal(frames.Order(), frames); // one key, one partition: in order
        }
    }
}
