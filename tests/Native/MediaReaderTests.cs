using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StreamVision.Core;

namespace StreamVision.Native.Tests;

public class MediaReaderTests
{
    [Theory]
    [InlineData("h264")]
    [InlineData("hevc")]
    public void DecodesEveryFrameAtTheRightSize(string codec)
    {
        string path = codec == "h264" ? TestMedia.H264(320, 240, 30) : TestMedia.Hevc(320, 240, 20);
        using var reader = MediaReader.Open(path);
        Assert.Equal(320, reader.Info.Width);
        Assert.Equal(240, reader.Info.Height);
        Assert.Equal(codec, reader.Info.Codec);
        Assert.Equal(25, reader.Info.Fps, 3);
        using var frame = Frame.CreateUnpooled(320, 240);
        int n = 0;
        TimeSpan? last = null;
        while (reader.TryReadFrame(frame, out var info))
        {
            Assert.Equal(320, info.SourceWidth);
            Assert.NotNull(info.Pts);
            if (last is not null) Assert.True(info.Pts > last, "timestamps increase");
            last = info.Pts;
            n++;
        }
        Assert.Equal(codec == "h264" ? 30 : 20, n);
        Assert.False(reader.TryReadFrame(frame, out _), "end of stream stays ended");
    }

    [Fact]
    public void DecodedFrameEqualsFfmpegCliBgr24ByteForByte()
    {
        string path = TestMedia.H264(320, 240, 30);
        string raw = Path.Combine(TestEnvironment.NewTempDir(), "f.bgr");
        // Frame 7 (0-based) as raw BGR24 from the ffmpeg CLI.
        TestEnvironment.Ffmpeg($"-i \"{path}\" -vf \"select=eq(n\\,7)\" -frames:v 1 -pix_fmt bgr24 -f rawvideo \"{raw}\"");
        byte[] expected = File.ReadAllBytes(raw);
        Assert.Equal(320 * 240 * 3, expected.Length);

        using var reader = MediaReader.Open(path);
        using var frame = Frame.CreateUnpooled(320, 240);
        for (int i = 0; i <= 7; i++) Assert.True(reader.TryReadFrame(frame, out _));
        for (int y = 0; y < 240; y++)
        {
            var row = frame.GetRowSpan(y);
            Assert.True(row.SequenceEqual(expected.AsSpan(y * 960, 960)), $"row {y} differs");
        }
    }

    [Fact]
    public void ScalesIntoASmallerBuffer()
    {
        using var reader = MediaReader.Open(TestMedia.H264(320, 240, 30));
        using var frame = Frame.CreateUnpooled(160, 120);
        Assert.True(reader.TryReadFrame(frame, out var info));
        Assert.Equal(320, info.SourceWidth);
        Assert.Equal(240, info.SourceHeight);
    }

    [Fact]
    public void LavfiTestPatternOpensWithAFormat()
    {
        using var reader = MediaReader.Open("testsrc2=size=64x48:rate=10", new MediaReaderOptions { Format = "lavfi" });
        Assert.Equal(64, reader.Info.Width);
        using var frame = Frame.CreateUnpooled(64, 48);
        Assert.True(reader.TryReadFrame(frame, out _));
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        var ex = Assert.Throws<MediaException>(() => MediaReader.Open("/nonexistent/dir/clip.mp4"));
        Assert.Contains("/nonexistent/dir/clip.mp4", ex.Message);
        Assert.Equal(MediaErrorKind.NotFound, ex.Kind);
    }

