using Microsoft.Extensions.Logging;
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
    public async Task DropModeDropsFramesButHandsTheSinkTheirEventsInOrder()
    {
        // A live stream's event sink whose loop did not run for a while (a loaded machine): its queue overflowed and dropped
        // the frame that carried track_started. The frames go; their events reach the sink, before any later frame's.
        var pool = new FramePool();
        var sink = new GatedSink();
        var metrics = new PipelineMetrics();
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 2 }, null, metrics);
        static AnalyticsEvent Event(long seq) => new()
        {
            Type = seq == 0 ? EventTypes.TrackStarted : "line_crossed", StreamId = "cam1", Time = DateTimeOffset.UnixEpoch, Pts = TimeSpan.Zero,
            FrameSequence = seq, TrackId = 1,
        };
        Assert.True(runner.TryEnqueue(SinkTestData.Item(pool, 100)));
        Assert.True(sink.Entered.Wait(TimeSpan.FromSeconds(30))); // the sink holds item 100; the queue behind it holds 2
        for (int i = 0; i < 20; i++) Assert.True(runner.TryEnqueue(SinkTestData.Item(pool, i, events: i % 3 == 0 ? [Event(i)] : [])));
        Assert.Equal(18, runner.Dropped);
        sink.Release.Set();
        await runner.CompleteAsync();
        await runner.DisposeAsync();

        var expected = Enumerable.Range(0, 20).Where(i => i % 3 == 0).Select(i => (long)i);
        Assert.Equal(expected, sink.Events.Select(e => e.FrameSequence));
        Assert.Equal(EventTypes.TrackStarted, sink.Events[0].Type);
        // Frames 100, 18 and 19 were written; the 18 dropped frames' events came in one events-only item before frame 18.
        Assert.Equal([(100L, false), (18L, true), (18L, false), (19L, false)], sink.Items);
        Assert.Equal(3, runner.Written);
        Assert.Equal(20 + 1, runner.Written + runner.Dropped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DropModeKeepsABoundedNumberOfEventsForAStuckSinkAndCountsTheRest()
    {
        var pool = new FramePool();
        var sink = new GatedSink();
        var metrics = new PipelineMetrics();
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.DropOldest, Capacity = 1 }, null, metrics);
        Assert.True(runner.TryEnqueue(SinkTestData.Item(pool, 0)));
        Assert.True(sink.Entered.Wait(TimeSpan.FromSeconds(30)));
        int frames = SinkRunner.MaxSalvagedEvents + 11;
        for (int i = 1; i <= frames; i++)
        {
            var e = new AnalyticsEvent { Type = "line_crossed", StreamId = "cam1", Time = DateTimeOffset.UnixEpoch, Pts = TimeSpan.Zero, FrameSequence = i };
            Assert.True(runner.TryEnqueue(SinkTestData.Item(pool, i, events: [e])));
        }
        sink.Release.Set();
        await runner.CompleteAsync();
        await runner.DisposeAsync();
        // The last frame was queued (its event with it); of the dropped frames' events the newest MaxSalvagedEvents were kept.
        Assert.Equal(Enumerable.Range(frames - SinkRunner.MaxSalvagedEvents, SinkRunner.MaxSalvagedEvents + 1).Select(i => (long)i),
            sink.Events.Select(e => e.FrameSequence));
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Equal(10, MetricValues.Value(metrics.SinkEventsDropped, "cam1", "gated", "overflow"));
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

    [Fact]
    public async Task ASwitchedOffSinkRetriesComesBackAndEveryStateChangeIsAWarning()
    {
        var pool = new FramePool();
        var log = new ListLogger();
        var sink = new FlakySink { Failing = true };
        var metrics = new PipelineMetrics();
        var runner = new SinkRunner(sink, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, MaxConsecutiveErrors = 2, RetrySeconds = 0.05 }, log, metrics);
        Assert.Equal(SinkState.Connected, runner.Health.State);
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Equal(0, MetricValues.Value(metrics.SinkState, "cam1", "flaky")); // sv_sink_state: 0 connected
        long seq = 0;
        while (!runner.IsFaulted)
        {
            await runner.EnqueueAsync(SinkTestData.Item(pool, seq++), CancellationToken.None);
            Assert.True(Poll.Until(() => runner.Errors + runner.Dropped + runner.Written >= seq, TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(SinkState.Faulted, runner.Health.State);
        Assert.Equal("disk full", runner.Health.Reason);
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Equal(2, MetricValues.Value(metrics.SinkState, "cam1", "flaky")); // 2 faulted
        Assert.True(Poll.Until(() => log.At(LogLevel.Warning).Any(m => m.Contains("sink flaky is now faulted: disk full", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)), log.ToString());

        sink.Failing = false; // room again
        Assert.True(Poll.Until(() =>
        {
            var item = SinkTestData.Item(pool, seq);
            if (runner.TryEnqueue(item)) seq++;
            else item.Dispose(); // full (wait mode): not taken
            return runner.Health.State == SinkState.Connected && !runner.IsFaulted;
        }, TimeSpan.FromSeconds(10)), runner.Health.ToString());
        Assert.True(Poll.Until(() => log.At(LogLevel.Warning).Any(m => m.Contains("sink flaky is now connected", StringComparison.Ordinal)), TimeSpan.FromSeconds(10)), log.ToString());
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Equal(0, MetricValues.Value(metrics.SinkState, "cam1", "flaky"));
        await runner.CompleteAsync();
        Assert.Null(runner.NotFinalised);
        await runner.DisposeAsync();
        Assert.Empty(MetricValues.Series(metrics.SinkState, "stream", "cam1")); // the series goes with the runner
        Assert.True(sink.Seen > 0);
        Assert.Equal(seq, runner.Written + runner.Dropped + runner.Errors);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AnOutputThatCannotBeFinalisedOrEndsFaultedSaysWhy()
    {
        var pool = new FramePool();
        var failing = new SinkRunner(new FlakySink { FailComplete = true }, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait });
        await failing.EnqueueAsync(SinkTestData.Item(pool, 0), CancellationToken.None);
        await failing.CompleteAsync();
        Assert.Equal("flaky: finalising failed: trailer not written", failing.NotFinalised);
        await failing.DisposeAsync();

        var faulted = new SinkRunner(new FlakySink { Failing = true }, "cam1", new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, MaxConsecutiveErrors = 1, RetrySeconds = 0 });
        await faulted.EnqueueAsync(SinkTestData.Item(pool, 0), CancellationToken.None);
        await faulted.CompleteAsync();
        Assert.StartsWith("flaky: faulted since ", faulted.NotFinalised, StringComparison.Ordinal);
        Assert.Contains("disk full", faulted.NotFinalised, StringComparison.Ordinal);
        await faulted.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    /// <summary>A sink that fails while <see cref="Failing"/> (a full disk) and works again when it is cleared.</summary>
    private sealed class FlakySink : ISink
    {
        private int _seen;
        public volatile bool Failing;
        public bool FailComplete { get; init; }
        public int Seen => Volatile.Read(ref _seen);
        public string Name => "flaky";

        public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
        {
            if (Failing) throw new IOException("disk full");
            Interlocked.Increment(ref _seen);
            return ValueTask.CompletedTask;
        }

        public ValueTask CompleteAsync(CancellationToken ct) => FailComplete ? throw new IOException("trailer not written") : ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

/// <summary>A sink whose first write waits until released; records every item (frame sequence, events-only) and every event.</summary>
internal sealed class GatedSink : ISink
{
    public ManualResetEventSlim Entered { get; } = new();
    public ManualResetEventSlim Release { get; } = new();
    public List<(long Sequence, bool EventsOnly)> Items { get; } = new();
    public List<AnalyticsEvent> Events { get; } = new();
    public string Name => "gated";

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        Entered.Set();
        Release.Wait(ct);
        Items.Add((item.Frame.Sequence, item.EventsOnly));
        Events.AddRange(item.Events);
        return ValueTask.CompletedTask;
    }

    public ValueTask CompleteAsync(CancellationToken ct) => ValueTask.CompletedTask;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
