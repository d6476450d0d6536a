using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class SinkRunnerTests
{
    [Fact]
    public async Task WaitModeKeepsEveryItemInOrderAndReleasesFrames()
    {
        var pool = new FramePool();
        var sink = new TestSink { Delay = 1 };
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, Capacity = 2 });
        for (int i = 0; i < 30; i++) await runner.EnqueueAsync(SinkTestData.Item(pool, i), CancellationToken.None);
        await runner.CompleteAsync();
        await runner.DisposeAsync();
        Assert.Equal(Enumerable.Range(0, 30).Select(i => (long)i), sink.Seen);
        Assert.True(sink.Completed);
        Assert.Equal(0, runner.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task SlowSinkInDropModeDropsOldestCountsAndNeverBlocks()
    {
        var pool = new FramePool();
        var sink = new TestSink { Delay = 50 };
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 2 });
        for (int i = 0; i < 40; i++) Assert.True(runner.TryEnqueue(SinkTestData.Item(pool, i)));
        await runner.CompleteAsync();
        await runner.DisposeAsync();
        Assert.True(runner.Dropped > 30, $"dropped {runner.Dropped}");
        Assert.Equal(40, runner.Dropped + runner.Written);
        Assert.Contains(39L, sink.Seen); // the newest survives
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task FailingSinkIsCountedThenSwitchedOffWithoutThrowing()
    {
        var pool = new FramePool();
        var runner = new SinkRunner(new TestSink { Fail = true }, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, MaxConsecutiveErrors = 3 });
        for (int i = 0; i < 10; i++) await runner.EnqueueAsync(SinkTestData.Item(pool, i), CancellationToken.None);
        await runner.CompleteAsync();
        await runner.DisposeAsync();
        Assert.Equal(3, runner.Errors);
        Assert.True(runner.IsFaulted);
        Assert.Equal(7, runner.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DisposeWithoutCompleteDropsQueuedItemsAndIsIdempotent()
    {
        var pool = new FramePool();
        var sink = new TestSink { Delay = 100 };
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 8 });
        for (int i = 0; i < 8; i++) runner.TryEnqueue(SinkTestData.Item(pool, i));
        await runner.DisposeAsync();
        await runner.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task SlowSinkDoesNotHoldBackAnotherSinkFedTheSameFrames()
    {
        var pool = new FramePool();
        var slow = new TestSink { Delay = 30 };
        var fast = new TestSink();
        var slowRunner = new SinkRunner(slow, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 2 });
        var fastRunner = new SinkRunner(fast, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 64 });
        for (int i = 0; i < 60; i++)
        {
            // The pipeline's fan-out: one reference per sink.
            using var item = SinkTestData.Item(pool, i);
            Assert.True(slowRunner.TryEnqueue(item.AddRef()));
            Assert.True(fastRunner.TryEnqueue(item.AddRef()));
        }
        await fastRunner.CompleteAsync();
        // The fast sink saw every frame, in order; the slow one dropped what it could not keep up with.
        Assert.Equal(Enumerable.Range(0, 60).Select(i => (long)i), fast.Seen);
        Assert.Equal(0, fastRunner.Dropped);
        await slowRunner.CompleteAsync();
        Assert.True(slowRunner.Dropped > 0);
        Assert.Equal(60, slowRunner.Dropped + slowRunner.Written);
        await slowRunner.DisposeAsync();
        await fastRunner.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }
}