    [Fact]
    public void TextFileRenamedMp4IsAClearError()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "notes.mp4");
        File.WriteAllText(path, "these are meeting notes, not a video\n");
        var ex = Assert.Throws<MediaException>(() => MediaReader.Open(path));
        Assert.Contains("notes.mp4", ex.Message);
    }

    [Fact]
    public void OpenFailureCarriesFfmpegsOwnReason()
    {
        // A y4m header claiming 30000x30000: FFmpeg refuses it with an unrelated errno (EBUSY) and says why only in
        // its log; the error names the real reason.
        string path = Path.Combine(Path.GetTempPath(), $"sv-huge-{Guid.NewGuid():N}.y4m");
        File.WriteAllBytes(path, [.. "YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n"u8, .. new byte[4096]]);
        try
        {
            var ex = Assert.Throws<MediaException>(() => MediaReader.Open(path));
            Assert.Contains(path, ex.Message);
            Assert.Contains("Picture size 30000x30000 is invalid", ex.Message);
            // The next failure on this thread does not inherit the message.
            var other = Assert.Throws<MediaException>(() => MediaReader.Open("/nonexistent/dir/clip.mp4"));
            Assert.DoesNotContain("Picture size", other.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FileWithoutVideoIsAClearError()
    {
        string path = TestMedia.Make("tone.wav", "-f lavfi -i sine=frequency=440:duration=0.2");
        var ex = Assert.Throws<MediaException>(() => MediaReader.Open(path));
        Assert.Equal(MediaErrorKind.NoVideoStream, ex.Kind);
        Assert.Contains("tone.wav", ex.Message);
    }

    [Theory]
    [InlineData("http")]
    [InlineData("rtsp")]
    public void SilentServerTimesOutWithinTheOpenTimeout(string scheme)
    {
        // A server that accepts the connection and never answers: without a deadline FFmpeg would wait forever.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepted = new List<Socket>();
        _ = Task.Run(async () =>
        {
            try { while (true) accepted.Add(await listener.AcceptSocketAsync()); }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        });
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        string url = $"{scheme}://127.0.0.1:{port}/camera";
        var sw = Stopwatch.StartNew();
        var ex = Assert.Throws<MediaException>(() => MediaReader.Open(url, new MediaReaderOptions { OpenTimeout = TimeSpan.FromSeconds(2) }));
        sw.Stop();
        Assert.Contains(url, ex.Message);
        Assert.Equal(MediaErrorKind.Timeout, ex.Kind);
        Assert.InRange(sw.Elapsed.TotalSeconds, 1.5, 6);
        foreach (var s in accepted) s.Dispose();
    }

    [Fact]
    public async Task InterruptFromAnotherThreadEndsReading()
    {
        using var reader = MediaReader.Open("testsrc2=size=64x48:rate=5", new MediaReaderOptions { Format = "lavfi" });
        using var frame = Frame.CreateUnpooled(64, 48);
        var loop = Task.Run(() =>
        {
            while (true) reader.TryReadFrame(frame, out _);
        });
        await Task.Delay(200);
        reader.Interrupt();
        var ex = await Assert.ThrowsAsync<MediaException>(() => loop.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal(MediaErrorKind.Interrupted, ex.Kind);
    }

    [Fact]
    public void UnknownOptionIsNamed()
    {
        var ex = Assert.Throws<MediaException>(() => MediaReader.Open(TestMedia.H264(),
            new MediaReaderOptions { Options = new Dictionary<string, string> { ["no_such_option"] = "1" } }));
        Assert.Contains("no_such_option", ex.Message);
    }

    [Fact]
    public void UnavailableHardwareDecodeFallsBackToSoftwareWithAReason()
    {
        using var reader = MediaReader.Open(TestMedia.H264(), new MediaReaderOptions { HwAccel = "cuda" });
        Assert.Contains("software", reader.HardwareStatus);
        using var frame = Frame.CreateUnpooled(320, 240);
        Assert.True(reader.TryReadFrame(frame, out _));
    }
    [Fact]
    public void GrabSkipsWithoutConvertingAndRetrieveConvertsTheKeptFrame()
    {
        string path = TestMedia.H264(320, 240, 30);
        using var full = MediaReader.Open(path);
        using var expected = Frame.CreateUnpooled(320, 240);
        for (int i = 0; i <= 7; i++) Assert.True(full.TryReadFrame(expected, out _));

        using var reader = MediaReader.Open(path);
        using var frame = Frame.CreateUnpooled(320, 240);
        Assert.Throws<MediaException>(() => reader.RetrieveFrame(frame));   // nothing grabbed yet
        DecodedFrameInfo info = default;
        for (int i = 0; i <= 7; i++) Assert.True(reader.TryGrabFrame(out info));
        Assert.Equal(TimeSpan.FromMilliseconds(7 * 40), info.Pts);
        reader.RetrieveFrame(frame);
        Assert.True(frame.Data.SequenceEqual(expected.Data), "retrieved frame 7 equals the one read in one step");
        int rest = 0;
        while (reader.TryGrabFrame(out _)) rest++;
        Assert.Equal(22, rest);
    }

    [Fact]
    public void RewindStartsAFileOver()
    {
        using var reader = MediaReader.Open(TestMedia.H264(320, 240, 30));
        using var frame = Frame.CreateUnpooled(320, 240);
        int n = 0;
        while (reader.TryReadFrame(frame, out _)) n++;
        reader.Rewind();
        var pts = new List<TimeSpan?>();
        while (reader.TryReadFrame(frame, out var info)) pts.Add(info.Pts);
        Assert.Equal(30, n);
        Assert.Equal(30, pts.Count);
        Assert.Equal(TimeSpan.Zero, pts[0]);
    }

    [Fact]
    public void RewindOfALiveInputIsAClearError()
    {
        using var reader = MediaReader.Open("testsrc2=size=64x48:rate=10", new MediaReaderOptions { Format = "lavfi" });
        var ex = Assert.Throws<MediaException>(reader.Rewind);
        Assert.Contains("not seekable", ex.Message);
    }

    [Fact]
    public void RotationMetadataIsAppliedLikeTheCli()
    {
        string plain = TestMedia.H264(64, 48, 5);
        string rotated = TestMedia.Make("rot90.mp4", $"-i \"{plain}\" -c copy -metadata:s:v:0 rotate=90");
        string raw = Path.Combine(TestEnvironment.NewTempDir(), "r.bgr");
        TestEnvironment.Ffmpeg($"-i \"{rotated}\" -frames:v 1 -pix_fmt bgr24 -f rawvideo \"{raw}\"");
        byte[] expected = File.ReadAllBytes(raw);

        using var reader = MediaReader.Open(rotated);
        // FFmpeg 5.1's mp4 muxer stores rotate=90 so that the CLI turns the picture with transpose=cclock: 270 clockwise.
        Assert.Equal(270, reader.Info.Rotation);
        Assert.Equal(48, reader.Info.Width);
        Assert.Equal(64, reader.Info.Height);
        using var frame = Frame.CreateUnpooled(48, 64);
        Assert.True(reader.TryReadFrame(frame, out var info));
        Assert.Equal((48, 64), (info.SourceWidth, info.SourceHeight));
        Assert.Equal(48 * 64 * 3, expected.Length);
        for (int y = 0; y < 64; y++)
            Assert.True(frame.GetRowSpan(y).SequenceEqual(expected.AsSpan(y * 48 * 3, 48 * 3)), $"row {y} differs from the CLI's autorotated output");
    }
    [Theory]
    [InlineData(180, 180)]
    [InlineData(270, 90)]
    public void OtherRotationsMatchTheCliToo(int metadata, int clockwise)
    {
        // The shim turns the picture itself (no image library): every angle byte for byte as the CLI's autorotate.
        string plain = TestMedia.H264(64, 48, 5);
        string rotated = TestMedia.Make($"rot{metadata}.mp4", $"-i \"{plain}\" -c copy -metadata:s:v:0 rotate={metadata}");
        string raw = Path.Combine(TestEnvironment.NewTempDir(), "r.bgr");
        TestEnvironment.Ffmpeg($"-i \"{rotated}\" -frames:v 1 -pix_fmt bgr24 -f rawvideo \"{raw}\"");
        byte[] expected = File.ReadAllBytes(raw);

        using var reader = MediaReader.Open(rotated);
        Assert.Equal(clockwise, reader.Info.Rotation);
        int w = clockwise == 180 ? 64 : 48, h = clockwise == 180 ? 48 : 64;
        Assert.Equal((w, h), (reader.Info.Width, reader.Info.Height));
        using var frame = Frame.CreateUnpooled(w, h);
        Assert.True(reader.TryReadFrame(frame, out _));
        Assert.Equal(w * h * 3, expected.Length);
        for (int y = 0; y < h; y++)
            Assert.True(frame.GetRowSpan(y).SequenceEqual(expected.AsSpan(y * w * 3, w * 3)), $"row {y} differs from the CLI's autorotated output");
    }

    [Fact]
    public async Task CancellingTheTokenEndsABlockingOpenPromptly()
    {
        // A server that accepts and never answers, a long open timeout: only the token can end the open early.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(16);
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource();
        var sw = Stopwatch.StartNew();
        var open = Task.Run(() => MediaReader.Open($"rtsp://127.0.0.1:{port}/camera",
            new MediaReaderOptions { OpenTimeout = TimeSpan.FromSeconds(30) }, cts.Token));
        await Task.Delay(300);
        Assert.False(open.IsCompleted);
        cts.Cancel();
        var ex = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => open.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), "the open ended long before its 30 s timeout");
        Assert.Equal(cts.Token, ex.CancellationToken);
    }
}
