using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>Something whose current level is reported by an observable gauge (a sink queue, an event buffer, a connection).</summary>
internal interface IGaugeSource
{
    /// <summary>Tags of the measurement (stream, sink).</summary>
    KeyValuePair<string, object?>[] Tags { get; }

    int Value { get; }
}

/// <summary>
/// The sinks' instruments, created once per process on <see cref="SvMetrics.Meter"/>. Gauges read the live sources that
/// registered themselves (<see cref="Register"/>); a source is forgotten when its registration is disposed.
/// </summary>
internal static class SinkMetrics
{
    public static readonly Counter<long> Written = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkWritten, "{item}", "Items a sink wrote");
    public static readonly Counter<long> Dropped = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkDropped, "{item}", "Items a sink dropped (queue full, sink off, output down)");
    public static readonly Counter<long> Errors = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkErrors, "{error}", "Sink write errors");
    public static readonly Histogram<double> WriteSeconds = SvMetrics.Meter.CreateHistogram<double>(SvMetrics.SinkWriteSeconds, "s", "Time a sink took to write one item");
    public static readonly Counter<long> EventsSent = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkEventsSent, "{event}", "Events an event sink delivered");
    public static readonly Counter<long> EventsDropped = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkEventsDropped, "{event}", "Events an event sink gave up on");
    public static readonly Counter<long> Retries = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkRetries, "{attempt}", "Delivery attempts after the first");
    public static readonly Counter<long> Reconnects = SvMetrics.Meter.CreateCounter<long>(SvMetrics.SinkReconnects, "{attempt}", "Connection attempts of a sink after the first");

    private static readonly ConcurrentDictionary<IGaugeSource, byte> s_queues = new();
    private static readonly ConcurrentDictionary<IGaugeSource, byte> s_buffers = new();
    private static readonly ConcurrentDictionary<IGaugeSource, byte> s_connections = new();

    static SinkMetrics()
    {
        SvMetrics.Meter.CreateObservableGauge(SvMetrics.SinkQueueDepth, () => Observe(s_queues), "{item}", "Items waiting in a sink's queue");
        SvMetrics.Meter.CreateObservableGauge(SvMetrics.SinkEventBufferDepth, () => Observe(s_buffers), "{event}", "Events an event sink holds (waiting or unacknowledged)");
        SvMetrics.Meter.CreateObservableGauge(SvMetrics.SinkConnected, () => Observe(s_connections), "1", "1 while a sink's connection is up");
    }

    public enum Gauge
    {
        QueueDepth,
        EventBufferDepth,
        Connected,
    }

    /// <summary>Reports <paramref name="source"/> on <paramref name="gauge"/> until the returned registration is disposed.</summary>
    public static IDisposable Register(Gauge gauge, IGaugeSource source)
    {
        var set = gauge switch
        {
            Gauge.QueueDepth => s_queues,
            Gauge.EventBufferDepth => s_buffers,
            _ => s_connections,
        };
        set[source] = 0;
        return new Registration(set, source);
    }

    /// <summary>Tags of one sink: stream and sink name.</summary>
    public static KeyValuePair<string, object?>[] Tags(string streamId, string sink) => [new("stream", streamId), new("sink", sink)];

    /// <summary>Tags of one sink plus a reason (drops) or outcome (reconnects).</summary>
    public static KeyValuePair<string, object?>[] Tags(string streamId, string sink, string key, string value) =>
        [new("stream", streamId), new("sink", sink), new(key, value)];

    private static IEnumerable<Measurement<int>> Observe(ConcurrentDictionary<IGaugeSource, byte> set)
    {
        foreach (var s in set.Keys) yield return new Measurement<int>(s.Value, s.Tags);
    }

    private sealed class Registration(ConcurrentDictionary<IGaugeSource, byte> set, IGaugeSource source) : IDisposable
    {
        public void Dispose() => set.TryRemove(source, out _);
    }

    /// <summary>A gauge source reading a delegate.</summary>
    public sealed class FuncSource(KeyValuePair<string, object?>[] tags, Func<int> read) : IGaugeSource
    {
        public KeyValuePair<string, object?>[] Tags { get; } = tags;
        public int Value => read();
    }
}
