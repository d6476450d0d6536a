using System.Net;
using System.Text;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>The preview served by a real HttpListener and read by HttpClient, parsed as multipart/x-mixed-replace.</summary>
public class MjpegPreviewSinkTests
{
    /// <summary>Reads one part: headers up to the blank line, then Content-Length bytes and the trailing CRLF.</summary>
    private static async Task<(Dictionary<string, string> Headers, byte[] Body)> ReadPartAsync(Stream s)
    {
        var line = new StringBuilder();
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? boundary = null;
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            if (b != '\n')
            {
                line.Append((char)b);
                continue;
            }
            string l = line.ToString().TrimEnd('\r');
            line.Clear();
            if (boundary is null)
            {
                if (l.Length == 0) continue;
                boundary = l;
                Assert.Equal("--" + MjpegPreviewSink.Boundary, boundary);
                continue;
            }
            if (l.Length == 0) break;
            int colon = l.IndexOf(':');
            headers[l[..colon].Trim()] = l[(colon + 1)..].Trim();
        }
        var body = new byte[int.Parse(headers["Content-Length"])];
        await s.ReadExactlyAsync(body);
        var crlf = new byte[2];
        await s.ReadExactlyAsync(crlf);
        Assert.Equal("\r\n"u8.ToArray(), crlf);
        return (headers, body);
    }

    [Fact]
    public async Task HttpClientReceivesAStreamOfValidScaledJpegs()
    {
        var pool = new FramePool();
        var sink = new MjpegPreviewSink(new MjpegPreviewOptions { MaxFps = 0, MaxWidth = 160, Annotator = new AnnotatorOptions { Header = false } }, pool);
        int port = MosquittoBroker.FreePort();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serve = Task.Run(async () =>
        {
            var ctx = await listener.GetContextAsync();
            ctx.Response.ContentType = MjpegPreviewSink.ContentType;
            ctx.Response.SendChunked = true;
            long parts = await sink.StreamAsync(ctx.Response.OutputStream, cts.Token);
            ctx.Response.Close();
            return parts;
        });
        // Frames keep coming while the client watches (a moving box so pictures differ).
        long seq = 0;
        var produce = Task.Run(async () =>
        {
            while (!cts.IsCancellationRequested)
            {
                using (var item = SinkTestData.Item(pool, seq, [SinkTestData.Tracked(1, new Box(20 + seq % 100, 40, 120 + seq % 100, 200))], w: 320, h: 240))
                    await sink.WriteAsync(item, CancellationToken.None);
                seq++;
                await Task.Delay(10);
            }
        });

        using var http = new HttpClient();
        using var response = await http.GetAsync($"http://127.0.0.1:{port}/", HttpCompletionOption.ResponseHeadersRead, cts.Token);
        Assert.Equal("multipart/x-mixed-replace", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(MjpegPreviewSink.Boundary, response.Content.Headers.ContentType.Parameters.Single(p => p.Name == "boundary").Value);
        await using var body = await response.Content.ReadAsStreamAsync(cts.Token);
        string dir = TestEnvironment.NewTempDir();
        var pictures = new List<byte[]>();
        for (int i = 0; i < 3; i++)
        {
            var (headers, jpeg) = await ReadPartAsync(body);
            Assert.Equal("image/jpeg", headers["Content-Type"]);
            Assert.Equal([0xFF, 0xD8], jpeg[..2]);
            Assert.Equal([0xFF, 0xD9], jpeg[^2..]);
            pictures.Add(jpeg);
        }
        Assert.Equal(1, sink.Viewers);
        for (int i = 0; i < pictures.Count; i++)
        {
            string path = Path.Combine(dir, $"p{i}.jpg");
            await File.WriteAllBytesAsync(path, pictures[i]);
            Assert.Equal("mjpeg,160,120", TestEnvironment.Ffprobe($"-show_entries stream=codec_name,width,height -of csv=p=0 \"{path}\"").Trim());
        }
        Assert.False(pictures[0].AsSpan().SequenceEqual(pictures[2]), "a new picture each time");

        // End of the stream: the server's StreamAsync returns by itself.
        cts.Cancel();
        await produce;
        await sink.CompleteAsync(CancellationToken.None);
        long parts = await serve;
        Assert.True(parts >= 3);
        Assert.Equal(0, sink.Viewers);
        Assert.True(sink.TryGetLatest(out var latest) && latest.Length > 100);
        await sink.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task WithoutViewersItEncodesAtTheIdleRateAndStreamEndsOnComplete()
    {
        var pool = new FramePool();
        var sink = new MjpegPreviewSink(new MjpegPreviewOptions { IdleFps = 0 }, pool);
        using (var item = SinkTestData.Item(pool, 0)) await sink.WriteAsync(item, CancellationToken.None);
        Assert.False(sink.TryGetLatest(out _)); // nobody watches and idle encoding is off

        var idle = new MjpegPreviewSink(new MjpegPreviewOptions { IdleFps = 0.001 }, pool);
        for (int i = 0; i < 5; i++)
        {
            using var item = SinkTestData.Item(pool, i);
            await idle.WriteAsync(item, CancellationToken.None);
        }
        Assert.Equal(1, idle.Version); // the first, then nothing until the idle interval passed
        await idle.CompleteAsync(CancellationToken.None);
        using var output = new MemoryStream();
        Assert.Equal(1, await idle.StreamAsync(output, CancellationToken.None)); // the last picture, then the end
        Assert.StartsWith("--svframe\r\nContent-Type: image/jpeg\r\n", Encoding.ASCII.GetString(output.ToArray(), 0, 40));
        Assert.Equal(0, pool.Outstanding);
    }
}
