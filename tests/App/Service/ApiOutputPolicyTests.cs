using StreamVision.App.Config;
using StreamVision.App.Service;
using StreamVision.Core;

namespace StreamVision.App.Tests.Service;

/// <summary>Where a stream added through the API may write and send: on real folders, files and symbolic links.</summary>
public class ApiOutputPolicyTests
{
    private static (ApiOutputPolicy Policy, string Root, string Outside) NewPolicy(params string[] allowedTargets)
    {
        string dir = TestEnvironment.NewTempDir("svpolicy");
        string outside = Path.Combine(dir, "outside");
        Directory.CreateDirectory(outside);
        var policy = new ApiOutputPolicy(new HttpConfig { OutputRoot = "root", AllowedTargets = allowedTargets }, "inst", dir);
        return (policy, Path.Combine(dir, "root"), outside);
    }

    private static StreamConfig Stream(string json) => ConfigLoader.LoadStream(System.Text.Json.JsonDocument.Parse(json).RootElement);

    private static OptionsException Refused(ApiOutputPolicy policy, string json) =>
        Assert.Throws<OptionsException>(() => policy.Confine(Stream(json)));

    [Fact]
    public void RelativePathsLandUnderTheRootAndSingleFilesAreCreatedNew()
    {
        var (policy, root, _) = NewPolicy();
        var s = policy.Confine(Stream("""{"id": "cam", "uri": "testsrc", "sinks": {"tracks": "t/{stream}.txt", "events": "{instance}/{stream}.jsonl", "snapshots": "snaps/{stream}"}}"""));
        Assert.Equal(Path.Combine(root, "t", "cam.txt"), s.Sinks!.Tracks);
        Assert.Equal(Path.Combine(root, "inst", "cam.jsonl"), s.Sinks.Events!.Path);
        Assert.Equal(Path.Combine(root, "snaps", "cam"), s.Sinks.Snapshots!.Directory);
        Assert.True(File.Exists(s.Sinks.Tracks));
        Assert.True(Directory.Exists(s.Sinks.Snapshots.Directory));
        // The same stream again (removed and re-added): the files are the service's own, so it may write them again.
        File.WriteAllText(s.Sinks.Tracks!, "1,1,0,0,1,1,1,-1,-1,-1\n");
        var again = policy.Confine(Stream("""{"id": "cam", "uri": "testsrc", "sinks": {"tracks": "t/{stream}.txt"}}"""));
        Assert.Equal(s.Sinks.Tracks, again.Sinks!.Tracks);
    }

    [Theory]
    [InlineData("""{"tracks": "/etc/passwd"}""", "sinks.tracks", "relative")]
    [InlineData("""{"tracks": "/proc/self/mem"}""", "sinks.tracks", "relative")]
    [InlineData("""{"tracks": "../escape.txt"}""", "sinks.tracks", "'..'")]
    [InlineData("""{"tracks": "a/../../escape.txt"}""", "sinks.tracks", "'..'")]
    [InlineData("""{"tracks": "~/x.txt"}""", "sinks.tracks", "relative")]
    [InlineData("""{"events": "file:///tmp/x.jsonl"}""", "sinks.events.path", "relative")]
    [InlineData("""{"video": {"path": "/tmp/x.mp4"}}""", "sinks.video.path", "relative")]
    [InlineData("""{"video": {"path": "x.mp4", "format": "tee"}}""", "sinks.video.format", "tee")]
    [InlineData("""{"video": {"path": "x.mp4", "extra_options": {"x264-params": "dump-yuv=/tmp/y"}}}""", "sinks.video.extra_options.x264-params", "cannot be given")]
    [InlineData("""{"video": {"path": "x.m3u8", "extra_options": {"hls_segment_filename": "/tmp/s%d.ts"}}}""", "sinks.video.extra_options.hls_segment_filename", "cannot be given")]
    [InlineData("""{"snapshots": "/var/tmp"}""", "sinks.snapshots.directory", "relative")]
    [InlineData("""{"webhook": {"url": "http://127.0.0.1:9/hook"}}""", "sinks.webhook.url", "http.allowed_targets")]
    [InlineData("""{"mqtt": {"host": "10.1.2.3"}}""", "sinks.mqtt.host", "http.allowed_targets")]
    [InlineData("""{"video": "rtsp://10.0.0.1/live"}""", "sinks.video.path", "http.allowed_targets")]
    [InlineData("""{"kafka": {"brokers": "10.1.2.3:9092"}}""", "sinks.kafka.brokers", "http.allowed_targets")]
    [InlineData("""{"kafka": {"brokers": "127.0.0.1:9092", "security_protocol": "ssl", "ca_file": "/etc/shadow"}}""", "sinks.kafka.ca_file", "cannot be given")]
    public void PathsOutsideTheRootAndUnlistedTargetsAreRefusedNamingTheKey(string sinks, string key, string why)
    {
        var (policy, root, _) = NewPolicy();
        var ex = Refused(policy, $$"""{"id": "cam", "uri": "testsrc", "sinks": {{sinks}}}""");
        Assert.Equal(key, ex.Path);
        Assert.Contains(why, ex.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(root));
    }

