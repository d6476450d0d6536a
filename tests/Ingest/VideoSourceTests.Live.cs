using System.Diagnostics;
using StreamVision.Core;
using StreamVision.Ingest.Tests.Support;

namespace StreamVision.Ingest.Tests;

/// <summary>Live sources on a lavfi test pattern: real-time, drop the oldest, count it, never leak.</summary>
public class VideoSourceLiveTests
{
    // Unpaced lavfi: the decoder outruns any consumer, so the channel is full all the time.
    private const string FastPattern = "lavfi:testsrc2=size=64x48:rate=100";

    [Fact]
    public async Task ASlowConsumerGetsTheNewestFramesAndDropsAreCountedAndReturned()
    {
        var pool = Sources.NewPool();
        var read = new List<FrameRecord>();
        await using (var source = new VideoSource(new SourceOptions { Uri = FastPattern, Id = "slow-consumer", ChannelCapacity = 2, DecoderThreads = 1 }, pool).Start())
        {
            Assert.True(source.IsLive);
            // A consumer slower than the source, reading until it has seen a few frames after the first drop (on a loaded
            // machine the source itself may run slower than 100 fps for a while: eight reads did not always see one).
            int readsAfterDrop = 0;
            while ((read.Count < 8 || readsAfterDrop < 3) && read.Count < 500 && await source.Frames.WaitToReadAsync())
            {
                if (!source.Frames.TryRead(out var frame)) continue;
                using (frame) read.Add(Sources.Record(frame));
                if (source.FramesDropped > 0) readsAfterDrop++;
                await Task.Delay(30);
            }
            Assert.True(source.FramesDropped > 0, "dropped frames are counted");
            long delivered = source.FramesDelivered;
            Assert.True(source.FramesDecoded >= delivered);
            Assert.InRange(pool.Outstanding, 0, 3);   // the channel's two plus one being written
            Assert.Equal(SourceState.Streaming, source.State);
        }
        Assert.Equal(0, pool.Outstanding);
        for (int i = 1; i < read.Count; i++) Assert.True(read[i].Sequence > read[i - 1].Sequence, "frames stay in order");
        Assert.Contains(read.Zip(read.Skip(1)), p => p.Second.Sequence - p.First.Sequence > 1);   // the gaps are the dropped ones
    }

