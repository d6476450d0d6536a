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

    [Fact]
    public void TheApisMarkIsSetByTheApiAndIsNoStreamKey()
    {
        string spec = StreamSpecs.Normalize("""{"id": "cam", "uri": "testsrc", "added_through_api": false}""");
        Assert.False(StreamSpecs.IsFromApi(spec));
        // Whatever the body said, the API's mark is true; it binds as the stream without it.
        string marked = StreamSpecs.MarkFromApi(spec);
        Assert.True(StreamSpecs.IsFromApi(marked));
        Assert.Equal(1, marked.Split(StreamSpecs.ApiOriginKey).Length - 1);
        Assert.Equal("cam", StreamSpecs.Parse(marked).Id);
        Assert.False(StreamSpecs.IsFromApi("""{"id":"gate","uri":"testsrc"}"""));
        Assert.False(StreamSpecs.IsFromApi("not json added_through_api"));
    }

    [Fact]
    public async Task AnApiDefinitionIsConfinedByTheInstanceThatRunsItAndAFilesDefinitionIsNot()
    {
        string dir = TestEnvironment.NewTempDir();
        var config = ConfigLoader.LoadText($$"""
            instance: node
            http:
              listen: ""
              output_root: {{dir}}/root
            detector:
              model: none
            sinks:
              preview: false
              events: {{dir}}/events/{stream}.jsonl
            """, "c.yaml", new Dictionary<string, string>());
        await using var manager = new StreamManager(config, Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        await manager.StartAsync();
        var runner = new ClusterStreams(manager, new ApiOutputPolicy(config.Http, config.Instance));
        const string uri = "lavfi:testsrc2=size=160x120:rate=10";

        // Through the API: a path outside the root is refused here, naming the key; a relative one lands under the root.
        var refused = await Assert.ThrowsAsync<ConfigException>(() => runner.StartAsync("bad", StreamSpecs.MarkFromApi($$"""{"id":"bad","uri":"{{uri}}","mode":"live","sinks":{"tracks":"{{dir}}/t.txt"} }"""), default));
        Assert.Equal("sinks.tracks", refused.Errors.Single().Path);
        Assert.False(manager.TryGet("bad", out _));
        await runner.StartAsync("api", StreamSpecs.MarkFromApi($$"""{"id":"api","uri":"{{uri}}","mode":"live","sinks":{"tracks":"{stream}.txt"} }"""), default);
        Assert.True(manager.TryGet("api", out var api));
        Assert.Equal(Path.Combine(dir, "root", "api.txt"), api!.Config.Sinks!.Tracks);
        Assert.True(File.Exists(Path.Combine(dir, "root", "api.txt")));
        // Both start from the instance's sinks (the operator's events file outside the root).
        Assert.Equal($"{dir}/events/{{stream}}.jsonl", api.Config.Sinks.Events!.Path);

        // From a configuration file (no mark): the operator's, as written.
        await runner.StartAsync("file", $$"""{"id":"file","uri":"{{uri}}","mode":"live","sinks":{"tracks":"{{dir}}/file-tracks.txt"} }""", default);
        Assert.True(manager.TryGet("file", out var file));
        Assert.Equal($"{dir}/file-tracks.txt", file!.Config.Sinks!.Tracks);
        Assert.NotNull(file.Config.Sinks.Events);
    }
}