    [Fact]
    public void ASymbolicLinkLeadingOutOfTheRootIsRefused()
    {
        var (policy, root, outside) = NewPolicy();
        Directory.CreateSymbolicLink(Path.Combine(root, "link"), outside);
        Directory.CreateDirectory(Path.Combine(root, "inner"));
        Directory.CreateSymbolicLink(Path.Combine(root, "inner", "up"), "../../outside");
        File.CreateSymbolicLink(Path.Combine(root, "file-link.txt"), Path.Combine(outside, "target.txt"));

        Assert.Contains("symbolic link", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"tracks": "link/t.txt"}}""").Message);
        Assert.Contains("symbolic link", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"tracks": "inner/up/deeper/t.txt"}}""").Message);
        Assert.Contains("symbolic link", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"tracks": "file-link.txt"}}""").Message);
        Assert.Contains("symbolic link", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"snapshots": "link"}}""").Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        // A link that stays inside the root is fine.
        Directory.CreateSymbolicLink(Path.Combine(root, "alias"), Path.Combine(root, "inner"));
        var s = policy.Confine(Stream("""{"id": "c", "uri": "testsrc", "sinks": {"tracks": "alias/t.txt"}}"""));
        Assert.True(File.Exists(Path.Combine(root, "inner", "t.txt")), s.Sinks!.Tracks);
    }

    [Fact]
    public void AnExistingFileTheServiceDidNotCreateIsNeverOverwritten()
    {
        var (policy, root, _) = NewPolicy();
        string mine = Path.Combine(root, "operator.txt");
        File.WriteAllText(mine, "keep me");
        foreach (var (sinks, key) in new[]
        {
            ("""{"tracks": "operator.txt"}""", "sinks.tracks"),
            ("""{"events": "operator.txt"}""", "sinks.events.path"),
            ("""{"video": {"path": "operator.txt", "format": "mp4"}}""", "sinks.video.path"),
        })
        {
            var ex = Refused(policy, $$"""{"id": "c", "uri": "testsrc", "sinks": {{sinks}}}""");
            Assert.Equal(key, ex.Path);
            Assert.Contains("not created by this service", ex.Message);
        }
        // Files the sink would name itself: segments beside a foreign file of the same family, rotated event files.
        File.WriteAllText(Path.Combine(root, "cam-00003.mp4"), "x");
        Assert.Equal("sinks.video.path", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"video": {"path": "cam.mp4", "segment_seconds": 2}}}""").Path);
        File.WriteAllText(Path.Combine(root, "ev.jsonl.2"), "x");
        Assert.Equal("sinks.events.path", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"events": "ev.jsonl"}}""").Path);
        File.WriteAllText(Path.Combine(root, "live7.ts"), "x");
        Assert.Equal("sinks.video.path", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"video": "live.m3u8"}}""").Path);
        Directory.CreateDirectory(Path.Combine(root, "full"));
        File.WriteAllText(Path.Combine(root, "full", "a.jpg"), "x");
        Assert.Equal("sinks.snapshots.directory", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"snapshots": "full"}}""").Path);
        Assert.Equal("keep me", File.ReadAllText(mine));
        // A refused request leaves nothing behind, not even the outputs it named first.
        Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"tracks": "new.txt", "events": "operator.txt"}}""");
        Assert.False(File.Exists(Path.Combine(root, "new.txt")));
    }

    [Fact]
    public void NetworkTargetsPassOnlyUnderAnAllowedPrefix()
    {
        var (policy, _, _) = NewPolicy("http://127.0.0.1:8099/hooks/", "mqtt://127.0.0.1:1883", "kafka://127.0.0.1:9092");
        policy.Confine(Stream("""{"id": "c", "uri": "testsrc", "sinks": {"kafka": {"brokers": "127.0.0.1:9092"}}}"""));
        Assert.Equal("sinks.kafka.brokers", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"kafka": {"brokers": "127.0.0.1:9092,127.0.0.1:9093"}}}""").Path);
        policy.Confine(Stream("""{"id": "c", "uri": "testsrc", "sinks": {"webhook": {"url": "http://127.0.0.1:8099/hooks/a"}, "mqtt": {"host": "127.0.0.1", "port": 1883}}}"""));
        Assert.Equal("sinks.webhook.url", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"webhook": {"url": "http://127.0.0.1:8099/admin"}}}""").Path);
        Assert.Equal("sinks.webhook.url", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"webhook": {"url": "http://127.0.0.1:8100/hooks/a"}}}""").Path);
        Assert.Equal("sinks.webhook.url", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"webhook": {"url": "https://127.0.0.1:8099/hooks/a"}}}""").Path);
        Assert.Equal("sinks.mqtt.host", Refused(policy, """{"id": "c", "uri": "testsrc", "sinks": {"mqtt": {"host": "127.0.0.1", "port": 1884}}}""").Path);
    }

    [Fact]
    public void WhatAStreamInheritsFromTheInstanceIsTheOperatorsAndWhatItAddsIsChecked()
    {
        var (policy, root, outside) = NewPolicy();
        var instance = ConfigLoader.LoadText($$"""
            sinks:
              events: {{outside}}/{stream}.jsonl
              mqtt: {host: 10.9.9.9, port: 1883}
              webhook: {url: "http://10.9.9.9:8080/hook"}
              queue: 77
            """, "i.yaml", new Dictionary<string, string>()).Sinks;
        StreamConfig Inheriting(string json) => ConfigLoader.LoadStream(System.Text.Json.JsonDocument.Parse(json).RootElement, sinks: instance);

        // No sinks at all, or a key of its own: the operator's outputs (outside the root, brokers not on the allow-list) stay.
        foreach (var json in new[]
        {
            """{"id": "a", "uri": "testsrc"}""",
            """{"id": "b", "uri": "testsrc", "sinks": {"tracks": "{stream}.txt", "mqtt": {"qos": 0}}}""",
        })
        {
            var s = policy.Confine(Inheriting(json), instance);
            string id = s.Id;
            Assert.Equal($"{outside}/{{stream}}.jsonl", s.Sinks!.Events!.Path);
            Assert.Equal("10.9.9.9", s.Sinks.Mqtt!.Host);
            Assert.Equal("http://10.9.9.9:8080/hook", s.Sinks.Webhook!.Url);
            Assert.Equal(77, s.Sinks.QueueCapacity);
            Assert.Equal(id == "b" ? Path.Combine(root, "b.txt") : null, s.Sinks.Tracks);
        }
        Assert.Equal(0, policy.Confine(Inheriting("""{"id": "b2", "uri": "testsrc", "sinks": {"mqtt": {"qos": 0}}}"""), instance).Sinks!.Mqtt!.Qos);
        // What the request brings is checked as ever: another broker, another webhook, a path of its own outside the root.
        Assert.Equal("sinks.mqtt.host", Assert.Throws<OptionsException>(() => policy.Confine(Inheriting("""{"id": "c", "uri": "testsrc", "sinks": {"mqtt": {"host": "10.1.1.1"}}}"""), instance)).Path);
        Assert.Equal("sinks.webhook.url", Assert.Throws<OptionsException>(() => policy.Confine(Inheriting("""{"id": "c", "uri": "testsrc", "sinks": {"webhook": {"url": "http://10.9.9.9:8080/admin"}}}"""), instance)).Path);
        Assert.Equal("sinks.events.path", Assert.Throws<OptionsException>(() => policy.Confine(Inheriting("""{"id": "c", "uri": "testsrc", "sinks": {"events": "/tmp/e.jsonl"}}"""), instance)).Path);
        // Switched off by the request: off.
        Assert.Null(policy.Confine(Inheriting("""{"id": "d", "uri": "testsrc", "sinks": {"events": false, "mqtt": false, "webhook": false}}"""), instance).Sinks!.Events);

        // An instance file without {stream} would be every stream's file: an API stream must name its own or switch it off.
        var shared = instance with { Tracks = $"{outside}/all-tracks.txt" };
        var ex = Assert.Throws<OptionsException>(() => policy.Confine(ConfigLoader.LoadStream(System.Text.Json.JsonDocument.Parse("""{"id": "e", "uri": "testsrc"}""").RootElement, sinks: shared), shared));
        Assert.Equal("sinks.tracks", ex.Path);
        Assert.Contains("{stream}", ex.Message);
        Assert.False(File.Exists(Path.Combine(outside, "all-tracks.txt")));
    }

    [Theory]
    [InlineData("lavfi:testsrc2=size=160x120:rate=25")]
    [InlineData("lavfi:smptebars=size=320x240:rate=15,realtime")]
    [InlineData("testsrc")]
    [InlineData("lavfi:color=c=gray:s=160x120:r=10[bg];color=c=white:s=20x20:r=10[fg];[bg][fg]overlay=x='mod(t*40,140)':y=50")]
    [InlineData("lavfi:testsrc2=s=160x120,drawbox=x=10:y=10:w=20:h=20:color=red@0.5,realtime")]
    public void LavfiGeneratorsPass(string uri) => NewPolicy().Policy.Confine(Stream($$"""{"id": "c", "uri": "{{uri}}"}"""));

    [Theory]
    [InlineData("lavfi:testsrc2,vidstabdetect=result=/tmp/x.trf")]
    [InlineData("lavfi:testsrc2,signature=filename=x")]
    [InlineData("lavfi:movie=/etc/passwd")]
    [InlineData("lavfi:testsrc2;[0]psnr")]
    [InlineData("lavfi:life=f=passwd")]
    [InlineData("lavfi:testsrc2,drawtext=textfile=x")]
    [InlineData("lavfi:color=c=red[a];[a]movie@m=x.mp4")]
    [InlineData("lavfi:testsrc2,overlay=x='1,movie=x.mp4")]
    [InlineData("lavfi:testsrc2\\\\,movie=x")] // JSON for testsrc2\,movie=x: an escaped comma
    public void LavfiFiltersThatReachFilesAreRefused(string uri)
    {
        var ex = Refused(NewPolicy().Policy, $$"""{"id": "c", "uri": "{{uri}}"}""");
        Assert.Equal("uri", ex.Path);
    }

    [Theory]
    [InlineData("graph_file")]
    [InlineData("protocol_whitelist")]
    [InlineData("allowed_extensions")]
    public void SourceOptionsBeyondTheListAreRefused(string option)
    {
        var ex = Refused(NewPolicy().Policy, $$"""{"id": "c", "uri": "lavfi:testsrc2", "ffmpeg_options": {"{{option}}": "x"} }""");
        Assert.Equal($"ffmpeg_options.{option}", ex.Path);
        NewPolicy().Policy.Confine(Stream("""{"id": "c", "uri": "rtsp://10.0.0.1/live", "ffmpeg_options": {"rtsp_transport": "udp", "stimeout": "5000000"}}"""));
    }

    [Theory]
    [InlineData("..")]
    [InlineData(".hidden")]
    [InlineData("a/b")]
    public void StreamIdsThatAreNotSafeFileNamesAreRefused(string id)
    {
        var ex = Assert.Throws<ConfigException>(() => Stream($$"""{"id": "{{id}}", "uri": "testsrc"}"""));
        Assert.Contains(ex.Errors, e => e.Path.EndsWith("id", StringComparison.Ordinal));
    }
}
