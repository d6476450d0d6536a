using StreamVision.App.Config;
using StreamVision.Inference.Enhance;

namespace StreamVision.App.Tests.Config;

public partial class ConfigLoaderTests
{
    [Fact]
    public void EnhancementIsOffUnlessAskedAndAStreamMayReplaceTheInstancesChoice()
    {
        var empty = new Dictionary<string, string>();
        var none = ConfigLoader.LoadText("", "d.yaml", empty);
        Assert.False(none.Enhance.Enabled);
        Assert.Equal(EnhanceOptions.DefaultModel, none.Enhance.Model);
        const string yaml = """
            enhance:
              enabled: true
              apply: detect
              max_side: 640
            streams:
              - id: a
                uri: lavfi:testsrc2
              - id: night
                uri: lavfi:testsrc2
                enhance: {enabled: true, model: my-denoiser.onnx, apply: output}
            """;
        var c = ConfigLoader.LoadText(yaml, "e.yaml", empty);
        Assert.True(c.Enhance.Enabled);
        Assert.Equal(EnhanceTarget.Detect, c.Enhance.Apply);
        Assert.Equal(640, c.Enhance.MaxSide);
        Assert.Null(c.Streams[0].Enhance);
        Assert.Equal("my-denoiser.onnx", c.Streams[1].Enhance!.Model);
        Assert.Equal(EnhanceTarget.Output, c.Streams[1].Enhance!.Apply);

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(
            "streams:\n  - id: a\n    uri: lavfi:testsrc2\n    enhance: {enabled: true, max_side: 4}\n", "b.yaml", empty));
        Assert.Contains("streams[0].enhance.max_side", ex.Message);
    }
}
