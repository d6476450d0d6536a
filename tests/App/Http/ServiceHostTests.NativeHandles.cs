using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;
using Xunit.Abstractions;

namespace StreamVision.App.Tests.Http;

/// <summary>
/// Streams added and deleted through the API of a real service free every native object they held: the shim's FFmpeg
/// readers and writers, OpenCV background models and camera-motion estimators, the ONNX Runtime session of a model only
/// they used, as <c>sv_native_handles{kind}</c> on its <c>/metrics</c> counts them. The counts are the process's, so
/// nothing else runs beside these tests.
/// </summary>
[Collection(MemoryMeasuringCollection.Name)]
public class ServiceHostNativeHandlesTests(ITestOutputHelper output)
{
    private static readonly string[] s_nativeKinds = ["ffmpeg_reader", "ffmpeg_writer", "background_model", "camera_motion", "onnx_session"];

    private static async Task<Dictionary<string, long>> NativeHandlesAsync(HttpClient http)
    {
        string text = await http.GetStringAsync("/metrics");
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(text, @"^sv_native_handles\{kind=""(\w+)""\} (\d+)$", RegexOptions.Multiline))
            counts[m.Groups[1].Value] = long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        return counts;
    }

    private static string Describe(Dictionary<string, long> counts) => string.Join(", ", counts.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}={kv.Value}"));

    [Fact]
    public async Task StreamsDeletedThroughTheApiReleaseEveryNativeObjectTheyHeld()
    {
        string dir = TestEnvironment.NewTempDir();
        var cfg = ConfigLoader.LoadText($$"""
            instance: handles
            http:
              listen: http://127.0.0.1:0
              output_root: {{dir}}/out
              changes_per_minute: 0
            detector:
              model: motion
            streams:
              - id: keep
                uri: "lavfi:testsrc2=size=160x120:rate=15"
                mode: live
            """, "handles.yaml", new Dictionary<string, string>());
        string tamperModel = Path.Combine(TestEnvironment.RepoRoot, "models", "tamper-cnn-gru.onnx");
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        var failSafe = TimeSpan.FromSeconds(120); // against a hang, not a speed bound
        {
            async Task<JsonElement[]> Streams() => (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!;
            async Task<bool> Decoding(params string[] ids)
            {
                try
                {
                    var s = await Streams();
                    return ids.All(id => s.Any(x => x.GetProperty("id").GetString() == id && x.GetProperty("frames").GetInt64() > 3));
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }
            await Poll.UntilAsync(() => Decoding("keep"), failSafe, "the keep stream decoding");
            output.WriteLine("keep decoding");
            // No forced collection: earlier tests in this process dispose what they opened, so only the keep stream's
            // objects are alive. (An annotate job that failed on an option once left its input's reader running for good;
            // SV_TRACE_NATIVE_HANDLES=FILE lists where each live reader and writer was opened.)
            var baseline = await NativeHandlesAsync(http);
            output.WriteLine($"baseline {Describe(baseline)}");
            Assert.Equal(s_nativeKinds.Order(), baseline.Keys.Order());
            Assert.True(baseline["ffmpeg_reader"] == 1 && baseline["background_model"] == 1 && baseline["ffmpeg_writer"] == 0,
                $"{Describe(baseline)}: the keep stream's only{string.Concat(Native.NativeInfo.TracedLiveHandles().Select(h => Environment.NewLine + h))}");

            // Three rounds of four streams: one plain, one writing video, one with a moving camera, one with the
            // camera-tamper model (its session is loaded for it and freed with the last stream that uses it).
            for (int round = 0; round < 3; round++)
            {
                string[] ids = [$"plain{round}", $"video{round}", $"moving{round}", $"tamper{round}"];
                string[] bodies =
                [
                    $$$"""{"id": "{{{ids[0]}}}", "uri": "lavfi:testsrc2=size=160x120:rate=15", "mode": "live", "sinks": {"events": "{stream}/events.jsonl"}}""",
                    $$$"""{"id": "{{{ids[1]}}}", "uri": "lavfi:testsrc2=size=160x120:rate=15", "mode": "live", "sinks": {"video": {"path": "{stream}/v.mp4", "preset": "ultrafast"} } }""",
                    $$$"""{"id": "{{{ids[2]}}}", "uri": "lavfi:testsrc2=size=160x120:rate=15", "mode": "live", "compensate_camera_motion": true}""",
                    $$$"""{"id": "{{{ids[3]}}}", "uri": "lavfi:testsrc2=size=160x120:rate=15", "mode": "live", "tamper": {"enabled": true, "model": {{{JsonSerializer.Serialize(tamperModel)}}}}}""",
                ];
                foreach (var body in bodies)
                {
                    var add = await http.PostAsync("/api/streams", new StringContent(body, Encoding.UTF8, "application/json"));
                    Assert.True(add.StatusCode == HttpStatusCode.Created, $"{add.StatusCode}: {await add.Content.ReadAsStringAsync()}");
                }
                output.WriteLine($"round {round}: added");
                await Poll.UntilAsync(() => Decoding(ids), failSafe, $"round {round}'s streams decoding");
                var running = await NativeHandlesAsync(http);
                // Counted while they run: one reader each, the video stream's writer, a background model each, the
                // moving camera's estimator, the tamper model's session.
                Assert.True(running["ffmpeg_reader"] == baseline["ffmpeg_reader"] + 4, Describe(running));
                Assert.True(running["ffmpeg_writer"] == baseline["ffmpeg_writer"] + 1, Describe(running));
                Assert.True(running["background_model"] == baseline["background_model"] + 4, Describe(running));
                Assert.True(running["camera_motion"] == baseline["camera_motion"] + 1, Describe(running));
                Assert.True(running["onnx_session"] == baseline["onnx_session"] + 1, Describe(running));

                foreach (var id in ids) Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync($"/api/streams/{id}")).StatusCode);
                // Back to the baseline once the streams are gone (a background model re-created for a late frame of a
                // deleted stream would show in the next round's counts).
                Dictionary<string, long> now = [];
                try
                {
                    await Poll.UntilAsync(async () => Describe(now = await NativeHandlesAsync(http)) == Describe(baseline), failSafe, "native objects back to the baseline");
                }
                catch (TimeoutException)
                {
                    Assert.Fail($"round {round}: native objects not released: baseline {Describe(baseline)}, now {Describe(now)}");
                }
            }
        }
    }
}