    [Fact]
    public async Task AConsumerThatNeverReadsKeepsMemoryBoundedAndDropsRising()
    {
        var pool = Sources.NewPool(1 << 20);
        await using (var source = new VideoSource(new SourceOptions { Uri = FastPattern, ChannelCapacity = 4, DecoderThreads = 1 }, pool).Start())
        {
            Assert.True(await Sources.WaitUntilAsync(() => source.FramesDropped > 20, TimeSpan.FromSeconds(10)));
            long first = source.FramesDropped;
            Assert.True(await Sources.WaitUntilAsync(() => source.FramesDropped > first + 20, TimeSpan.FromSeconds(10)), "drops keep rising");
            Assert.InRange(source.QueueDepth, 1, 4);
            Assert.InRange(pool.Outstanding, 1, 5);
            Assert.True(pool.RentedBytes <= pool.MaxBytes);
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task PoolExhaustionDropsInsteadOfBlockingALiveSource()
    {
        // The consumer holds every frame it reads: once the pool cap is reached the source drops (reason pool_exhausted).
        var pool = Sources.NewPool(1 << 20);
        var held = new List<Frame>();
        await using (var source = new VideoSource(new SourceOptions { Uri = "lavfi:testsrc2=size=320x240:rate=100", ChannelCapacity = 2, DecoderThreads = 1 }, pool).Start())
        {
            var sw = Stopwatch.StartNew();
            while (held.Count < 4 && sw.Elapsed < TimeSpan.FromSeconds(10))
            {
                if (source.Frames.TryRead(out var f)) held.Add(f);
                else await Task.Delay(5);
            }
            long decoded = source.FramesDecoded;
            Assert.True(await Sources.WaitUntilAsync(() => source.FramesDecoded > decoded + 20, TimeSpan.FromSeconds(10)), "decoding goes on");
            Assert.True(source.FramesDropped > 0);
            Assert.True(pool.RentedBytes <= pool.MaxBytes);
            foreach (var f in held) f.Dispose();
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task TestPatternShorthandIsPacedLikeACamera()
    {
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = "testsrc", OutputWidth = 160, DecoderThreads = 1 }, pool).Start();
        var sw = Stopwatch.StartNew();
        var frames = await Sources.TakeAsync(source, 10, TimeSpan.FromSeconds(60));
        Assert.Equal("testsrc2", source.StreamId);
        Assert.All(frames, f => Assert.Equal((160, 90), (f.Width, f.Height)));
        Assert.All(frames, f => Assert.Equal(TimeSpan.FromMilliseconds(40 * f.Sequence), f.Pts));   // 25 fps timestamps
        // Paced by the realtime filter: ten frames take about 0.4 s, where an unpaced pattern takes milliseconds.
        Assert.True(sw.Elapsed > TimeSpan.FromMilliseconds(300), $"10 frames in {sw.Elapsed}");
        await source.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task ALiveSourceThatEndsReconnectsAndItsTimestampsKeepGoingForward()
    {
        // A finite lavfi graph read as live: its end is a failure like any other, so the source opens it again.
        var pool = Sources.NewPool();
        var options = new SourceOptions
        {
            Uri = "lavfi:testsrc2=size=64x48:rate=25:duration=0.4",
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
            ReconnectJitter = 0,
            ChannelCapacity = 64,
        };
        await using var source = new VideoSource(options, pool).Start();
        var frames = await Sources.TakeAsync(source, 25, TimeSpan.FromSeconds(15));
        Assert.True(source.Reconnects >= 2);
        for (int i = 1; i < frames.Count; i++)
        {
            Assert.True(frames[i].Pts > frames[i - 1].Pts, $"pts {frames[i].Pts} after {frames[i - 1].Pts}");
            Assert.Equal(frames[i - 1].Sequence + 1, frames[i].Sequence);
        }
        await source.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task MetricsCarryTheStreamTag()
    {
        string id = "metrics-" + Guid.NewGuid().ToString("N")[..8];
        var metrics = new PipelineMetrics();
        double streaming, backoff, queue;

        var pool = Sources.NewPool();
        await using (var source = new VideoSource(new SourceOptions { Uri = FastPattern, Id = id, ChannelCapacity = 2, MaxFps = 50, DecoderThreads = 1 }, pool, null, metrics).Start())
        {
            Assert.True(await Sources.WaitUntilAsync(() => source.FramesDropped > 5, TimeSpan.FromSeconds(10)));
            await MetricValues.CollectAsync(metrics.Registry);
            streaming = MetricValues.Value(metrics.SourceState, id, "streaming");
            backoff = MetricValues.Value(metrics.SourceState, id, "backoff");
            queue = MetricValues.Value(metrics.QueueDepth, id, "ingest");
        }
        Assert.True(MetricValues.Value(metrics.FramesDecoded, id) > 10);
        Assert.True(MetricValues.Value(metrics.FramesDropped, id, "ingest", "queue_full") > 5);
        Assert.True(MetricValues.Value(metrics.FramesSkipped, id, "max_fps") > 5);
        Assert.Equal(1, streaming);
        Assert.Equal(0, backoff);
        Assert.InRange(queue, 0, 2);
        // A disposed source reports no state and no queue any more; its counters stay until the stream is removed.
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Empty(MetricValues.Series(metrics.SourceState, "stream", id));
        Assert.Empty(MetricValues.Series(metrics.QueueDepth, "stream", id));
        metrics.RemoveStream(id);
        Assert.Empty(MetricValues.Series(metrics.FramesDecoded, "stream", id));
        Assert.Empty(MetricValues.Series(metrics.FramesDropped, "stream", id));
        Assert.Equal(0, pool.Outstanding);
    }
}
