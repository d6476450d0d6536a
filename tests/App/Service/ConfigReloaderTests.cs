using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.App.Service;

namespace StreamVision.App.Tests.Service;

public class ConfigReloaderTests
{
    private static string Yaml(params string[] ids) => "http:\n  listen: \"\"\ndetector:\n  model: none\nsinks:\n  preview: false\nstreams:\n" +
        string.Concat(ids.Select(id => $"  - id: {id}\n    uri: \"lavfi:testsrc2=size=160x120:rate=10\"\n    mode: live\n"));

    [Fact]
    public async Task RequestsDuringAReloadFoldIntoOneMoreRunThatReadsTheFileAgain()
    {
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "c.yaml");
        File.WriteAllText(path, Yaml("a"));
        var logs = new CapturingLogger();
        await using var m = new StreamManager(ConfigLoader.LoadFile(path), logs);
        await m.StartAsync();
        // The first run is held in its apply step until every request is in: on a loaded machine the test's thread can
        // otherwise be preempted between requests long enough for whole runs to finish in between.
        var holdFirst = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reloader = new ConfigReloader(path, m, logs.CreateLogger("reload"), async cfg =>
        {
            await holdFirst.Task;
            return await m.ReloadAsync(cfg);
        });

        File.WriteAllText(path, Yaml("a", "b"));
        var first = reloader.RequestAsync();
        var more = Enumerable.Range(0, 5).Select(_ => reloader.RequestAsync()).ToList();
        holdFirst.SetResult();
        var reports = await Task.WhenAll(more.Append(first)).WaitAsync(TimeSpan.FromSeconds(60));
        await reloader.Idle;

        // At most two runs (the one asked first, and one for everything asked while it ran), never two at once.
        int runs = more.Append(first).Distinct().Count();
        Assert.InRange(runs, 1, 2);
        Assert.Equal(runs, logs.Entries.Count(e => e.Message.StartsWith("configuration reloaded", StringComparison.Ordinal)));
        Assert.All(reports, r => Assert.True(r.Ok, string.Join("; ", r.Errors)));
        Assert.Equal(["a", "b"], m.Streams.Select(s => s.Id));

        // A later request reads the file as it is then.
        File.WriteAllText(path, Yaml("b"));
        var last = await reloader.RequestAsync();
        Assert.Equal(1, last.Removed);
        Assert.Equal(["b"], m.Streams.Select(s => s.Id));
    }

    [Fact]
    public async Task AFileWithErrorsIsRefusedWithEveryErrorReportedAndTheStreamsUntouched()
    {
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "c.yaml");
        File.WriteAllText(path, Yaml("a"));
        var logs = new CapturingLogger();
        await using var m = new StreamManager(ConfigLoader.LoadFile(path), logs);
        await m.StartAsync();
        var reloader = new ConfigReloader(path, m, logs.CreateLogger("reload"));
        Assert.True(m.TryGet("a", out var a));

        File.WriteAllText(path, Yaml("a") + "  - id: b\n    max_fsp: 5\n    uri: \"lavfi:testsrc2\"\n  - id: c\n");
        var report = await reloader.RequestAsync();

        Assert.False(report.Applied);
        Assert.Equal(["streams[1].max_fsp", "streams[2].uri"], report.Errors.Select(e => e.Path).Order());
        var refused = Assert.Single(logs.At(LogLevel.Error), e => e.Message.StartsWith($"reload of {path} refused", StringComparison.Ordinal));
        Assert.Contains("2 error(s)", refused.Message);
        Assert.True(m.TryGet("a", out var still) && ReferenceEquals(a, still));
        Assert.Equal(["a"], m.Streams.Select(s => s.Id));

        File.Delete(path);
        var missing = await reloader.RequestAsync();
        Assert.False(missing.Applied);
        Assert.Single(missing.Errors);
    }
}
