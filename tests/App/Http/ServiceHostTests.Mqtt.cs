using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

public class ServiceHostMqttTests
{
    [Fact]
    public async Task TwoStreamsPublishOverOneMutualTlsConnectionWithCredentialsInMqtt5()
    {
        // The square-crossing clip of the analytics test, twice: each stream counts one crossing and publishes it.
        string clip = TestMedia.Make("square-crossing.mp4",
            "-f lavfi -i color=c=gray:s=320x240:r=25 -f lavfi -i color=c=white:s=40x40:r=25 " +
            "-filter_complex \"[0][1]overlay=x='20+t*100':y=100:shortest=1\" -t 2.4 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
        var pki = TestPki.Create("StreamVision E2E CA");
        using var broker = new MosquittoBroker(pki, requireClientCertificate: true, users: new Dictionary<string, string> { ["sv"] = "e2e-pass" });
        broker.Start();
        using var observer = new MqttObserver(broker.Port, "streamvision/#", broker.ClientArgs);
        observer.WaitSubscribed(broker.Port);
        string lines = """
                lines:
                  - name: middle
                    points: [[160, 0], [160, 240]]
            """;
        var cfg = ConfigLoader.LoadText($$"""
            instance: e2e-tls
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
              mqtt:
                host: 127.0.0.1
                port: {{broker.TlsPort}}
                protocol: 5
                username: sv
                tls:
                  ca_file: {{pki.CaFile}}
                  cert_file: {{pki.ClientCert}}
                  key_file: {{pki.ClientKey}}
            streams:
              - id: left
                uri: {{clip}}
            {{lines}}
              - id: right
                uri: {{clip}}
            {{lines}}
            """, "e2e.yaml", new Dictionary<string, string> { ["SV__SINKS__MQTT__PASSWORD"] = "e2e-pass" });
        await using (var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!.All(s => s.GetProperty("status").GetString() == "ended"),
                TimeSpan.FromSeconds(60), "streams end");
        }
        foreach (var stream in new[] { "left", "right" })
        {
            Assert.True(Poll.Until(() => observer.Payloads($"streamvision/e2e-tls/{stream}/events").Any(p => p.Contains("\"line_crossed\"", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(10)), $"line_crossed of {stream} did not reach the broker\n{broker.Log}");
            Assert.Equal("offline", observer.Payloads($"streamvision/e2e-tls/{stream}/state").LastOrDefault());
        }
        // One connection for both streams, over the TLS listener, in MQTT 5; the instance said goodbye when it stopped.
        Assert.Equal(["p5"], broker.ProtocolsOf("streamvision-e2e-tls"));
        Assert.Contains($"on port {broker.TlsPort}.", broker.Log, StringComparison.Ordinal);
        Assert.True(Poll.Until(() => observer.Payloads("streamvision/e2e-tls/state").LastOrDefault() == "offline", TimeSpan.FromSeconds(10)), broker.Log);
        Assert.Contains("Received DISCONNECT from streamvision-e2e-tls", broker.Log, StringComparison.Ordinal);
    }
}
