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

        var (added, removed, restarted) = await m.ReloadAsync(Config(("keep", pattern), ("change", "lavfi:smptebars=size=160x120:rate=20"), ("new", pattern)));

        Assert.Equal((1, 1, 1), (added, removed, restarted));
        Assert.Equal(["change", "keep", "new"], m.Streams.Select(s => s.Id));
        Assert.True(m.TryGet("keep", out var keptAfter));
        Assert.Same(keep, keptAfter); // untouched: the same running host
        Assert.Equal(StreamStatus.Running, keptAfter.Status);
        Assert.True(m.TryGet("change", out var changed));
        Assert.Contains("smptebars", changed.Config.Source.Uri);
        Assert.True(Poll.Until(() => m.Streams.All(s => s.Stats.Frames > 3), TimeSpan.FromSeconds(20)), "restarted and new streams did not run");
    }
}
