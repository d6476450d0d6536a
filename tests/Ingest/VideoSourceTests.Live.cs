using System.Diagnostics;
using System.Diagnostics.Metrics;
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
            while (read.Count < 8 && await source.Frames.WaitToReadAsync())
            {
                if (!source.Frames.TryRead(out var frame)) continue;
                using (frame) read.Add(Sources.Record(frame));
                await Task.Delay(30);   // a consumer slower than the source
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
        var frames = await Sources.TakeAsync(source, 10, TimeSpan.FromSeconds(10));
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
        var longs = new Dictionary<string, long>();
        var states = new Dictionary<string, int>();
        var gate = new object();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (inst, l) =>
        {
            if (inst.Meter.Name == SvMetrics.MeterName) l.EnableMeasurementEvents(inst);
        };
        listener.SetMeasurementEventCallback<long>((inst, value, tags, _) =>
        {
            if (!HasTag(tags, "stream", id)) return;
            string key = inst.Name + (Tag(tags, "reason") is { } r ? "/" + r : "");
            lock (gate) longs[key] = longs.GetValueOrDefault(key) + value;
        });
        listener.SetMeasurementEventCallback<int>((inst, value, tags, _) =>
        {
            if (!HasTag(tags, "stream", id)) return;
            string key = inst.Name + "/" + (Tag(tags, "state") ?? Tag(tags, "stage"));
            lock (gate) states[key] = value;
        });
        listener.Start();

        var pool = Sources.NewPool();
        await using (var source = new VideoSource(new SourceOptions { Uri = FastPattern, Id = id, ChannelCapacity = 2, MaxFps = 50, DecoderThreads = 1 }, pool).Start())
        {
            Assert.True(await Sources.WaitUntilAsync(() => source.FramesDropped > 5, TimeSpan.FromSeconds(10)));
            listener.RecordObservableInstruments();
        }
        lock (gate)
        {
            Assert.True(longs.GetValueOrDefault(SvMetrics.FramesDecoded) > 10);
            Assert.True(longs.GetValueOrDefault(SvMetrics.FramesDropped + "/queue_full") > 5);
            Assert.True(longs.GetValueOrDefault(SvMetrics.FramesSkipped + "/max_fps") > 5);
            Assert.Equal(1, states[SvMetrics.SourceState + "/streaming"]);
            Assert.Equal(0, states[SvMetrics.SourceState + "/backoff"]);
            Assert.InRange(states[SvMetrics.QueueDepth + "/ingest"], 0, 2);
        }
        Assert.Equal(0, pool.Outstanding);
    }

    private static bool HasTag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, string value) => Tag(tags, key) == value;

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
    {
        foreach (var t in tags)
        {
            if (t.Key == key) return t.Value as string;
        }
        return null;
    }
}
