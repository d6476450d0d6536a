using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class SinkMetricsTests
{
    [Fact]
    public async Task QueueDepthWrittenDroppedAndLatencyAreReportedPerSink()
    {
        string stream = "metrics-" + Guid.NewGuid().ToString("N");
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var gate = new TaskCompletionSource();
        var sink = new GatedSink(gate.Task);
        var runner = new SinkRunner(sink, stream, new SinkRunnerOptions { Capacity = 4, Policy = SinkQueuePolicy.DropOldest }, null, metrics);
        runner.TryEnqueue(SinkTestData.Item(pool, 0));
        Assert.True(Poll.Until(() => sink.Started, TimeSpan.FromSeconds(10))); // the sink holds item 0
        for (int i = 1; i < 10; i++) runner.TryEnqueue(SinkTestData.Item(pool, i));
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Equal(4, MetricValues.Value(metrics.SinkQueueDepth, stream, "gated"));
        gate.SetResult();
        await runner.CompleteAsync();
        await runner.DisposeAsync();
        Assert.Equal(runner.Written, MetricValues.Sum(metrics.SinkWritten, stream));
        Assert.Equal(runner.Dropped, MetricValues.Sum(metrics.SinkDropped, stream));
        Assert.Equal(5, runner.Dropped);
        Assert.Equal(5, runner.Written);
        Assert.Equal(runner.Written, metrics.SinkWriteSeconds.Histogram.WithLabels(stream, "gated").Count);
        // A disposed runner is no longer observed: its queue-depth series is gone from the scrape.
        string scrape = await MetricValues.CollectAsync(metrics.Registry);
        Assert.Empty(MetricValues.Series(metrics.SinkQueueDepth, "stream", stream));
        Assert.DoesNotContain(SvMetrics.SinkQueueDepth + "{", scrape);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task EventSinkDropsAreCountedWithTheirReasonAndBufferDepthIsAGauge()
    {
        string stream = "metrics-" + Guid.NewGuid().ToString("N");
        var metrics = new PipelineMetrics();
        var pool = new FramePool();
        var sink = new MqttEventSink(new MqttOptions { Port = MosquittoBroker.FreePort(), BufferCapacity = 3, DrainTimeoutSeconds = 0 }, stream, null, null, metrics);
        var e = new AnalyticsEvent { Type = EventTypes.Counts, StreamId = stream, Time = DateTimeOffset.UtcNow, Pts = TimeSpan.Zero, FrameSequence = 0 };
        using (var item = SinkTestData.Item(pool, 0, events: [e, e, e, e, e])) await sink.WriteAsync(item, CancellationToken.None);
        await MetricValues.CollectAsync(metrics.Registry);
        Assert.Equal(3, MetricValues.Sum(metrics.SinkEventBufferDepth, stream));
        Assert.Equal(0, MetricValues.Value(metrics.SinkConnected, stream, sink.Name));
        Assert.Equal(2, MetricValues.Sum(metrics.SinkEventsDropped, stream, v => MetricValues.Label(metrics.SinkEventsDropped, v, "reason") == "overflow"));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(3, MetricValues.Sum(metrics.SinkEventsDropped, stream, v => MetricValues.Label(metrics.SinkEventsDropped, v, "reason") == "shutdown"));
        Assert.Equal(0, pool.Outstanding);
    }

    private sealed class GatedSink(Task gate) : ISink
    {
        public bool Started { get; private set; }
        public string Name => "gated";

        public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
        {
            Started = true;
            await gate.WaitAsync(ct);
        }

        public ValueTask CompleteAsync(CancellationToken ct) => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
