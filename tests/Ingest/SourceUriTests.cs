namespace StreamVision.Ingest.Tests;

public class SourceUriTests
{
    [Theory]
    [InlineData("/data/clip.mp4", "/data/clip.mp4", null, SourceKind.File, false)]
    [InlineData("clip.mkv", "clip.mkv", null, SourceKind.File, false)]
    [InlineData("file:///data/my%20clip.mp4", "/data/my clip.mp4", null, SourceKind.File, false)]
    [InlineData("rtsp://10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1", null, SourceKind.Rtsp, true)]
    [InlineData("http://cam.local/live.ts", "http://cam.local/live.ts", null, SourceKind.Http, true)]
    [InlineData("https://cdn.example/video.mp4?sig=1", "https://cdn.example/video.mp4?sig=1", null, SourceKind.Http, false)]
    [InlineData("https://cdn.example/live/index.m3u8", "https://cdn.example/live/index.m3u8", null, SourceKind.Hls, true)]
    [InlineData("udp://127.0.0.1:5000", "udp://127.0.0.1:5000", null, SourceKind.Udp, true)]
    [InlineData("srt://127.0.0.1:9000?mode=caller", "srt://127.0.0.1:9000?mode=caller", null, SourceKind.Srt, true)]
    [InlineData("rtmp://server/app/key", "rtmp://server/app/key", null, SourceKind.Rtmp, true)]
    [InlineData("/dev/video0", "/dev/video0", "v4l2", SourceKind.Device, true)]
    [InlineData("v4l2:///dev/video2", "/dev/video2", "v4l2", SourceKind.Device, true)]
    [InlineData("lavfi:testsrc2=size=64x48:rate=5", "testsrc2=size=64x48:rate=5", "lavfi", SourceKind.TestPattern, true)]
    [InlineData("testsrc", SourceUri.DefaultTestPattern, "lavfi", SourceKind.TestPattern, true)]
    public void ResolvesWhatUsersType(string uri, string url, string? format, SourceKind kind, bool live)
    {
        var r = SourceUri.Resolve(uri);
        Assert.Equal(new ResolvedSource(url, format, kind, live), r);
    }

    [Fact]
    public void AnExplicitFormatWins()
    {
        var r = SourceUri.Resolve("/tmp/feed", "mpegts");
        Assert.Equal("/tmp/feed", r.Url);
        Assert.Equal("mpegts", r.Format);
    }

    [Theory]
    [InlineData("/data/Front Door.mp4", "Front_Door")]
    [InlineData("rtsp://admin:secret@10.0.0.5:554/Streaming/Channels/101", "10.0.0.5_554_Streaming_Channels_101")]
    [InlineData("/dev/video0", "video0")]
    [InlineData("testsrc", "testsrc2")]
    public void DerivesStableStreamIdsWithoutCredentials(string uri, string id) => Assert.Equal(id, SourceUri.DeriveStreamId(uri));

    [Theory]
    [InlineData("rtsp://admin:secret@10.0.0.5:554/s", "rtsp://admin:***@10.0.0.5:554/s")]
    [InlineData("rtsp://admin@10.0.0.5/s", "rtsp://admin@10.0.0.5/s")]
    [InlineData("http://host/path?a=b@c", "http://host/path?a=b@c")]
    [InlineData("/data/clip.mp4", "/data/clip.mp4")]
    public void RedactsPasswords(string url, string redacted) => Assert.Equal(redacted, SourceUri.Redact(url));
}
