using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

/// <summary>/metrics of a running service: types, buckets, per-stream series that come and go with their stream.</summary>
public class ServiceHostMetricsTests
{
    private static SvConfig Config(string dir, string detections, string extra = "") => ConfigLoader.LoadText($$"""
        instance: metrics-test
        http:
          listen: http://127.0.0.1:0
        detector:
          model: detections-file
          detections: {{detections}}
        sinks:
          events: {{dir}}/{stream}.jsonl
        streams:
          - id: keep
            uri: lavfi:testsrc2=size=160x120:rate=25
            mode: live
        {{extra}}
        """, "metrics.yaml", new Dictionary<string, string>());

    /// <summary>A MOTChallenge file with one still object in frames 1..<paramref name="frames"/>.</summary>
    private static string OneObject(string dir, int frames)
    {
        string path = Path.Combine(dir, "detections.txt");
        var sb = new StringBuilder();
        for (int f = 1; f <= frames; f++) sb.Append(CultureInfo.InvariantCulture, $"{f},-1,60,40,40,40,0.9,-1,-1,-1\n");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    /// <summary>The value of one sample of a scrape, or null when the series is absent.</summary>
    private static double? Sample(string scrape, string name, string labels)
    {
        var m = Regex.Match(scrape, "^" + Regex.Escape(name + "{" + labels + "}") + @" (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture) : null;
    }

    private static async Task<JsonElement> StreamAsync(HttpClient http, string id) =>
        (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!.Single(s => s.GetProperty("id").GetString() == id);

    [Fact]
    public async Task CountersHistogramsAndGaugesHaveTheirTypesAndBuckets()
    {
        string dir = TestEnvironment.NewTempDir();
        await using var host = await ServiceHost.StartAsync(Config(dir, OneObject(dir, 2000)), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        string scrape = "";
        await Poll.UntilAsync(async () => (Sample(scrape = await http.GetStringAsync("/metrics"), "sv_frames_analyzed_total", "stream=\"keep\"") ?? 0) > 5,
            TimeSpan.FromSeconds(30), "frames analysed");

        foreach (var counter in new[] { "sv_frames_decoded_total", "sv_frames_analyzed_total", "sv_frames_dropped_total", "sv_source_reconnects_total", "sv_sink_items_written_total", "process_cpu_seconds_total" })
            Assert.Contains($"# TYPE {counter} counter\n", scrape);
        foreach (var gauge in new[] { "sv_queue_depth", "sv_source_state", "sv_stream_up", "sv_tracker_active_tracks", "sv_sink_queue_depth", "process_resident_memory_bytes", "sv_instance_info" })
            Assert.Contains($"# TYPE {gauge} gauge\n", scrape);
        foreach (var histogram in new[] { "sv_decode_seconds", "sv_stage_seconds", "sv_end_to_end_latency_seconds", "sv_inference_seconds", "sv_inference_batch_size", "sv_sink_write_seconds" })
            Assert.Contains($"# TYPE {histogram} histogram\n", scrape);
        // Time histograms have buckets in seconds, the batch-size histogram in frames.
        Assert.Matches(@"sv_end_to_end_latency_seconds_bucket\{stream=""keep"",le=""0.0005""\} \d+\n", scrape);
        Assert.Matches(@"sv_end_to_end_latency_seconds_bucket\{stream=""keep"",le=""10""\} \d+\n", scrape);
        Assert.Matches(@"sv_inference_batch_size_bucket\{le=""1""\} \d+\n", scrape);
        Assert.Matches(@"sv_inference_batch_size_bucket\{le=""128""\} \d+\n", scrape);
        Assert.Equal(1, Sample(scrape, "sv_instance_info", "instance_id=\"metrics-test\""));
        // Drop and reconnect counters exist at zero before anything is dropped, so rate() is defined from the start.
        Assert.NotNull(Sample(scrape, "sv_frames_dropped_total", "stream=\"keep\",stage=\"ingest\",reason=\"pool_exhausted\""));
        Assert.NotNull(Sample(scrape, "sv_source_reconnects_total", "stream=\"keep\",outcome=\"failed\""));
        Assert.NotNull(Sample(scrape, "sv_sink_errors_total", "stream=\"keep\",sink=\"events\""));
    }

    [Fact]
    public async Task StreamUpAndActiveTracksFollowTheStream()
    {
        string dir = TestEnvironment.NewTempDir();
        string clip = TestMedia.H264(160, 120, 40);
        var config = Config(dir, OneObject(dir, 2000), $$"""
              - id: file
                uri: {{clip}}
            """);
        await using var host = await ServiceHost.StartAsync(config, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        string scrape = "";
        await Poll.UntilAsync(async () =>
        {
            scrape = await http.GetStringAsync("/metrics");
            return Sample(scrape, "sv_tracker_active_tracks", "stream=\"keep\"") == 1;
        }, TimeSpan.FromSeconds(30), "the still object tracked");
        Assert.Equal(1, Sample(scrape, "sv_stream_up", "stream=\"keep\""));
        Assert.Equal(1, (await StreamAsync(http, "keep")).GetProperty("active_tracks").GetInt32());

        // The file stream ends: it is no longer up (its series stay while it is listed).
        await Poll.UntilAsync(async () => (await StreamAsync(http, "file")).GetProperty("status").GetString() == "ended", TimeSpan.FromSeconds(30), "file stream ended");
        scrape = await http.GetStringAsync("/metrics");
        Assert.Equal(0, Sample(scrape, "sv_stream_up", "stream=\"file\""));
        Assert.Equal(40, Sample(scrape, "sv_frames_analyzed_total", "stream=\"file\""));
        Assert.Equal(1, Sample(scrape, "sv_stream_up", "stream=\"keep\""));
    }

    [Fact]
    public async Task AStreamRemovedThroughTheApiLeavesNoSeries()
    {
        string dir = TestEnvironment.NewTempDir();
        await using var host = await ServiceHost.StartAsync(Config(dir, OneObject(dir, 2000)), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };

        var add = await http.PostAsync("/api/streams", new StringContent("""{"id": "gone", "uri": "lavfi:testsrc2=size=160x120:rate=25", "mode": "live"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, add.StatusCode);
        string scrape = "";
        // Every stage has recorded for the new stream: source, detection and tracking, events, sinks.
        await Poll.UntilAsync(async () =>
        {
            scrape = await http.GetStringAsync("/metrics");
            return Sample(scrape, "sv_tracker_active_tracks", "stream=\"gone\"") == 1
                && Sample(scrape, "sv_events_total", "stream=\"gone\",type=\"track_started\"") >= 1
                && Sample(scrape, "sv_sink_items_written_total", "stream=\"gone\",sink=\"events\"") > 0
                && Sample(scrape, "sv_frames_analyzed_total", "stream=\"gone\"") >= 50;
        }, TimeSpan.FromSeconds(30), "the added stream's series");
        Assert.Equal(1, Sample(scrape, "sv_stream_up", "stream=\"gone\""));
        Assert.Equal(1, Sample(scrape, "sv_source_state", "stream=\"gone\",state=\"streaming\""));
        Assert.True(Sample(scrape, "sv_frames_decoded_total", "stream=\"gone\"") > 0);
        Assert.Contains("sv_stage_seconds_count{stream=\"gone\",stage=\"track\"}", scrape);
        Assert.Contains("sv_sink_queue_depth{stream=\"gone\",sink=\"preview\"}", scrape);

        double goneBefore = Sample(scrape, "sv_frames_analyzed_total", "stream=\"gone\"")!.Value;
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/streams/gone")).StatusCode);
        scrape = await http.GetStringAsync("/metrics");
        Assert.DoesNotContain("stream=\"gone\"", scrape);
        // The other stream is untouched and goes on.
        double before = Sample(scrape, "sv_frames_analyzed_total", "stream=\"keep\"") ?? 0;
        Assert.True(before > 0);
        await Poll.UntilAsync(async () => Sample(await http.GetStringAsync("/metrics"), "sv_frames_analyzed_total", "stream=\"keep\"") > before,
            TimeSpan.FromSeconds(30), "the remaining stream goes on");

        // Added again under the same id, its counters start over (the old series really went).
        add = await http.PostAsync("/api/streams", new StringContent("""{"id": "gone", "uri": "lavfi:testsrc2=size=160x120:rate=25", "mode": "live"}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, add.StatusCode);
        scrape = await http.GetStringAsync("/metrics");
        Assert.True(Sample(scrape, "sv_frames_analyzed_total", "stream=\"gone\"") < goneBefore);
    }
}
