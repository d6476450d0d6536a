using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>Against real HTTP servers on loopback: an HttpListener that answers as told, and a socket that never answers.</summary>
public class WebhookEventSinkTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    /// <summary>An HttpListener on a free loopback port; <paramref name="status"/> picks the answer to the n-th request (1-based).</summary>
    private sealed class Server : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;
        private readonly Func<int, int> _status;
        private int _requests;

        public Server(Func<int, int> status)
        {
            _status = status;
            Port = MosquittoBroker.FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/hook/");
            _listener.Start();
            _loop = Task.Run(LoopAsync);
        }

        public int Port { get; }
        public string Url => $"http://127.0.0.1:{Port}/hook/";
        public List<(int Status, string ContentType, string Schema, string Body)> Seen { get; } = new();

        private async Task LoopAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext ctx;
                try
                {
                    ctx = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }
                catch (HttpListenerException)
                {
                    return;
                }
                using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
                string body = await reader.ReadToEndAsync();
                int status = _status(Interlocked.Increment(ref _requests));
                lock (Seen) Seen.Add((status, ctx.Request.ContentType ?? "", ctx.Request.Headers["X-StreamVision-Schema"] ?? "", body));
                ctx.Response.StatusCode = status;
                ctx.Response.Close();
            }
        }

        public List<(int Status, string ContentType, string Schema, string Body)> Snapshot()
        {
            lock (Seen) return Seen.ToList();
        }

        public void Dispose()
        {
            // Close alone: Stop then Close makes the managed HttpListener re-bind the port to remove its prefixes again,
            // which fails ("Address already in use") when another test has taken the port meanwhile.
            _listener.Close();
            try { _loop.Wait(5000); } catch (AggregateException) { }
        }
    }

    private static AnalyticsEvent Event(long frame) => new()
    {
        Type = EventTypes.ZoneEnter, StreamId = "cam1", Time = DateTimeOffset.UtcNow, Pts = TimeSpan.FromMilliseconds(40 * frame),
        FrameSequence = frame, TrackId = 7, Region = "lobby",
    };

    private static WebhookOptions Options(string url) => new()
    {
        Url = url, InstanceId = "node-a", InitialBackoffSeconds = 0.02, MaxBackoffSeconds = 0.1, RequestTimeoutSeconds = 5, DrainTimeoutSeconds = 10,
    };

    [Fact]
    public async Task FailedRequestsAreRetriedWithBackoffUntilTheServerTakesThem()
    {
        using var server = new Server(n => n <= 2 ? 500 : 200);
        var pool = new FramePool();
        var sink = new WebhookEventSink(Options(server.Url), "cam1");
        for (int i = 0; i < 3; i++)
        {
            using var item = SinkTestData.Item(pool, i, events: [Event(i)]);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();

        var seen = server.Snapshot();
        Assert.Equal([500, 500, 200, 200, 200], seen.Select(s => s.Status));
        // The first event was posted three times (two failures, then accepted); then the other two once each.
        var frames = seen.Select(s => JsonDocument.Parse(s.Body).RootElement.GetProperty("frame").GetInt64()).ToList();
        Assert.Equal([0L, 0L, 0L, 1L, 2L], frames);
        Assert.All(seen, s => Assert.StartsWith("application/json", s.ContentType));
        Assert.All(seen, s => Assert.Equal("streamvision.event/1", s.Schema));
        Assert.Equal(3, sink.Sent);
        Assert.Equal(2, sink.Retries);
        Assert.Equal(5, sink.Requests);
        Assert.Equal(0, sink.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AnOutageEndsInDeliveryOrACountedDropAndTheStateSaysBufferingMeanwhile()
    {
        bool down = true;
        using var server = new Server(_ => Volatile.Read(ref down) ? 503 : 200);
        var pool = new FramePool();
        var sink = new WebhookEventSink(Options(server.Url) with { BufferCapacity = 5, MaxAttempts = 100, MaxBackoffSeconds = 0.5 }, "cam1");
        const int Produced = 30;
        for (int i = 0; i < Produced; i++)
        {
            using var item = SinkTestData.Item(pool, i, events: [Event(i)]);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        Assert.True(Poll.Until(() => sink.Health.State == SinkState.Buffering, TimeSpan.FromSeconds(10)), sink.Health.ToString());
        Assert.Contains("HTTP 503", sink.Health.Reason, StringComparison.Ordinal);
        Assert.True(sink.DroppedOverflow > 0, "the bound is small enough that the outage drops too");
        Volatile.Write(ref down, false); // the server is back
        Assert.True(Poll.Until(() => sink.Health.State == SinkState.Connected && sink.Buffered == 0, TimeSpan.FromSeconds(20)), sink.Health.ToString());
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        // Produced = delivered + counted drops; what was delivered is what the server accepted, in order.
        Assert.Equal(Produced, sink.Sent + sink.Dropped);
        Assert.Equal(sink.DroppedOverflow, sink.Dropped);
        var accepted = server.Snapshot().Where(s => s.Status == 200).Select(s => JsonDocument.Parse(s.Body).RootElement.GetProperty("frame").GetInt64()).ToList();
        Assert.Equal(sink.Sent, accepted.Count);
        Assert.Equal(accepted.OrderBy(f => f), accepted);
        Assert.Equal(Produced - 1, accepted[^1]); // the newest events are the ones kept
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task BatchesArePostedAsJsonArrays()
    {
        using var server = new Server(_ => 204);
        var pool = new FramePool();
        var sink = new WebhookEventSink(Options(server.Url) with { MaxBatch = 10 }, "cam1");
        using (var item = SinkTestData.Item(pool, 0, events: Enumerable.Range(0, 25).Select(i => Event(i)).ToList()))
            await sink.WriteAsync(item, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        var bodies = server.Snapshot().Select(s => JsonDocument.Parse(s.Body).RootElement).ToList();
        Assert.All(bodies, b => Assert.Equal(JsonValueKind.Array, b.ValueKind));
        Assert.All(bodies, b => Assert.InRange(b.GetArrayLength(), 1, 10));
        Assert.Equal(Enumerable.Range(0, 25).Select(i => (long)i), bodies.SelectMany(b => b.EnumerateArray()).Select(e => e.GetProperty("frame").GetInt64()));
        Assert.Equal(25, sink.Sent);
    }

    [Fact]
    public async Task ClientErrorsAreNotRetried()
    {
        using var server = new Server(_ => 400);
        var pool = new FramePool();
        var sink = new WebhookEventSink(Options(server.Url), "cam1");
        using (var item = SinkTestData.Item(pool, 0, events: [Event(0)])) await sink.WriteAsync(item, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Single(server.Snapshot());
        Assert.Equal(1, sink.DroppedRejected);
        Assert.Equal(0, sink.Retries);
    }

    [Fact]
    public async Task ServerThatNeverAnswersNeverBlocksThePipelineAndEveryEventIsAccountedFor()
    {
        // Accepts connections and never says a word.
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        var accept = Task.Run(async () =>
        {
            try
            {
                while (true) held.Add(await silent.AcceptSocketAsync());
            }
            catch (Exception) { }
        });
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        var pool = new FramePool();
        var sink = new WebhookEventSink(Options($"http://127.0.0.1:{port}/hook") with
        {
            BufferCapacity = 5, RequestTimeoutSeconds = 0.3, MaxAttempts = 2, DrainTimeoutSeconds = 0.2,
        }, "cam1");
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, Capacity = 2 });
        try
        {
            for (int i = 0; i < 50; i++)
            {
                // The sink only queues: every write is complete when it returns.
                using var item = SinkTestData.Item(pool, i, events: [Event(i)]);
                var write = sink.WriteAsync(item, CancellationToken.None);
                Assert.True(write.IsCompletedSuccessfully);
            }
            // Behind a lossless (Wait) runner too, the pipeline is never held up.
            for (int i = 50; i < 100; i++) await runner.EnqueueAsync(SinkTestData.Item(pool, i, events: [Event(i)]), CancellationToken.None);
            await runner.CompleteAsync();
            await runner.DisposeAsync();
            Assert.Equal(0, runner.Dropped);
            Assert.Equal(50, runner.Written);
            Assert.Equal(0, sink.Sent);
            Assert.True(sink.DroppedOverflow >= 90, $"overflow {sink.DroppedOverflow}");
            Assert.Equal(100, sink.Dropped); // overflow + failed after retries + left at shutdown
            Assert.True(sink.Requests >= 1);
            Assert.Equal(0, pool.Outstanding);
        }
        finally
        {
            silent.Stop();
            foreach (var s in held) s.Dispose();
        }
    }

    [Fact]
    public void InvalidOptionsNameTheirKey()
    {
        Assert.Equal("sinks.webhook.url", Assert.Throws<OptionsException>(() => new WebhookOptions { Url = "ftp://x" }.Validate()).Path);
        Assert.Equal("sinks.webhook.max_attempts", Assert.Throws<OptionsException>(() => new WebhookOptions { Url = "http://x", MaxAttempts = 0 }.Validate()).Path);
        Assert.Equal("sinks.webhook.headers", Assert.Throws<OptionsException>(() =>
            new WebhookOptions { Url = "http://x", Headers = new Dictionary<string, string> { ["bad name"] = "v" } }.Validate()).Path);
    }
}
