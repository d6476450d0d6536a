using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StreamVision.Ingest.Tests.Support;

namespace StreamVision.Ingest.Tests;

/// <summary>HTTP (HLS and MPEG-TS), UDP and SRT sources, fed by an in-process HTTP server and the ffmpeg CLI on loopback.</summary>
public class VideoSourceNetworkTests
{
    [Fact]
    public async Task ReadsAnHlsPlaylistOverHttp()
    {
        string dir = TestEnvironment.NewTempDir("hls");
        TestEnvironment.Ffmpeg($"-i \"{TestMedia.H264(160, 120, 50)}\" -c copy -f hls -hls_time 0.4 -hls_list_size 0 -hls_playlist_type vod \"{Path.Combine(dir, "index.m3u8")}\"");
        using var http = new StaticHttpServer(dir);
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = http.Url("index.m3u8"), Mode = SourceMode.File }, pool).Start();
        Assert.Equal(SourceKind.Hls, source.Resolved.Kind);
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(50, frames.Count);
        Assert.Equal(SourceState.Ended, source.State);
        for (int i = 1; i < frames.Count; i++) Assert.True(frames[i].Pts > frames[i - 1].Pts);
        Assert.True(http.Requests > 2, "playlist and segments were fetched");
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task ALiveMpegTsStreamOverHttpReconnectsWhenTheServerClosesIt()
    {
        string dir = TestEnvironment.NewTempDir("ts");
        TestEnvironment.Ffmpeg($"-i \"{TestMedia.H264(160, 120, 20)}\" -c copy -f mpegts \"{Path.Combine(dir, "live.ts")}\"");
        using var http = new StaticHttpServer(dir);
        var pool = Sources.NewPool();
        var options = new SourceOptions { Uri = http.Url("live.ts"), ReconnectInitialDelay = TimeSpan.FromMilliseconds(20), ChannelCapacity = 64 };
        await using var source = new VideoSource(options, pool).Start();
        Assert.True(source.IsLive);
        var frames = await Sources.TakeAsync(source, 45, TimeSpan.FromSeconds(15));
        Assert.True(source.Reconnects >= 2, "every end of the response is a reconnect");
        for (int i = 1; i < frames.Count; i++) Assert.True(frames[i].Pts > frames[i - 1].Pts);
        await source.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task ReceivesMpegTsOverUdp()
    {
        int port = FreeUdpPort();
        var pool = Sources.NewPool();
        var options = new SourceOptions { Uri = $"udp://127.0.0.1:{port}", OpenTimeout = TimeSpan.FromSeconds(10), DecoderThreads = 1 };
        await using var source = new VideoSource(options, pool).Start();
        Assert.Equal(SourceKind.Udp, source.Resolved.Kind);
        using var sender = StartFfmpeg($"-re -stream_loop -1 -i \"{Sources.CameraClip()}\" -c copy -f mpegts \"udp://127.0.0.1:{port}?pkt_size=1316\"");
        try
        {
            var frames = await Sources.TakeAsync(source, 10, TimeSpan.FromSeconds(15));
            Assert.All(frames, f => Assert.Equal((160, 120), (f.Width, f.Height)));
            Assert.Equal("mpegts", source.Info!.Format);
        }
        finally
        {
            sender.Kill();
            sender.WaitForExit(5000);
        }
        await source.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task PullsMpegTsOverSrtFromAListeningSender()
    {
        int port = FreeUdpPort();
        using var sender = StartFfmpeg($"-re -stream_loop -1 -i \"{Sources.CameraClip()}\" -c copy -f mpegts \"srt://127.0.0.1:{port}?mode=listener\"");
        var pool = Sources.NewPool();
        var options = new SourceOptions { Uri = $"srt://127.0.0.1:{port}?mode=caller", OpenTimeout = TimeSpan.FromSeconds(5), ReconnectInitialDelay = TimeSpan.FromMilliseconds(100), DecoderThreads = 1 };
        try
        {
            await using var source = new VideoSource(options, pool).Start();
            Assert.Equal(SourceKind.Srt, source.Resolved.Kind);
            var frames = await Sources.TakeAsync(source, 10, TimeSpan.FromSeconds(15));
            Assert.All(frames, f => Assert.Equal((160, 120), (f.Width, f.Height)));
        }
        finally
        {
            if (!sender.HasExited) sender.Kill();
            sender.WaitForExit(5000);
        }
        Assert.Equal(0, pool.Outstanding);
    }

    private static int FreeUdpPort()
    {
        using var probe = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.Client.LocalEndPoint!).Port;
    }

    private static Process StartFfmpeg(string args)
    {
        var psi = new ProcessStartInfo("ffmpeg", "-hide_banner -loglevel error -nostdin " + args) { UseShellExecute = false, RedirectStandardError = true };
        var p = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ffmpeg");
        _ = p.StandardError.ReadToEndAsync();
        return p;
    }

    /// <summary>Serves one folder on a loopback port (HttpListener), whole files, then closes the response.</summary>
    private sealed class StaticHttpServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly string _root;
        private readonly Task _loop;
        private int _requests;

        public StaticHttpServer(string root)
        {
            _root = root;
            Port = RtspServer.FreeTcpPort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            _listener.Start();
            _loop = Task.Run(ServeAsync);
        }

        public int Port { get; }
        public int Requests => Volatile.Read(ref _requests);

        public string Url(string file) => $"http://127.0.0.1:{Port}/{file}";

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try { ctx = await _listener.GetContextAsync(); }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
                Interlocked.Increment(ref _requests);
                _ = Task.Run(async () =>
                {
                    try
                    {
                        string path = Path.Combine(_root, Path.GetFileName(ctx.Request.Url!.AbsolutePath));
                        if (!File.Exists(path))
                        {
                            ctx.Response.StatusCode = 404;
                        }
                        else
                        {
                            byte[] body = await File.ReadAllBytesAsync(path);
                            ctx.Response.ContentType = path.EndsWith(".m3u8", StringComparison.Ordinal) ? "application/vnd.apple.mpegurl" : "video/mp2t";
                            ctx.Response.ContentLength64 = body.Length;
                            await ctx.Response.OutputStream.WriteAsync(body);
                        }
                        ctx.Response.Close();
                    }
                    catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                    {
                        // The client went away.
                    }
                });
            }
        }

        public void Dispose()
        {
            // Close alone: Stop then Close makes the managed HttpListener re-bind the port to remove its prefixes again,
            // which fails ("Address already in use") when another test has taken the port meanwhile.
            _listener.Close();
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
    }
}
