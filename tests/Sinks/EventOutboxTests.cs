using StreamVision.Core;
using StreamVision.Sinks.Tests.Support;

namespace StreamVision.Sinks.Tests;

/// <summary>The buffer and drain MQTT and Kafka share: counts, put-back, the drain's one cancellation behaviour.</summary>
public class EventOutboxTests
{
    private static EventOutbox<int> Outbox(int capacity, int inflight, out PipelineMetrics metrics)
    {
        metrics = new PipelineMetrics();
        return new EventOutbox<int>(capacity, inflight, new SinkMetrics(metrics, "cam", "mqtt"));
    }

    [Fact]
    public async Task TakenEventsStayBufferedUntilSettled_PutBackOnesGoFirstAndTheOldestThatDoNotFitAreCounted()
    {
        var box = Outbox(3, 2, out var metrics);
        for (int i = 0; i < 5; i++) box.Add(() => i);
        Assert.Equal(2, box.DroppedOverflow); // 0 and 1 pushed out
        await box.WaitForEventAndSlotAsync(CancellationToken.None);
        Assert.True(box.TryTake(out int first));
        await box.WaitForEventAndSlotAsync(CancellationToken.None);
        Assert.True(box.TryTake(out int second));
        Assert.Equal((2, 3), (first, second));
        Assert.Equal(3, box.Buffered);
        Assert.Equal(2, box.InFlight);
        // No third slot while two are in flight.
        var third = box.WaitForEventAndSlotAsync(CancellationToken.None);
        Assert.False(third.IsCompleted);
        box.Settle(); // 2 delivered
        await third;
        box.ReleaseSlot();
        box.Add(() => 5);
        box.Add(() => 6); // buffer: 4, 5, 6
        box.PutBack([3]); // 3 was in flight and not confirmed: it is the oldest of all and no longer fits
        Assert.Equal(3, box.DroppedOverflow);
        Assert.Equal(0, box.InFlight);
        Assert.Equal(3, box.Buffered);
        Assert.Contains("sv_sink_events_dropped_total{stream=\"cam\",sink=\"mqtt\",reason=\"overflow\"} 3", await MetricValues.CollectAsync(metrics.Registry));
    }

    [Fact]
    public async Task TheDrainEndsWhenEmpty_AtTheTimeout_OrOnCancellation_WithoutThrowing()
    {
        var box = Outbox(10, 4, out _);
        await box.DrainAsync(TimeSpan.FromMinutes(1), CancellationToken.None); // nothing held: at once

        box.Add(() => 1);
        await box.WaitForEventAndSlotAsync(CancellationToken.None);
        Assert.True(box.TryTake(out _));
        var drain = box.DrainAsync(TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.False(drain.IsCompleted);
        box.Settle();
        await drain; // the last settlement ends it

        box.Add(() => 2);
        await box.DrainAsync(TimeSpan.FromMilliseconds(1), CancellationToken.None); // the timeout, no exception

        using var cts = new CancellationTokenSource();
        var cancelled = box.DrainAsync(TimeSpan.FromMinutes(1), cts.Token);
        Assert.False(cancelled.IsCompleted);
        cts.Cancel();
        await cancelled; // cancellation, no exception
    }

    [Fact]
    public async Task AbandonCountsWhatIsLeftOnce_LaterSettlementsAndEventsDoNotCountAgain()
    {
        var box = Outbox(10, 4, out var metrics);
        for (int i = 0; i < 4; i++) box.Add(() => i);
        await box.WaitForEventAndSlotAsync(CancellationToken.None);
        Assert.True(box.TryTake(out _));
        Assert.True(box.BeginStop());
        Assert.False(box.BeginStop());
        Assert.Equal(4, box.Abandon()); // three waiting, one in flight
        box.Settle(); // a late delivery report
        Assert.Equal(0, box.InFlight);
        box.Add(() => throw new InvalidOperationException("not built once stopping"));
        Assert.Equal(5, box.DroppedAtShutdown);
        Assert.Equal(0, box.Buffered);
        Assert.Contains("sv_sink_events_dropped_total{stream=\"cam\",sink=\"mqtt\",reason=\"shutdown\"} 5", await MetricValues.CollectAsync(metrics.Registry));
    }
}
