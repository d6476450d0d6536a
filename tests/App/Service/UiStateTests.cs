using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Service;

namespace StreamVision.App.Tests.Service;

public class UiStateTests
{
    private static SvConfig Config() => ConfigLoader.LoadText("""
        detector:
          model: none
        streams:
          - id: a
            uri: lavfi:testsrc2
          - id: b
            uri: lavfi:smptebars
        """, "state.yaml", new Dictionary<string, string>());

    [Fact]
    public void ChangesAreKeptInTheFileAndAppliedOverTheConfiguration()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "sub", "state.json");
        var state = new UiState(path, NullLogger.Instance);
        state.StreamSaved("c", """{"id": "c", "uri": "lavfi:testsrc2", "mode": "live"}""");
        state.StreamSaved("b", """{"id": "b", "uri": "lavfi:rgbtestsrc"}""");
        state.StreamRemoved("a");
        var (zones, lines) = UiState.BindRegions(Config().Streams[1], """{"lines": [{"name": "gate", "units": "fraction", "points": [[0.5, 0], [0.5, 1]]}]}""", 1);
        Assert.Single(lines);
        state.RegionsSaved("b", """{"zones": [], "lines": [{"name": "gate", "units": "fraction", "points": [[0.5, 0], [0.5, 1]]}]}""");

        var applied = new UiState(path, NullLogger.Instance).Apply(Config());
        Assert.Equal(new[] { "b", "c" }, applied.Streams.Select(s => s.Id));
        var b = applied.Streams[0];
        Assert.Equal("lavfi:rgbtestsrc", b.Source.Uri);
        Assert.Equal("gate", Assert.Single(b.Lines).Name);
        Assert.Equal(StreamVision.Ingest.SourceMode.Live, applied.Streams[1].Source.Mode);
        Assert.Empty(zones);
    }

    [Fact]
    public void BadRegionsAreRefusedWithTheConfigurationsKeyPaths()
    {
        var stream = Config().Streams[0];
        var ex = Assert.Throws<ConfigException>(() => UiState.BindRegions(stream, """{"zones": [{"name": "z", "polygon": [[0, 0], [1, 1]]}]}""", 3));
        Assert.Contains(ex.Errors, e => e.Path == "streams[3].zones[0].polygon");
        ex = Assert.Throws<ConfigException>(() => UiState.BindRegions(stream, """{"lines": [{"name": "", "points": [[0, 0], [1, 1]]}]}""", 0));
        Assert.Contains(ex.Errors, e => e.Path.StartsWith("streams[0].lines[0]", StringComparison.Ordinal));
        ex = Assert.Throws<ConfigException>(() => UiState.BindRegions(stream, """{"areas": []}""", 0));
        Assert.Contains("only zones and lines", ex.Errors[0].Message);
        ex = Assert.Throws<ConfigException>(() => UiState.BindRegions(stream, "[1, 2", 0));
        Assert.Contains("not valid JSON", ex.Errors[0].Message);
    }

    [Fact]
    public void AnUnreadableStateFileIsNamedAndAnEntryThatNoLongerBindsIsSkipped()
    {
        string dir = TestEnvironment.NewTempDir();
        string bad = Path.Combine(dir, "bad.json");
        File.WriteAllText(bad, "{ not json");
        var ex = Assert.Throws<ConfigException>(() => new UiState(bad, NullLogger.Instance));
        Assert.Contains("bad.json", ex.Message);

        string path = Path.Combine(dir, "state.json");
        new UiState(path, NullLogger.Instance).StreamSaved("x", """{"id": "x", "uri": "lavfi:testsrc2", "max_fps": -3}""");
        var applied = new UiState(path, NullLogger.Instance).Apply(Config());
        Assert.Equal(new[] { "a", "b" }, applied.Streams.Select(s => s.Id));
    }
}
