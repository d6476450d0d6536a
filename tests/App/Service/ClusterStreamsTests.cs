using StreamVision.App.Config;
using StreamVision.App.Service;

namespace StreamVision.App.Tests.Service;

/// <summary>Stream definitions as the cluster stores them: the API's JSON, bound with the configuration file's rules.</summary>
public class ClusterStreamsTests
{
    [Fact]
    public void ABodyInJsonOrYamlBecomesCompactJsonThatBindsTheSame()
    {
        string yaml = """
            id: door
            uri: "rtsp://user:pass@10.0.0.5/stream1"
            mode: live
            max_fps: 12.5
            loop: false
            zones:
              - name: lobby
                polygon: [[0, 0], [100, 0], [100, 80]]
            ffmpeg_options: {probesize: "32"}
            """;
        string spec = StreamSpecs.Normalize(yaml);
        Assert.StartsWith("""{"id":"door","uri":"rtsp://user:pass@10.0.0.5/stream1","mode":"live","max_fps":12.5,"loop":false""", spec, StringComparison.Ordinal);
        Assert.Equal(spec, StreamSpecs.Normalize(spec));
        var fromYaml = ConfigLoader.LoadStream(yaml);
        var fromSpec = StreamSpecs.Parse(spec);
        Assert.Equal(fromYaml.Source with { FfmpegOptions = null }, fromSpec.Source with { FfmpegOptions = null });
        Assert.Equal("32", fromSpec.Source.FfmpegOptions!["probesize"]);
        Assert.Equal(fromYaml.Zones.Single().Polygon, fromSpec.Zones.Single().Polygon);
        Assert.Equal("rtsp://user:pass@10.0.0.5/stream1", StreamSpecs.UriOf(spec));
    }

    [Fact]
    public void TheConfigurationFilesStreamsAreDefinitionsWithTheirIds()
    {
        var seeds = StreamSpecs.FromConfigFile("""
            instance: a
            streams:
              - id: gate
                uri: lavfi:testsrc2=size=160x120:rate=10
                mode: live
              - uri: /media/clips/parking.mp4
            """);
        Assert.Equal(2, seeds.Count);
        Assert.Equal("gate", seeds[0].Id);
        Assert.Equal("""{"id":"gate","uri":"lavfi:testsrc2=size=160x120:rate=10","mode":"live"}""", seeds[0].Spec);
        Assert.Equal(ConfigLoader.LoadStream("uri: /media/clips/parking.mp4").Id, seeds[1].Id);
        Assert.Empty(StreamSpecs.FromConfigFile("instance: a\n"));
    }

    [Fact]
    public void ABodyThatIsNoMappingIsRefused()
    {
        Assert.Throws<ConfigException>(() => StreamSpecs.Normalize("[1, 2]"));
        Assert.Throws<ConfigException>(() => StreamSpecs.Normalize("{unclosed"));
        Assert.Equal("", StreamSpecs.UriOf("not json"));
    }
}
