using Prometheus;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// One sink's series (labels stream, sink) on a <see cref="PipelineMetrics"/>. Counters are created when first used and
/// stay until the stream's owner removes the stream (<see cref="PipelineMetrics.RemoveStream"/>); gauges follow a reading
/// at each collection while registered (<see cref="Register"/>) and their series go when the registration is disposed.
/// </summary>
internal sealed class SinkMetrics
{
    private readonly string _stream;
    private readonly string _sink;
    private Counter.Child? _written, _dropped, _errors, _eventsSent, _retries;
    private SvHistogram.Series? _writeSeconds;

    /// <param name="metrics">Null = <see cref="PipelineMetrics.Default"/>.</param>
    public SinkMetrics(PipelineMetrics? metrics, string streamId, string sink)
    {
        Metrics = metrics ?? PipelineMetrics.Default;
        _stream = streamId;
        _sink = sink;
    }

    public enum Gauge
    {
        QueueDepth,
        EventBufferDepth,
        Connected,
        State,
    }

    public PipelineMetrics Metrics { get; }
    /// <summary>The sink's name (its <c>sink</c> label).</summary>
    public string Sink => _sink;

    public Counter.Child Written => _written ??= Metrics.SinkWritten.WithLabels(_stream, _sink);
    public Counter.Child Dropped => _dropped ??= Metrics.SinkDropped.WithLabels(_stream, _sink);
    public Counter.Child Errors => _errors ??= Metrics.SinkErrors.WithLabels(_stream, _sink);
    public SvHistogram.Series WriteSeconds => _writeSeconds ??= Metrics.SinkWriteSeconds.WithLabels(_stream, _sink);
    public Counter.Child EventsSent => _eventsSent ??= Metrics.SinkEventsSent.WithLabels(_stream, _sink);
    public Counter.Child Retries => _retries ??= Metrics.SinkRetries.WithLabels(_stream, _sink);

    /// <summary>Events given up on, by reason (overflow, failed, rejected, shutdown).</summary>
    public Counter.Child EventsDropped(string reason) => Metrics.SinkEventsDropped.WithLabels(_stream, _sink, reason);

    /// <summary>Connection attempts after the first, by outcome (ok, failed).</summary>
    public Counter.Child Reconnects(string outcome) => Metrics.SinkReconnects.WithLabels(_stream, _sink, outcome);

    /// <summary>Reports <paramref name="read"/> on <paramref name="gauge"/> at each collection until the result is disposed, which removes the series.</summary>
    public IDisposable Register(Gauge gauge, Func<int> read)
    {
        var collector = gauge switch
        {
            Gauge.QueueDepth => Metrics.SinkQueueDepth,
            Gauge.EventBufferDepth => Metrics.SinkEventBufferDepth,
            Gauge.State => Metrics.SinkState,
            _ => Metrics.SinkConnected,
        };
        var child = collector.WithLabels(_stream, _sink);
        child.Set(read());
        return new Registration(Metrics.OnCollect(() => child.Set(read())), child);
    }

    private sealed class Registration(IDisposable collect, Prometheus.Gauge.Child child) : IDisposable
    {
        public void Dispose()
        {
            collect.Dispose();
            child.Remove();
        }
    }
}
