using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

public partial class ServiceHostAnalyticsTests
{
    [Fact]
    public async Task MovingObjectCrossesALineAndTheEventReachesMqtt()
    {
        // A white square crosses a grey scene left to right; the motion detector finds it, the tracker follows it,
        // the counting line at x = 160 counts it "in", and the event goes to a real mosquitto broker.
        string clip = TestMedia.Make("square-crossing.mp4",
            "-f lavfi -i color=c=gray:s=320x240:r=25 -f lavfi -i color=c=white:s=40x40:r=25 " +
            "-filter_complex \"[0][1]overlay=x='20+t*100':y=100:shortest=1\" -t 2.4 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
        using var broker = new MosquittoBroker();
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#");
        observer.WaitSubscribed(broker.Port);
        string dir = TestEnvironment.NewTempDir();
        var cfg = ConfigLoader.LoadText($$"""
            instance: e2e
            http:
              listen: http://127.0.0.1:0
            detector:
              model: motion
              motion:
                learning_rate: 0.01
                min_area: 200
                downscale: 1
            sinks:
              events: {{dir}}/{stream}.jsonl
              mqtt:
                host: 127.0.0.1
                port: {{broker.Port}}
            streams:
              - id: square
                uri: {{clip}}
                lines:
                  - name: middle
                    points: [[160, 0], [160, 240]]
            """, "e2e.yaml", new Dictionary<string, string>());
        await using (var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))![0].GetProperty("status").GetString() == "ended",
                TimeSpan.FromSeconds(30), "stream end");
        }
        var lines = File.ReadAllLines(Path.Combine(dir, "square.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var crossed = lines.Where(e => e.GetProperty("type").GetString() == "line_crossed").ToList();
        Assert.True(crossed.Count == 1, string.Join("\n", lines.Select(l => l.ToString())));
        Assert.Equal("middle", crossed[0].GetProperty("region").GetString());
        Assert.True(Poll.Until(() => observer.Payloads("streamvision/e2e/square/events").Any(p => p.Contains("\"line_crossed\"", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(10)), "line_crossed did not reach the broker");
    }
}
