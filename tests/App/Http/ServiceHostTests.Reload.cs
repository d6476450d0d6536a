using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.App.Service;
using StreamVision.Pipeline;

namespace StreamVision.App.Tests.Http;

public class ServiceHostReloadTests
{
    private static SvConfig Config(params (string Id, string Uri)[] streams) => ConfigLoader.LoadText(
        "http:\n  listen: \"\"\ndetector:\n  model: none\nsinks:\n  preview: false\nstreams:\n" +
        string.Concat(streams.Select(s => $"  - id: {s.Id}\n    uri: \"{s.Uri}\"\n    mode: live\n")),
        "reload.yaml", new Dictionary<string, string>());

    [Fact]
    public async Task ReloadStopsRemovedStartsNewRestartsChangedAndLeavesTheRestRunning()
    {
        const string pattern = "lavfi:testsrc2=size=160x120:rate=20";
        await using var host = await ServiceHost.StartAsync(
            Config(("keep", pattern), ("drop", pattern), ("change", pattern)), NullLoggerFactory.Instance);
        var m = host.Manager;
        Assert.True(Poll.Until(() => m.Streams.All(s => s.Stats.Frames > 3), TimeSpan.FromSeconds(20)), "streams did not start");
        Assert.True(m.TryGet("keep", out var keep));

        var report = await m.ReloadAsync(Config(("keep", pattern), ("change", "lavfi:smptebars=size=160x120:rate=20"), ("new", pattern)));

        Assert.Equal((1, 1, 1), (report.Added, report.Removed, report.Restarted));
        Assert.Empty(report.Errors);
        Assert.Equal(["change", "keep", "new"], m.Streams.Select(s => s.Id));
        Assert.True(m.TryGet("keep", out var keptAfter));
        Assert.Same(keep, keptAfter); // untouched: the same running host
        Assert.Equal(StreamStatus.Running, keptAfter.Status);
        Assert.True(m.TryGet("change", out var changed));
        Assert.Contains("smptebars", changed.Config.Source.Uri);
        Assert.True(Poll.Until(() => m.Streams.All(s => s.Stats.Frames > 3), TimeSpan.FromSeconds(20)), "restarted and new streams did not run");
        await host.DisposeAsync();
        Assert.Equal(0, m.Pool.Outstanding);
        Assert.Equal(0, m.Resources.SinkPool.Outstanding);
    }

    [Fact]
    public async Task ApiAddsAndRemovesDuringAReloadLeaveAConsistentSetOfStreams()
    {
        const string pattern = "lavfi:testsrc2=size=160x120:rate=10";
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "service.yaml");
        string Yaml(params string[] ids) => "http:\n  listen: http://127.0.0.1:0\ndetector:\n  model: none\nsinks:\n  preview: false\nstreams:\n" +
            string.Concat(ids.Select(id => $"  - id: {id}\n    uri: \"{pattern}\"\n    mode: live\n"));
        File.WriteAllText(path, Yaml("a", "b"));
        await using var host = await ServiceHost.StartAsync(ConfigLoader.LoadFile(path), NullLoggerFactory.Instance, configPath: path);
        var m = host.Manager;
        using var http = new HttpClient { BaseAddress = host.Address };
        StringContent Json(string id) => new($"{{\"id\": \"{id}\", \"uri\": \"{pattern}\", \"mode\": \"live\"}}", System.Text.Encoding.UTF8, "application/json");

        // The file now drops a, keeps b and adds c, d, e; meanwhile the API adds c (as the file has it) and x, and deletes a and b.
        File.WriteAllText(path, Yaml("b", "c", "d", "e"));
        var reload = http.PostAsync("/api/reload", null);
        var api = new[]
        {
            http.PostAsync("/api/streams", Json("c")),
            http.DeleteAsync("/api/streams/b"),
            http.PostAsync("/api/streams", Json("x")),
            http.DeleteAsync("/api/streams/a"),
        };
        var reloadResponse = await reload;
        var responses = await Task.WhenAll(api);

        // Whatever the order, each request ran whole before or after the reload: no errors, no stream half added.
        var body = System.Text.Json.JsonDocument.Parse(await reloadResponse.Content.ReadAsStringAsync()).RootElement;
        Assert.True(reloadResponse.IsSuccessStatusCode, body.ToString());
        Assert.Equal(0, body.GetProperty("errors").GetArrayLength());
        Assert.All(responses, r => Assert.True((int)r.StatusCode is 201 or 204 or 404 or 409, $"{r.RequestMessage?.Method} {r.RequestMessage?.RequestUri}: {(int)r.StatusCode}"));
        var ids = m.Streams.Select(s => s.Id).ToList();
        Assert.Subset(new HashSet<string> { "b", "c", "d", "e", "x" }, ids.ToHashSet());
        Assert.Superset(new HashSet<string> { "c", "d", "e" }, ids.ToHashSet());
        Assert.Empty(m.NotStarted);
        Assert.All(m.Streams, s => Assert.Equal(StreamStatus.Running, s.Status));
        // No stream runs outside the set: one sv_stream_up series per stream, each 1.
        Assert.True(Poll.Until(() => m.Streams.All(s => s.Stats.Frames > 0), TimeSpan.FromSeconds(20)), "streams did not run");
        var metrics = await http.GetStringAsync("/metrics");
        var up = System.Text.RegularExpressions.Regex.Matches(metrics, @"^sv_stream_up\{stream=""([^""]+)""\} (\d)", System.Text.RegularExpressions.RegexOptions.Multiline)
            .ToDictionary(x => x.Groups[1].Value, x => x.Groups[2].Value);
        Assert.Equal(ids.Order(), up.Keys.Order());
        Assert.All(up.Values, v => Assert.Equal("1", v));

        await host.DisposeAsync();
        Assert.Equal(0, m.Pool.Outstanding);
        Assert.Equal(0, m.Resources.SinkPool.Outstanding);
    }
}
