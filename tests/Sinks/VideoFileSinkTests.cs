using System.Diagnostics;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>Segmented files, HLS and an RTSP push, read back with ffprobe (and received by a real ffmpeg for RTSP).</summary>
public class VideoFileSinkTests
{
    private static int CountFrames(string path) =>
        int.Parse(TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"").Trim().Split('\n')[0]);

    [Fact]
    public async Task SegmentsByDurationEachFileIsCompleteAndPlays()
    {
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        var sink = new VideoFileSink(new VideoSinkOptions { Path = Path.Combine(dir, "cam1.mp4"), Preset = "ultrafast", SegmentSeconds = 1 }, 25, pool);
        for (int i = 0; i < 90; i++) // 3.6 s at 25 fps (40 ms apart)
        {
            using var item = SinkTestData.Item(pool, i, [SinkTestData.Tracked(1, new Box(5, 5, 30, 30))], w: 96, h: 64);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();

        Assert.Equal(["cam1-00000.mp4", "cam1-00001.mp4", "cam1-00002.mp4", "cam1-00003.mp4"], sink.Outputs.Select(Path.GetFileName));
        Assert.Equal([25, 25, 25, 15], sink.Outputs.Select(CountFrames));
        Assert.Equal(90, sink.FramesWritten);
        // Each segment starts at time 0 with a key frame.
        foreach (var p in sink.Outputs)
        {
            var first = TestEnvironment.Ffprobe($"-select_streams v:0 -show_entries frame=pts_time,key_frame -read_intervals %+#1 -of csv=p=0 \"{p}\"").Trim().Split('\n')[0];
            Assert.StartsWith("1,0.0", first);
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DrawsOnTheFrameItselfOnlyWhenItHoldsTheLastReferenceAndTheVideoIsTheSameEitherWay()
    {
        // Sink A gets each frame with no other owner (draws in place); sink B's frames are also held by someone else (a
        // preview, the pipeline): it must draw on a copy and leave their pixels clean. Both files decode to the same pictures.
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        string a = Path.Combine(dir, "a.mkv"), b = Path.Combine(dir, "b.mkv");
        var inPlace = new VideoFileSink(new VideoSinkOptions { Path = a, Preset = "ultrafast" }, 25, pool);
        var copied = new VideoFileSink(new VideoSinkOptions { Path = b, Preset = "ultrafast" }, 25, pool);
        // Both sinks' frame i carry the same capture time (the header prints it to the second): items made "now" one after the
        // other fell on either side of a second on a loaded machine and differed in their header.
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        for (int i = 0; i < 20; i++)
        {
            var tracks = new[] { SinkTestData.Tracked(1, new Box(5 + i, 5, 40 + i, 40)) };
            using (var item = SinkTestData.Item(pool, i, tracks, w: 96, h: 64))
            {
                item.Frame.CaptureTime = start + TimeSpan.FromMilliseconds(40 * i);
                await inPlace.WriteAsync(item, CancellationToken.None);
            }
            using (var item = SinkTestData.Item(pool, i, tracks, w: 96, h: 64))
            using (var other = item.AddRef())
            {
                item.Frame.CaptureTime = start + TimeSpan.FromMilliseconds(40 * i);
                await copied.WriteAsync(item, CancellationToken.None);
                Assert.True(other.Frame.Data.IndexOfAnyExcept((byte)0) < 0, $"frame {i}: the other owner's picture was drawn on");
            }
        }
        await inPlace.DisposeAsync();
        await copied.DisposeAsync();
        Assert.Equal(20, inPlace.DrawnInPlace);
        Assert.Equal(0, copied.DrawnInPlace);
        string FrameHashes(string path) => TestEnvironment.Run("ffmpeg", $"-hide_banner -loglevel error -i \"{path}\" -map 0:v -f framemd5 -").Stdout;
        var ha = FrameHashes(a);
        Assert.Equal(20, ha.Split('\n').Count(l => l.Length > 0 && !l.StartsWith('#')));
        Assert.Equal(ha, FrameHashes(b));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task TimeTokenNamesSegmentsByTheirStart()
    {
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        var sink = new VideoFileSink(new VideoSinkOptions { Path = Path.Combine(dir, "cam1-{time}.mkv"), Preset = "ultrafast", SegmentSeconds = 1 }, 25, pool);
        var start = new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero);
        for (int i = 0; i < 50; i++)
        {
            using var item = SinkTestData.Item(pool, i, w: 64, h: 48);
            item.Frame.CaptureTime = start + TimeSpan.FromMilliseconds(40 * i);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.DisposeAsync(); // dispose alone finalises too
        Assert.Equal(["cam1-20260304T050607Z.mkv", "cam1-20260304T050608Z.mkv"], sink.Outputs.Select(Path.GetFileName));
        Assert.Equal([25, 25], sink.Outputs.Select(CountFrames));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task HlsWritesAPlaylistAndSegmentsThatFfprobeReads()
    {
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        string playlist = Path.Combine(dir, "live", "index.m3u8");
        var options = VideoSinkOptions.ForHls(playlist, segmentSeconds: 1, listSize: 0) with { Preset = "ultrafast" };
        var sink = new VideoFileSink(options, 25, pool);
        for (int i = 0; i < 75; i++)
        {
            using var item = SinkTestData.Item(pool, i, [SinkTestData.Tracked(1, new Box(5 + i, 5, 30 + i, 30))], w: 128, h: 96);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();

        var lines = File.ReadAllLines(playlist);
        Assert.Contains("#EXTM3U", lines);
        Assert.Contains("#EXT-X-ENDLIST", lines);
        var segments = lines.Where(l => l.EndsWith(".ts", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, segments.Count);
        Assert.All(lines.Where(l => l.StartsWith("#EXTINF:", StringComparison.Ordinal)), l => Assert.InRange(double.Parse(l[8..].TrimEnd(','), System.Globalization.CultureInfo.InvariantCulture), 0.9, 1.1));
        Assert.All(segments, s => Assert.True(File.Exists(Path.Combine(dir, "live", s))));
        Assert.Equal(75, CountFrames(playlist));
        Assert.Equal("h264,128,96", TestEnvironment.Ffprobe($"-select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 \"{playlist}\"").Trim().Split('\n')[0]);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task RtspPushReachesAListeningServerAfterRetrying()
    {
        // ffmpeg as an RTSP server that accepts one published stream (ANNOUNCE/RECORD) and records it.
        int port = MosquittoBroker.FreePort();
        string url = $"rtsp://127.0.0.1:{port}/live/cam1";
        string received = Path.Combine(TestEnvironment.NewTempDir(), "received.mkv");
        var pool = new FramePool();
        var sink = new VideoFileSink(VideoSinkOptions.ForRtspPush(url) with { ReconnectDelaySeconds = 0.1, IoTimeoutSeconds = 5 }, 25, pool);

        // Nobody listens yet: frames are dropped and counted, the sink keeps going.
        for (int i = 0; i < 3; i++)
        {
            using var item = SinkTestData.Item(pool, i, w: 160, h: 120);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        Assert.False(sink.IsOpen);
        Assert.Equal(3, sink.FramesDropped);

        var psi = new ProcessStartInfo("ffmpeg", $"-hide_banner -loglevel error -rtsp_flags listen -timeout 30 -i {url} -c copy -y \"{received}\"")
        { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        using var server = Process.Start(psi)!;
        var stderr = server.StandardError.ReadToEndAsync();
        try
        {
            long seq = 3;
            var sw = Stopwatch.StartNew();
            while (!sink.IsOpen && sw.Elapsed < TimeSpan.FromSeconds(15))
            {
                using var item = SinkTestData.Item(pool, seq++, w: 160, h: 120);
                await sink.WriteAsync(item, CancellationToken.None);
                if (!sink.IsOpen) await Task.Delay(50);
            }
            Assert.True(sink.IsOpen, "the sink reopened the output once the server listened");
            for (int i = 0; i < 50; i++)
            {
                using var item = SinkTestData.Item(pool, seq++, [SinkTestData.Tracked(1, new Box(10 + i, 10, 50 + i, 60))], w: 160, h: 120);
                await sink.WriteAsync(item, CancellationToken.None);
            }
            long written = sink.FramesWritten;
            await sink.CompleteAsync(CancellationToken.None); // TEARDOWN: the server finishes its file
            await sink.DisposeAsync();
            Assert.True(server.WaitForExit(20_000), "ffmpeg server did not finish");
            Assert.True(server.ExitCode == 0, await stderr);
            Assert.Equal("h264,160,120", TestEnvironment.Ffprobe($"-select_streams v:0 -show_entries stream=codec_name,width,height -of csv=p=0 \"{received}\"").Trim());
            Assert.InRange(CountFrames(received), 40, (int)written);
            Assert.Equal(0, pool.Outstanding);
        }
        finally
        {
            if (!server.HasExited) server.Kill();
        }
    }

    [Fact]
    public async Task ResolutionChangeMidStreamIsScaledToTheOutputSize()
    {
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "resize.mp4");
        var sink = new VideoFileSink(new VideoSinkOptions { Path = path, Preset = "ultrafast" }, 25, pool);
        for (int i = 0; i < 10; i++)
        {
            using var item = SinkTestData.Item(pool, i, w: i < 5 ? 96 : 193, h: i < 5 ? 64 : 131);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(10, CountFrames(path));
        Assert.Equal("96,64", TestEnvironment.Ffprobe($"-select_streams v:0 -show_entries stream=width,height -of csv=p=0 \"{path}\"").Trim());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void InvalidOptionsNameTheirKey()
    {
        Assert.Equal("sinks.video.crf", Assert.Throws<OptionsException>(() => new VideoSinkOptions { Path = "a.mp4", Crf = 60 }.Validate()).Path);
        Assert.Equal("sinks.video.segment_seconds",
            Assert.Throws<OptionsException>(() => new VideoSinkOptions { Path = "rtsp://h/x", SegmentSeconds = 5 }.Validate()).Path);
        Assert.Equal("sinks.video.segment_seconds",
            Assert.Throws<OptionsException>(() => (VideoSinkOptions.ForHls("x/index.m3u8") with { SegmentSeconds = 5 }).Validate()).Path);
        Assert.Throws<OptionsException>(() => VideoSinkOptions.ForRtspPush("http://x"));
        // A preset x264 does not have failed every open of the file at its first frame ("Invalid argument"): named up front.
        var preset = Assert.Throws<OptionsException>(() => new VideoSinkOptions { Path = "a.mp4", Preset = "fastest" }.Validate());
        Assert.Equal("sinks.video.preset", preset.Path);
        Assert.Contains("ultrafast, superfast, veryfast", preset.Message);
        Assert.Contains("'fastest'", preset.Message);
        new VideoSinkOptions { Path = "a.mp4", Preset = "medium" }.Validate();
    }
}
