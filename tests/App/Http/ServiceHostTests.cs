using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

public class ServiceHostTests
{
    private static SvConfig Config(string dir, string clip) => ConfigLoader.LoadText($$"""
        instance: test
        http:
          listen: http://127.0.0.1:0
        detector:
          model: blazeface
        sinks:
          events: {{dir}}/{stream}.jsonl
          video:
            path: {{dir}}/{stream}.mp4
            preset: ultrafast
        streams:
          - id: a
            uri: {{clip}}
          - id: b
            uri: {{clip}}
          - id: pattern
            uri: lavfi:testsrc2=size=160x120:rate=25
            mode: live
        """, "test.yaml", new Dictionary<string, string>());

    private static async Task<JsonElement[]> StreamsAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!;

    [Fact]
    public async Task ServesMetricsMatchingFramesAndManagesStreamsAtRunTime()
    {
        string dir = TestEnvironment.NewTempDir();
        string clip = TestMedia.H264(320, 240, 60);
        await using var host = await ServiceHost.StartAsync(Config(dir, clip), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };

        Assert.Equal("ok\n", await http.GetStringAsync("/healthz"));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/readyz")).StatusCode);
        await Poll.UntilAsync(async () => (await StreamsAsync(http)).Count(s => s.GetProperty("status").GetString() == "ended") == 2, TimeSpan.FromSeconds(30), "API condition");

        var metrics = await http.GetStringAsync("/metrics");
        Assert.Matches(@"sv_frames_analyzed_total\{stream=""a""\} 60\n", metrics);
        Assert.Matches(@"sv_frames_decoded_total\{stream=""b""\} 60\n", metrics);
        Assert.Contains("# TYPE sv_end_to_end_latency_seconds histogram", metrics);
        Assert.Contains("sv_inference_batch_size_bucket{le=\"+Inf\"}", metrics);
        Assert.Contains("process_resident_memory_bytes ", metrics);
        Assert.Matches(@"sv_sink_items_written_total\{stream=""a"",sink=""video""\} 60\n", metrics);
        var streams = await StreamsAsync(http);
        Assert.Equal(60, streams.Single(s => s.GetProperty("id").GetString() == "a").GetProperty("frames").GetInt64());

        // Add a stream over the API; the live pattern keeps running meanwhile.
        long before = (await StreamsAsync(http)).Single(s => s.GetProperty("id").GetString() == "pattern").GetProperty("frames").GetInt64();
        var add = await http.PostAsync("/api/streams", new StringContent("""{"id": "c", "uri": "lavfi:testsrc2=size=160x120:rate=25", "mode": "live"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, add.StatusCode);
        await Poll.UntilAsync(async () => (await StreamsAsync(http)).Single(s => s.GetProperty("id").GetString() == "c").GetProperty("frames").GetInt64() > 5, TimeSpan.FromSeconds(30), "API condition");
        var dup = await http.PostAsync("/api/streams", new StringContent("""{"id": "c", "uri": "lavfi:testsrc2"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Conflict, dup.StatusCode);
        var bad = await http.PostAsync("/api/streams", new StringContent("""{"id": "d", "max_fps": -1}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("uri: missing", await bad.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/streams/c")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.DeleteAsync("/api/streams/c")).StatusCode);
        var cluster = await http.GetAsync("/api/cluster");   // not in a cluster: a 404 that says so
        Assert.Equal(HttpStatusCode.NotFound, cluster.StatusCode);
        Assert.Contains("not in a cluster", await cluster.Content.ReadAsStringAsync());
        var after = await StreamsAsync(http);
        Assert.DoesNotContain(after, s => s.GetProperty("id").GetString() == "c");
        var pattern = after.Single(s => s.GetProperty("id").GetString() == "pattern");
        Assert.Equal("running", pattern.GetProperty("status").GetString());
        Assert.True(pattern.GetProperty("frames").GetInt64() > before);

        // A graceful stop returns every frame to both pools (decoders' and sinks').
        await host.DisposeAsync();
        Assert.Equal(0, host.Manager.Pool.Outstanding);
        Assert.Equal(0, host.Manager.Resources.SinkPool.Outstanding);
        Assert.True(host.Manager.Resources.SinkPool.TotalRents > 0); // video and preview drew their copies there
    }

    [Fact]
    public async Task AStreamThatCannotOpenFailsAloneAndIsReported()
    {
        string dir = TestEnvironment.NewTempDir();
        var cfg = ConfigLoader.LoadText($$"""
            http:
              listen: http://127.0.0.1:0
            detector:
              model: none
            streams:
              - id: good
                uri: {{TestMedia.H264(160, 120, 20)}}
              - id: broken
                uri: {{dir}}/missing.mp4
            """, "t.yaml", new Dictionary<string, string>());
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        await Poll.UntilAsync(async () => (await StreamsAsync(http)).All(s => s.GetProperty("status").GetString() is "ended" or "failed"), TimeSpan.FromSeconds(30), "API condition");
        var streams = await StreamsAsync(http);
        var broken = streams.Single(s => s.GetProperty("id").GetString() == "broken");
        Assert.Equal("failed", broken.GetProperty("status").GetString());
        Assert.Contains("missing.mp4", broken.GetProperty("error").GetString());
        Assert.Equal(20, streams.Single(s => s.GetProperty("id").GetString() == "good").GetProperty("frames").GetInt64());
        await host.DisposeAsync();
        Assert.Equal(0, host.Manager.Pool.Outstanding);
        Assert.Equal(0, host.Manager.Resources.SinkPool.Outstanding);
    }

    [Fact]
    public async Task AnErrorClearsWhenTheStreamRecoversAndTheLastOneStaysWithItsTime()
    {
        string dir = TestEnvironment.NewTempDir();
        string later = Path.Combine(dir, "later.mp4");
        // A live camera that is not there yet: FFmpeg's movie source (looping, paced) over a file that appears later.
        var cfg = ConfigLoader.LoadText($$"""
            http:
              listen: http://127.0.0.1:0
            detector:
              model: none
            streams:
              - id: cam
                uri: "lavfi:movie={{later}}:loop=0,realtime"
                mode: live
                reconnect_initial_seconds: 0.05
                reconnect_max_seconds: 0.2
            """, "t.yaml", new Dictionary<string, string>());
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        JsonElement cam = default;
        async Task<JsonElement> CamAsync() => cam = (await StreamsAsync(http)).Single(s => s.GetProperty("id").GetString() == "cam");

        await Poll.UntilAsync(async () => (await CamAsync()).GetProperty("error").ValueKind == JsonValueKind.String, TimeSpan.FromSeconds(30), "the missing camera's error");
        Assert.Contains("later.mp4", cam.GetProperty("error").GetString());
        Assert.Equal("running", cam.GetProperty("status").GetString());
        Assert.NotEqual("streaming", cam.GetProperty("source_state").GetString());
        var failedAt = cam.GetProperty("last_error").GetProperty("at").GetDateTimeOffset();

        // The camera comes (the file appears whole), frames flow: the error is gone, the last one is kept with its time.
        File.Copy(TestMedia.H264(160, 120, 50), later + ".tmp");
        File.Move(later + ".tmp", later);
        await Poll.UntilAsync(async () => (await CamAsync()).GetProperty("frames").GetInt64() > 10 && cam.GetProperty("source_state").GetString() == "streaming",
            TimeSpan.FromSeconds(30), "frames after the camera came");
        Assert.Equal(JsonValueKind.Null, cam.GetProperty("error").ValueKind);
        Assert.Equal("running", cam.GetProperty("status").GetString());
        var last = cam.GetProperty("last_error");
        Assert.Contains("later.mp4", last.GetProperty("message").GetString());
        Assert.True(last.GetProperty("at").GetDateTimeOffset() >= failedAt);
        Assert.True(cam.GetProperty("reconnects").GetInt64() >= 1);
    }

    [Fact]
    public async Task AStreamAddedThroughTheApiStartsFromTheInstancesSinks()
    {
        string dir = TestEnvironment.NewTempDir();
        string detections = Path.Combine(dir, "detections.txt");
        File.WriteAllLines(detections, Enumerable.Range(1, 3000).Select(f => $"{f},-1,60,40,40,40,0.9,-1,-1,-1"));
        var cfg = ConfigLoader.LoadText($$"""
            http:
              listen: http://127.0.0.1:0
              output_root: {{dir}}/out
            detector:
              model: detections-file
              detections: {{detections}}
            sinks:
              events: {{dir}}/events/{stream}.jsonl
              preview: false
              queue: 9
            """, "t.yaml", new Dictionary<string, string>());
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };

        // One stream gives no sinks, one gives a key of its own: both get the instance's events file and settings.
        foreach (var body in new[]
        {
            """{"id": "plain", "uri": "lavfi:testsrc2=size=160x120:rate=25", "mode": "live"}""",
            """{"id": "own", "uri": "lavfi:testsrc2=size=160x120:rate=25", "mode": "live", "sinks": {"tracks": "{stream}/tracks.txt"}}""",
        })
        {
            var add = await http.PostAsync("/api/streams", new StringContent(body, Encoding.UTF8, "application/json"));
            Assert.True(add.StatusCode == HttpStatusCode.Created, await add.Content.ReadAsStringAsync());
        }
        foreach (var id in new[] { "plain", "own" })
        {
            string events = Path.Combine(dir, "events", id + ".jsonl");
            await Poll.UntilAsync(() => Task.FromResult(File.Exists(events) && File.ReadAllText(events).Contains("\"track_started\"", StringComparison.Ordinal)),
                TimeSpan.FromSeconds(30), $"{id}'s events in the instance's events file");
            Assert.True(host.Manager.TryGet(id, out var h));
            Assert.Equal(9, h!.Config.Sinks!.QueueCapacity);
            Assert.Null(h.Config.Sinks.Preview);
            var names = h.Sinks.Select(r => r.Sink.Name).ToList();
            Assert.Contains("events", names);
            Assert.DoesNotContain("preview", names);
        }
        // Its own key went under the output root (finalised when it is removed).
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/streams/own")).StatusCode);
        Assert.True(new FileInfo(Path.Combine(dir, "out", "own", "tracks.txt")).Length > 0);
        Assert.False(File.Exists(Path.Combine(dir, "out", "plain", "tracks.txt")));
    }
}
