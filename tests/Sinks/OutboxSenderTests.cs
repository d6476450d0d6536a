using Microsoft.Extensions.Logging;
using StreamVision.Core;
using StreamVision.Sinks.Tests.Support;

namespace StreamVision.Sinks.Tests;

/// <summary>
/// The lifetime MQTT and Kafka share around their outbox: one stop path for drain and dispose (racing ones included), what
/// is left counted once before the sink leaves its connection, a failing sender logged without stopping the stop.
/// </summary>
public class OutboxSenderTests
{
    private static readonly TimeSpan FailSafe = TimeSpan.FromSeconds(30); // against a hang, not a speed bound

    [Fact]
    public async Task CompleteDrainsWhatTheSenderDeliversThenLeavesOnce_ARacingDisposeWaitsForTheSameStop()
    {
        var metrics = new PipelineMetrics();
        var log = new ListLogger();
        var sender = new OutboxSender<int>(10, 2, new SinkMetrics(metrics, "cam", "mqtt"), "cam", log, FailSafe);
        var delivered = new List<int>();
        int leaves = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sender.Start(async ct =>
        {
            await release.Task.WaitAsync(ct);
            while (true)
            {
                await sender.Outbox.WaitForEventAndSlotAsync(ct);
                if (!sender.Outbox.TryTake(out int e)) continue;
                lock (delivered) delivered.Add(e);
                if (e == 2) sender.Rejected();
                else sender.Delivered();
                sender.Outbox.Settle();
            }
        }, () =>
        {
            Interlocked.Increment(ref leaves);
            return Task.CompletedTask;
        }, () => true);
        for (int i = 0; i < 4; i++) sender.Outbox.Add(() => i);
        Assert.Equal(SinkState.Connected, sender.Health(() => false, () => "").State);

        var complete = sender.CompleteAsync(CancellationToken.None).AsTask();
        release.SetResult();
        await complete.WaitAsync(FailSafe);
        await sender.DisposeAsync().AsTask().WaitAsync(FailSafe);
        await sender.CompleteAsync(CancellationToken.None).AsTask().WaitAsync(FailSafe); // after dispose: nothing

        Assert.Equal([0, 1, 2, 3], delivered);
        Assert.Equal((3, 1, 0L), (sender.Sent, sender.DroppedRejected, sender.Outbox.DroppedAtShutdown));
        Assert.Equal(1, leaves);
        Assert.Empty(log.At(LogLevel.Warning));
        // Stopped: the health stays as it was, and the gauges are gone with the dispose.
        Assert.Equal(SinkState.Connected, sender.Health(() => true, () => "down").State);
        string text = await MetricValues.CollectAsync(metrics.Registry);
        Assert.Contains("sv_sink_events_sent_total{stream=\"cam\",sink=\"mqtt\"} 3", text);
        Assert.Contains("sv_sink_events_dropped_total{stream=\"cam\",sink=\"mqtt\",reason=\"rejected\"} 1", text);
        Assert.DoesNotContain("sv_sink_event_buffer_depth{stream=\"cam\"", text);
    }

    [Fact]
    public async Task ASenderThatFailsIsLogged_DisposeCountsWhatIsLeftOnceAndStillLeaves()
    {
        var metrics = new PipelineMetrics();
        var log = new ListLogger();
        var sender = new OutboxSender<int>(10, 2, new SinkMetrics(metrics, "cam", "kafka"), "cam", log, FailSafe);
        int leaves = 0;
        sender.Start(_ => throw new InvalidOperationException("client broke"), () =>
        {
            Interlocked.Increment(ref leaves);
            return Task.CompletedTask;
        }, () => false);
        for (int i = 0; i < 3; i++) sender.Outbox.Add(() => i);
        Assert.Equal(SinkState.Buffering, sender.Health(() => true, () => "brokers away").State);

        await Task.WhenAll(sender.DisposeAsync().AsTask(), sender.DisposeAsync().AsTask()).WaitAsync(FailSafe);

        Assert.Equal(3, sender.Outbox.DroppedAtShutdown);
        Assert.Equal(1, leaves);
        Assert.Contains(log.At(LogLevel.Error), l => l.Contains("stream cam: kafka sender failed; events are no longer sent", StringComparison.Ordinal));
        Assert.Contains(log.At(LogLevel.Warning), l => l.Contains("stream cam: kafka stopped with 3 undelivered events", StringComparison.Ordinal));
        sender.Outbox.Add(() => 9); // after the stop: dropped and counted
        Assert.Equal(4, sender.Outbox.DroppedAtShutdown);
    }
}
