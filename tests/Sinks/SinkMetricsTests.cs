using System.Diagnostics.Metrics;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class SinkMetricsTests
{
    /// <summary>Collects measurements of the StreamVision meter tagged with one stream.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly string _stream;

        public Recorder(string stream)
        {
            _stream = stream;
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == SvMetrics.MeterName) l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Add(i.Name, v, tags));
            _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i.Name, v, tags));
            _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i.Name, v, tags));
            _listener.Start();
        }

        public List<(string Name, double Value, Dictionary<string, object?> Tags)> Seen { get; } = new();

        private void Add(string name, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var d = new Dictionary<string, object?>();
            foreach (var t in tags) d[t.Key] = t.Value;
            if (!Equals(d.GetValueOrDefault("stream"), _stream)) return;
            lock (Seen) Seen.Add((name, value, d));
        }

        public void Observe() => _listener.RecordObservableInstruments();

        public double Sum(string name, Func<Dictionary<string, object?>, bool>? where = null)
        {
            lock (Seen) return Seen.Where(s => s.Name == name && (where is null || where(s.Tags))).Sum(s => s.Value);
        }

        public void Dispose() => _listener.Dispose();
    }

    [Fact]
    public async Task QueueDepthWrittenDroppedAndLatencyAreReportedPerSink()
    {
        string stream = "metrics-" + Guid.NewGuid().ToString("N");
        using var rec = new Recorder(stream);
        var pool = new FramePool();
        var gate = new TaskCompletionSource();
        var sink = new GatedSink(gate.Task);
        var runner = new SinkRunner(sink, stream, new SinkRunnerOptions { Capacity = 4, Policy = SinkQueuePolicy.DropOldest });
        runner.TryEnqueue(SinkTestData.Item(pool, 0));
        Assert.True(Poll.Until(() => sink.Started, TimeSpan.FromSeconds(10))); // the sink holds item 0
        for (int i = 1; i < 10; i++) runner.TryEnqueue(SinkTestData.Item(pool, i));
        rec.Observe();
        Assert.Equal(4, rec.Sum(SvMetrics.SinkQueueDepth, t => Equals(t["sink"], "gated")));
        gate.SetResult();
        await runner.CompleteAsync();
        await runner.DisposeAsync();
        Assert.Equal(runner.Written, rec.Sum(SvMetrics.SinkWritten));
        Assert.Equal(runner.Dropped, rec.Sum(SvMetrics.SinkDropped));
        Assert.Equal(5, runner.Dropped);
        Assert.Equal(5, runner.Written);
        Assert.True(rec.Seen.Count(s => s.Name == SvMetrics.SinkWriteSeconds) == runner.Written);
        // A disposed runner is no longer observed.
        rec.Seen.Clear();
        rec.Observe();
        Assert.DoesNotContain(rec.Seen, s => s.Name == SvMetrics.SinkQueueDepth);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task EventSinkDropsAreCountedWithTheirReasonAndBufferDepthIsAGauge()
    {
        string stream = "metrics-" + Guid.NewGuid().ToString("N");
        using var rec = new Recorder(stream);
        var pool = new FramePool();
        var sink = new MqttEventSink(new MqttOptions { Port = MosquittoBroker.FreePort(), BufferCapacity = 3, DrainTimeoutSeconds = 0 }, stream);
        var e = new AnalyticsEvent { Type = EventTypes.Counts, StreamId = stream, Time = DateTimeOffset.UtcNow, Pts = TimeSpan.Zero, FrameSequence = 0 };
        using (var item = SinkTestData.Item(pool, 0, events: [e, e, e, e, e])) await sink.WriteAsync(item, CancellationToken.None);
        rec.Observe();
        Assert.Equal(3, rec.Sum(SvMetrics.SinkEventBufferDepth));
        Assert.Equal(0, rec.Sum(SvMetrics.SinkConnected));
        Assert.Equal(2, rec.Sum(SvMetrics.SinkEventsDropped, t => Equals(t["reason"], "overflow")));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(3, rec.Sum(SvMetrics.SinkEventsDropped, t => Equals(t["reason"], "shutdown")));
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
