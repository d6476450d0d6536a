using StreamVision.App.Config;

namespace StreamVision.App.Tests.Config;

public partial class ConfigLoaderTests
{
    [Fact]
    public void CameraTamperIsOffUnlessAskedAndAStreamMayReplaceTheInstancesChoice()
    {
        var empty = new Dictionary<string, string>();
        Assert.False(ConfigLoader.LoadText("", "d.yaml", empty).Tamper.Enabled);
        const string yaml = """
            tamper:
              enabled: true
              threshold: 0.7
            streams:
              - id: a
                uri: lavfi:testsrc2
              - id: ptz
                uri: lavfi:testsrc2
                tamper: {enabled: true, states: [covered, frozen], confirm_samples: 3}
            """;
        var c = ConfigLoader.LoadText(yaml, "t.yaml", empty);
        Assert.True(c.Tamper.Enabled);
        Assert.Equal(0.7, c.Tamper.Threshold);
        Assert.Null(c.Streams[0].Tamper);
        Assert.Equal(["covered", "frozen"], c.Streams[1].Tamper!.States);
        Assert.Equal(3, c.Streams[1].Tamper!.ConfirmSamples);

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(
            "streams:\n  - id: a\n    uri: lavfi:testsrc2\n    tamper: {enabled: true, states: [smudged]}\n", "b.yaml", empty));
        Assert.Contains("streams[0].tamper.states", ex.Message);
        Assert.Contains("smudged", ex.Message);
    }
}
