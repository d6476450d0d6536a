using System.Diagnostics;
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

/// <summary>These tests measure this process's managed heap: nothing else may run beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryMeasuringCollection
{
    public const string Name = "measures the process's memory";
}

/// <summary>
/// An API under abuse keeps its memory: large bodies are refused before they are read, changes are rate-limited, and
/// streams added and removed again and again leave no metric series, no state and no heap behind. Bounds are on memory and
/// series, never on time.
/// </summary>
[Collection(MemoryMeasuringCollection.Name)]
public class ServiceHostAbuseTests(ITestOutputHelper output)
{
    private static SvConfig Config(string dir, string http = "", string detector = "model: none") => ConfigLoader.LoadText($$"""
        instance: abuse
        http:
          listen: http://127.0.0.1:0
          output_root: {{dir}}/out
        {{http}}
        detector:
          {{detector}}
        streams:
          - id: keep
            uri: lavfi:testsrc2=size=160x120:rate=15
            mode: live
        """, "abuse.yaml", new Dictionary<string, string>());

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>The managed heap after full, compacting collections (what the process really holds).</summary>
    private static long Heap()
    {
        for (int i = 0; i < 3; i++)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// POSTs <paramref name="file"/> to the streams API with curl, a process of its own: only the service's memory is in this
    /// process's heap (an in-process client's buffers, kept until its connections and 100-continue timers go, were measured
    /// with it and made the rounds' heap vary on a loaded machine). Like curl's default for bodies over 1 MB it waits for the
    /// server's go-ahead (with no timeout that load could reach), so a refusal arrives before it sends; chunked: no length.
    /// Null when the server answered and closed while curl was still sending (curl sees a reset).
    /// </summary>
    private static async Task<HttpStatusCode?> CurlPostAsync(Uri address, string file, bool chunked)
    {
        var psi = new ProcessStartInfo("curl",
            $"-sS -o /dev/null -w %{{http_code}} --expect100-timeout 300 -H \"Expect: 100-continue\" -H \"Content-Type: application/json\" " +
            $"{(chunked ? "-H \"Transfer-Encoding: chunked\" " : "")}--data-binary @{file} {address}api/streams")
        { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start curl");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        string code = (await stdout).Trim();
        if (p.ExitCode is 55 or 56) return null; // send / receive failure: the connection was closed under the upload
        Assert.True(p.ExitCode == 0 && code is not ("" or "000"), $"curl exited {p.ExitCode} ({code}): {await stderr}");
        return (HttpStatusCode)int.Parse(code, CultureInfo.InvariantCulture);
    }

    private static async Task<HttpStatusCode?> PostAsync(HttpClient http, HttpContent content)
    {
        try
        {
            return (await http.PostAsync("/api/streams", content)).StatusCode;
        }
        catch (HttpRequestException)
        {
            // The server answered 413 and closed while the client was still sending: the client sees a reset.
            return null;
        }
    }

    [Fact]
    public async Task LargeBodiesAreRefusedBeforeTheyAreReadAndTheirMemoryReturns()
    {
        const int big = 25 << 20;
        string dir = TestEnvironment.NewTempDir();
        // No change limit: the warm-up rounds below would reach the default (it has a test of its own).
        await using var host = await ServiceHost.StartAsync(Config(dir, "  changes_per_minute: 0"), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        // For the 2 MB refusals read here: the client waits for the go-ahead (however long load makes it), so it reads the 413
        // instead of a broken pipe from sending into a connection the server closed after refusing.
        using var polite = new HttpClient(new SocketsHttpHandler { Expect100ContinueTimeout = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = host.Address, Timeout = TimeSpan.FromMinutes(5), DefaultRequestHeaders = { ExpectContinue = true },
        };
        // One 25 MB JSON body on disk, sent by curl processes (see CurlPostAsync).
        string body = Path.Combine(dir, "big.json");
        using (var f = File.Create(body))
        {
            f.Write("{\"id\": \"big\", \"uri\": \""u8);
            var piece = Encoding.ASCII.GetBytes(new string('a', 64 * 1024));
            for (long sent = 22; sent < big - 2; sent += piece.Length) f.Write(piece.AsSpan(0, (int)Math.Min(piece.Length, big - 2 - sent)));
            f.Write("\"}"u8);
        }
        // Warm up every path the abuse takes (JIT, pools), then measure. The pools fill with the abuse's concurrency: a chunked
        // body is parsed into buffers of the shared array pool until the limit stops it, and the pool keeps those buffers per
        // thread and per core, more of them the more threads the rounds ran on (on a loaded machine it took three rounds).
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/streams", Json("""{"id": "w"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await PostAsync(polite, new ByteArrayContent(new byte[2 << 20])));
        const int warmUp = 3;
        long before = 0, rssBefore = 0;
        var heaps = new List<long>();
        for (int round = -warmUp; round < 4; round++)
        {
            if (round == 0) (before, rssBefore) = (Heap(), Environment.WorkingSet);
            // Four at once with a Content-Length (refused before a byte is read) and four chunked (stopped at the limit). A
            // client that sends on without waiting may see the connection reset instead of the 413: the server read no more
            // than the limit either way.
            var sized = Enumerable.Range(0, 4).Select(_ => CurlPostAsync(host.Address!, body, chunked: false));
            var chunked = Enumerable.Range(0, 4).Select(_ => CurlPostAsync(host.Address!, body, chunked: true));
            var statuses = await Task.WhenAll(sized.Concat(chunked));
            output.WriteLine($"round {round}: {string.Join(", ", statuses.Select(s => s?.ToString() ?? "reset"))}");
            Assert.All(statuses[..4], s => Assert.Equal(HttpStatusCode.RequestEntityTooLarge, s));
            Assert.All(statuses[4..], s => Assert.True(s is HttpStatusCode.RequestEntityTooLarge or null, $"chunked: {s}"));
            if (round >= 0) heaps.Add(Heap());
        }
        var refusal = await polite.PostAsync("/api/streams", new ByteArrayContent(new byte[2 << 20]));
        Assert.Contains("http.max_body_bytes", await refusal.Content.ReadAsStringAsync());

        // The service is unharmed and the memory is back: 800 MB sent in four rounds left less than half a body's worth
        // behind (buffer pools filling once, in whichever round their threads first ran), and the last round added nothing
        // (a request that kept even a fraction of its body would show eight times over).
        Assert.Equal("keep", (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!.Single().GetProperty("id").GetString());
        long rssAfter = Environment.WorkingSet;
        output.WriteLine($"managed heap {before / 1e6:F1} -> {string.Join(" -> ", heaps.Select(h => (h / 1e6).ToString("F1", CultureInfo.InvariantCulture)))} MB; " +
            $"working set {rssBefore / 1e6:F0} -> {rssAfter / 1e6:F0} MB");
        Assert.True(heaps.Max() - before < big / 2, $"managed heap grew {(heaps.Max() - before) / 1e6:F1} MB after rounds of 8 refused 25 MB bodies");
        Assert.True(heaps[^1] - heaps[^2] < 4 << 20, $"managed heap grew {(heaps[^1] - heaps[^2]) / 1e6:F1} MB in the last round");
    }

    [Fact]
    public async Task ChangesBeyondTheRateAreRefusedWith429AndRetryAfter()
    {
        string dir = TestEnvironment.NewTempDir();
        await using var host = await ServiceHost.StartAsync(Config(dir, "  changes_per_minute: 3"), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        // Three changes pass (whatever their outcome), the fourth of any kind is refused; reading is never limited.
        Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/api/streams", Json("""{"id": "a", "uri": "lavfi:testsrc2=size=160x120:rate=15", "mode": "live"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("/api/streams", Json("""{"id": "b"}"""))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/streams/a")).StatusCode);
        foreach (var refused in new[]
        {
            await http.PostAsync("/api/streams", Json("""{"id": "c", "uri": "lavfi:testsrc2", "mode": "live"}""")),
            await http.DeleteAsync("/api/streams/keep"),
            await http.PostAsync("/api/reload", null),
        })
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.True(int.Parse(refused.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture) >= 1);
            Assert.Contains("changes_per_minute", await refused.Content.ReadAsStringAsync());
        }
        Assert.True(host.Manager.TryGet("keep", out _));
        Assert.False(host.Manager.TryGet("c", out _));
        for (int i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/streams")).StatusCode);
    }

    /// <summary>Every series of a scrape, as <c>name{labels}</c> without the value.</summary>
    private static HashSet<string> Series(string scrape) =>
        Regex.Matches(scrape, @"^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) ", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToHashSet();

    /// <summary>The service's own series (<c>sv_</c>, where everything keyed by stream, sink or track lives).</summary>
    private static HashSet<string> Ours(HashSet<string> series) => series.Where(s => s.StartsWith("sv_", StringComparison.Ordinal)).ToHashSet();

    private static double? Sample(string scrape, string series)
    {
        var m = Regex.Match(scrape, "^" + Regex.Escape(series) + @" (\S+)$", RegexOptions.Multiline);
        return m.Success ? double.Parse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture) : null;
    }

    [Fact]
    public async Task AddAndDeleteCyclesLeaveNoSeriesNoStateAndNoHeapBehind()
    {
        const int cycles = 20;
        string dir = TestEnvironment.NewTempDir();
        string detections = Path.Combine(dir, "detections.txt");
        var sb = new StringBuilder();
        for (int f = 1; f <= 5000; f++) sb.Append(CultureInfo.InvariantCulture, $"{f},-1,60,40,40,40,0.9,-1,-1,-1\n");
        File.WriteAllText(detections, sb.ToString());
        var cfg = Config(dir, "  changes_per_minute: 0", $"model: detections-file\n  detections: {detections}");
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        // Every kind of per-stream state: sinks writing files (segments too), snapshots, a zone and a line, the tracker.
        const string body = """
            {"id": "cycle", "uri": "lavfi:testsrc2=size=160x120:rate=25", "mode": "live",
             "zones": [{"name": "all", "polygon": [[0, 0], [160, 0], [160, 120], [0, 120]]}],
             "lines": [{"name": "mid", "points": [[80, 0], [80, 120]]}],
             "sinks": {"events": "{stream}/events.jsonl", "tracks": "{stream}/tracks.txt", "snapshots": "{stream}/snaps",
                       "video": {"path": "{stream}/video.mkv", "preset": "ultrafast", "segment_seconds": 1}}}
            """;

        async Task CycleAsync()
        {
            var add = await http.PostAsync("/api/streams", Json(body));
            Assert.True(add.StatusCode == HttpStatusCode.Created, await add.Content.ReadAsStringAsync());
            Assert.True(host.Manager.TryGet("cycle", out var running));
            string last = "";
            await Poll.UntilAsync(async () =>
            {
                string s = last = await http.GetStringAsync("/metrics");
                return Sample(s, "sv_tracker_active_tracks{stream=\"cycle\"}") == 1
                    && Sample(s, "sv_events_total{stream=\"cycle\",type=\"zone_enter\"}") >= 1
                    && Sample(s, "sv_sink_items_written_total{stream=\"cycle\",sink=\"mot\"}") > 0
                    && Sample(s, "sv_sink_items_written_total{stream=\"cycle\",sink=\"video\"}") > 30;
            }, TimeSpan.FromSeconds(30), "the cycled stream's series").ContinueWith(t =>
            {
                if (t.IsFaulted) output.WriteLine(string.Join("\n", last.Split('\n').Where(l => l.Contains("cycle", StringComparison.Ordinal) && !l.Contains("_bucket", StringComparison.Ordinal))));
                return t;
            }).Unwrap();
            Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/streams/cycle")).StatusCode);
            string scrape = await http.GetStringAsync("/metrics");
            Assert.DoesNotContain("stream=\"cycle\"", scrape);
        }

        await CycleAsync(); // the first brings every lazily created series and pool to life
        var all = Series(await http.GetStringAsync("/metrics"));
        var series = Ours(all);
        long heap = Heap();
        int previews = host.Manager.Resources.Previews.Count;
        for (int i = 0; i < cycles; i++) { await CycleAsync(); if (i % 10 == 9) output.WriteLine($"after {i + 1}: {Heap() / 1e6:F2} MB"); }
        var allAfter = Series(await http.GetStringAsync("/metrics"));
        var seriesAfter = Ours(allAfter);
        long heapAfter = Heap();
        output.WriteLine($"sv_ series {series.Count} -> {seriesAfter.Count} (all {all.Count} -> {allAfter.Count}); managed heap {heap / 1e6:F1} -> {heapAfter / 1e6:F1} MB over {cycles} cycles");

        Assert.True(series.SetEquals(seriesAfter),
            $"series differ after {cycles} cycles: added {string.Join(" ", seriesAfter.Except(series))}; gone {string.Join(" ", series.Except(seriesAfter))}");
        // The runtime's and Kestrel's meters (published by prometheus-net's adapter a while after start) come and stay,
        // but none is keyed by stream.
        Assert.DoesNotContain(allAfter, s => s.Contains("stream=", StringComparison.Ordinal) && !s.Contains("stream=\"keep\"", StringComparison.Ordinal));
        Assert.Equal(previews, host.Manager.Resources.Previews.Count);
        Assert.Equal(["keep"], host.Manager.Streams.Select(s => s.Id));
        // Each cycle built and dropped a pipeline with four sinks, two regions and a tracker: none of it stays.
        Assert.True(heapAfter - heap < 4 << 20, $"managed heap grew {(heapAfter - heap) / 1e6:F1} MB over {cycles} cycles");
        // Its segments were written again and again under the root (a re-added stream may overwrite its own files).
        Assert.True(new FileInfo(Path.Combine(dir, "out", "cycle", "video-00000.mkv")).Length > 0);
    }
}
