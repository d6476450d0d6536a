using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StreamVision.Ingest.Tests.Support;
using StreamVision.Native;

namespace StreamVision.Ingest.Tests;

/// <summary>RTSP against a real server (gst-rtsp-server): TCP and UDP pulls, a crash and restart, a stall.</summary>
public class VideoSourceRtspTests
{
    private static SourceOptions Camera(string url, RtspTransport transport = RtspTransport.Tcp) => new()
    {
        Uri = url,
        RtspTransport = transport,
        OpenTimeout = TimeSpan.FromSeconds(3),
        ReadTimeout = TimeSpan.FromSeconds(1),
        ReconnectInitialDelay = TimeSpan.FromMilliseconds(100),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(400),
        DecoderThreads = 1,
    };

    [Theory]
    [InlineData(RtspTransport.Tcp)]
    [InlineData(RtspTransport.Udp)]
    public async Task PullsFramesFromARealServer(RtspTransport transport)
    {
        using var server = RtspServer.Start(Sources.CameraClip());
        var pool = Sources.NewPool();
        await using (var source = new VideoSource(Camera(server.Url, transport), pool).Start())
        {
            Assert.Equal(SourceKind.Rtsp, source.Resolved.Kind);
            var frames = await Sources.TakeAsync(source, 10, TimeSpan.FromSeconds(15));
            Assert.All(frames, f => Assert.Equal((160, 120), (f.Width, f.Height)));
            Assert.Equal($"127.0.0.1_{server.Port}_cam", frames[0].StreamId);
            for (int i = 1; i < frames.Count; i++) Assert.True(frames[i].Pts > frames[i - 1].Pts);
            Assert.Equal(SourceState.Streaming, source.State);
            Assert.Equal("rtsp", source.Info!.Format);
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task ReconnectsAfterTheServerIsKilledAndRestarted()
    {
        string clip = Sources.CameraClip();
        var server = RtspServer.Start(clip);
        int port = server.Port;
        var pool = Sources.NewPool();
        var log = new ListLogger();
        try
        {
            await using var source = new VideoSource(Camera(server.Url), pool, log).Start();
            var before = await Sources.TakeAsync(source, 5, TimeSpan.FromSeconds(60));
            long reconnectsBefore = source.Reconnects; // a loaded machine may already have dropped and redone the first connection
            long attemptsBefore = source.ReconnectAttempts;

            server.Kill();
            Assert.True(await Sources.WaitUntilAsync(() => source.State is SourceState.Backoff or SourceState.Connecting, TimeSpan.FromSeconds(60)),
                $"the source noticed the server is gone (state {source.State})");
            Assert.True(await Sources.WaitUntilAsync(() => source.ReconnectAttempts > attemptsBefore && source.State == SourceState.Backoff, TimeSpan.FromSeconds(60)),
                "an attempt against the dead server failed and the source backs off");
            Assert.Equal(reconnectsBefore, source.Reconnects);
            while (source.Frames.TryRead(out var stale)) stale.Dispose();

            server = RtspServer.Start(clip, port);
            var after = await Sources.TakeAsync(source, 5, TimeSpan.FromSeconds(60));
            Assert.True(source.Reconnects > reconnectsBefore);
            Assert.True(source.ReconnectAttempts >= attemptsBefore + 2);
            Assert.Equal(SourceState.Streaming, source.State);
            Assert.True(after[0].Pts > before[^1].Pts, "timestamps keep going forward across the reconnect");
            Assert.True(after[0].Sequence > before[^1].Sequence);
            Assert.True(log.Contains("reconnecting in"));
            Assert.True(log.Contains("reconnected to"));
        }
        finally
        {
            server.Dispose();
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AStalledServerFailsWithinTheReadTimeoutAndStopIsPrompt()
    {
        using var server = RtspServer.Start(Sources.CameraClip());
        var pool = Sources.NewPool();
        var options = Camera(server.Url) with { OpenTimeout = TimeSpan.FromSeconds(30), ReconnectInitialDelay = TimeSpan.FromMilliseconds(50) };
        var source = new VideoSource(options, pool).Start();
        try
        {
            await Sources.TakeAsync(source, 3, TimeSpan.FromSeconds(15));
            server.Pause();   // the connection stays up, nothing arrives
            var sw = Stopwatch.StartNew();
            Assert.True(await Sources.WaitUntilAsync(() => source.LastError is not null, TimeSpan.FromSeconds(10)));
            var stalled = sw.Elapsed;
            Assert.Equal(MediaErrorKind.Timeout, ((SourceException)source.LastError!).Kind);
            Assert.True(stalled < TimeSpan.FromSeconds(5), $"read timeout is 1 s; noticed after {stalled}");

            // The reconnect now hangs in an open that only its 30 s timeout would end: stopping must not wait for it.
            Assert.True(await Sources.WaitUntilAsync(() => source.State == SourceState.Connecting, TimeSpan.FromSeconds(5)));
            await Task.Delay(200);
            sw.Restart();
            await source.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(5), $"stop took {sw.Elapsed}");
            Assert.Equal(SourceState.Ended, source.State);
            Assert.True(source.Frames.Completion.IsCompletedSuccessfully);
        }
        finally
        {
            server.Resume();
            await source.DisposeAsync();
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AServerThatNeverAnswersIsRetriedWithBackoffAndStopEndsTheWait()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start(64);
        var accepted = new List<Socket>();
        var acceptLoop = Task.Run(async () =>
        {
            try { while (true) accepted.Add(await listener.AcceptSocketAsync()); }
            catch (SocketException) { }
            catch (ObjectDisposedException) { }
        });
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = Camera($"rtsp://user:pw@127.0.0.1:{port}/cam") with { OpenTimeout = TimeSpan.FromMilliseconds(500) };
        var log = new ListLogger();
        await using var source = new VideoSource(options, Sources.NewPool(), log).Start();
        Assert.True(await Sources.WaitUntilAsync(() => source.ReconnectAttempts >= 2, TimeSpan.FromSeconds(10)));
        var error = Assert.IsType<SourceException>(source.LastError);
        Assert.Equal(MediaErrorKind.Timeout, error.Kind);
        Assert.DoesNotContain("pw@", error.Message);
        Assert.Contains("user:***@127.0.0.1", error.Message);
        Assert.DoesNotContain(log.Lines, l => l.Message.Contains("pw@"));
        var sw = Stopwatch.StartNew();
        await source.StopAsync().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(3), $"stop took {sw.Elapsed}");
        listener.Stop();
        foreach (var s in accepted) s.Dispose();
    }
}
