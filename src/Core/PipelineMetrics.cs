using Prometheus;

namespace StreamVision.Core;

/// <summary>
/// Every StreamVision collector — prometheus-net <see cref="Counter"/>s, <see cref="Gauge"/>s and histograms, named as in
/// <see cref="SvMetrics"/> — on one <see cref="CollectorRegistry"/>. Counters are exported with <c>_total</c>; histograms
/// have explicit buckets (<see cref="SecondsBuckets"/>, <see cref="BatchSizeBuckets"/>); gauges that mirror live state
/// (queue depths, source state, connections) are set just before each collection by the callbacks of <see cref="OnCollect"/>.
/// Thread-safe.
/// </summary>
/// <remarks>
/// Registry scope: a service host makes its own <see cref="PipelineMetrics"/> (a private registry that its <c>/metrics</c>
/// serves) and hands it to every stage it builds. Tests run many services and stages in one process, often with the same
/// stream ids: on one shared registry two services' stream "a" would add up into one series, one service's
/// <c>/metrics</c> would list the other's streams, and removing a stream from one service would erase it from the other.
/// A registry per service keeps them independent. A stage built on its own (the annotate command, stage tests) records to
/// <see cref="Default"/> unless it is given one. prometheus-net's own default registry is never used: collecting it would
/// start the library's meter adapter.
/// </remarks>
public sealed class PipelineMetrics
{
    private readonly object _gate = new();
    private readonly List<Action<string>> _streamRemovers = new();
    private Action[] _collectCallbacks = [];

    /// <summary>Buckets of every time histogram, in seconds: 0.5 ms (a detector on a small frame) to 10 s (a stalled network read).</summary>
    public static IReadOnlyList<double> SecondsBuckets { get; } = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>Buckets of <see cref="SvMetrics.InferenceBatchSize"/>, in frames per detector run (batches hold at most 64).</summary>
    public static IReadOnlyList<double> BatchSizeBuckets { get; } = [1, 2, 4, 8, 16, 32, 64, 128];

    /// <summary>Where stages record when nobody gave them a <see cref="PipelineMetrics"/> (nothing serves it unless asked).</summary>
    public static PipelineMetrics Default { get; } = new();

    /// <param name="registry">The registry to create the collectors on; null = a new private one.</param>
    public PipelineMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Metrics.NewCustomRegistry();
        var f = Metrics.WithCustomRegistry(Registry);
        const string stream = SvMetrics.LabelStream, stage = SvMetrics.LabelStage, reason = SvMetrics.LabelReason,
            sink = SvMetrics.LabelSink, outcome = SvMetrics.LabelOutcome;

        FramesDecoded = NewCounter(f, SvMetrics.FramesDecoded, "Frames decoded by the source (also skipped or dropped ones)", stream);
        FramesDropped = NewCounter(f, SvMetrics.FramesDropped, "Frames lost because a consumer lagged or memory was capped", stream, stage, reason);
        FramesSkipped = NewCounter(f, SvMetrics.FramesSkipped, "Frames left out on purpose (max fps)", stream, reason);
        DecodeSeconds = NewHistogram(f, SvMetrics.DecodeSeconds, "Time to get a frame out of the decoder and convert it (live: includes waiting for the network)", SecondsBuckets, stream);
        CorruptPackets = NewCounter(f, SvMetrics.CorruptPackets, "Packets the decoder rejected and skipped", stream);
        SourceReconnects = NewCounter(f, SvMetrics.Reconnects, "Reconnect attempts of live sources, by outcome", stream, outcome);
        SourceState = NewGauge(f, SvMetrics.SourceState, "1 for the state each source is in, 0 for the others", stream, SvMetrics.LabelState);
        QueueDepth = NewGauge(f, SvMetrics.QueueDepth, "Frames waiting in each stage's channel", stream, stage);

        FramesAnalyzed = NewCounter(f, SvMetrics.FramesAnalyzed, "Frames through detection and tracking", stream);
        StageSeconds = NewHistogram(f, SvMetrics.StageSeconds, "Time per frame in a stage", SecondsBuckets, stream, stage);
        EndToEndSeconds = NewHistogram(f, SvMetrics.EndToEndSeconds, "Capture (decoded) to hand-over to the sinks", SecondsBuckets, stream);
        Events = NewCounter(f, SvMetrics.Events, "Events raised, by type", stream, SvMetrics.LabelType);
        StreamUp = NewGauge(f, SvMetrics.StreamUp, "1 while the stream runs, 0 once it ended, failed or stopped", stream);
        CameraTamperState = NewGauge(f, SvMetrics.CameraTamperState, "1 for the state the camera-tamper stage sees each camera in (normal, covered, defocused, moved, frozen), 0 for the others", stream, SvMetrics.LabelState);
        ActiveTracks = NewGauge(f, SvMetrics.ActiveTracks, "Confirmed tracks the stream's tracker follows in the latest frame (state Tracked)", stream);

        InferenceBatchSize = NewHistogram(f, SvMetrics.InferenceBatchSize, "Frames per detector run", BatchSizeBuckets);
        InferenceSeconds = NewHistogram(f, SvMetrics.InferenceSeconds, "Detector time per batch (preprocess, run, decode)", SecondsBuckets);
        DetectionsNonFinite = NewCounter(f, SvMetrics.DetectionsNonFinite, "Detections dropped because the model gave a NaN or infinite box or score");

        ClassifierCrops = NewCounter(f, SvMetrics.ClassifierCrops, "Track crops the classifier labelled", stream);
        ClassifierDeferred = NewCounter(f, SvMetrics.ClassifierDeferred, "Track crops left for a later frame because the classifier's per-second budget was spent", stream);
        ClassifierLabels = NewCounter(f, SvMetrics.ClassifierLabels, "Classifier answers, by best label", stream, SvMetrics.LabelLabel);
        ClassifierBatchSize = NewHistogram(f, SvMetrics.ClassifierBatchSize, "Crops per classifier run", BatchSizeBuckets);
        ClassifierSeconds = NewHistogram(f, SvMetrics.ClassifierSeconds, "Classifier time per batch (crop, resize, run, softmax)", SecondsBuckets);

        SinkWritten = NewCounter(f, SvMetrics.SinkWritten, "Items a sink wrote", stream, sink);
        SinkDropped = NewCounter(f, SvMetrics.SinkDropped, "Items a sink dropped (queue full, sink off, output down)", stream, sink);
        SinkErrors = NewCounter(f, SvMetrics.SinkErrors, "Sink write errors", stream, sink);
        SinkWriteSeconds = NewHistogram(f, SvMetrics.SinkWriteSeconds, "Time a sink took to write one item", SecondsBuckets, stream, sink);
        SinkQueueDepth = NewGauge(f, SvMetrics.SinkQueueDepth, "Items waiting in a sink's queue", stream, sink);
        SinkEventsSent = NewCounter(f, SvMetrics.SinkEventsSent, "Events an event sink delivered", stream, sink);
        SinkEventsDropped = NewCounter(f, SvMetrics.SinkEventsDropped, "Events an event sink gave up on", stream, sink, reason);
        SinkEventBufferDepth = NewGauge(f, SvMetrics.SinkEventBufferDepth, "Events an event sink holds (waiting or unacknowledged)", stream, sink);
        SinkRetries = NewCounter(f, SvMetrics.SinkRetries, "Delivery attempts after the first", stream, sink);
        SinkConnected = NewGauge(f, SvMetrics.SinkConnected, "1 while a sink's connection is up", stream, sink);
        SinkState = NewGauge(f, SvMetrics.SinkState, "A sink's state: 0 connected, 1 buffering (destination away, events held), 2 faulted (items dropped, retrying)", stream, sink);
        SinkReconnects = NewCounter(f, SvMetrics.SinkReconnects, "Connection attempts of a sink after the first", stream, sink, outcome);

        Registry.AddBeforeCollectCallback(RunCollectCallbacks);
    }

    public CollectorRegistry Registry { get; }

    public Counter FramesDecoded { get; }
    public Counter FramesDropped { get; }
    public Counter FramesSkipped { get; }
    public SvHistogram DecodeSeconds { get; }
    public Counter CorruptPackets { get; }
    public Counter SourceReconnects { get; }
    public Gauge SourceState { get; }
    public Gauge QueueDepth { get; }
    public Counter FramesAnalyzed { get; }
    public SvHistogram StageSeconds { get; }
    public SvHistogram EndToEndSeconds { get; }
    public Counter Events { get; }
    public Gauge StreamUp { get; }
    public Gauge ActiveTracks { get; }
    public Gauge CameraTamperState { get; }
    public SvHistogram InferenceBatchSize { get; }
    public SvHistogram InferenceSeconds { get; }
    public Counter DetectionsNonFinite { get; }
    public Counter ClassifierCrops { get; }
    public Counter ClassifierDeferred { get; }
    public Counter ClassifierLabels { get; }
    public SvHistogram ClassifierBatchSize { get; }
    public SvHistogram ClassifierSeconds { get; }
    public Counter SinkWritten { get; }
    public Counter SinkDropped { get; }
    public Counter SinkErrors { get; }
    public SvHistogram SinkWriteSeconds { get; }
    public Gauge SinkQueueDepth { get; }
    public Counter SinkEventsSent { get; }
    public Counter SinkEventsDropped { get; }
    public Gauge SinkEventBufferDepth { get; }
    public Counter SinkRetries { get; }
    public Gauge SinkConnected { get; }
    public Gauge SinkState { get; }
    public Counter SinkReconnects { get; }

    /// <summary>
    /// Runs <paramref name="update"/> before every collection (a scrape) until the returned registration is disposed: the
    /// way gauges that mirror live state get their values. It runs on the scraping thread and must be quick; it should set
    /// children it created beforehand (a child removed meanwhile then stays removed).
    /// </summary>
    public IDisposable OnCollect(Action update)
    {
        ArgumentNullException.ThrowIfNull(update);
        lock (_gate) _collectCallbacks = [.. _collectCallbacks, update];
        return new CollectRegistration(this, update);
    }

    /// <summary>
    /// Removes every series labelled with <paramref name="streamId"/> from every collector: a stream that was removed
    /// disappears from <c>/metrics</c>. Call it once nothing of the stream records any more.
    /// </summary>
    public void RemoveStream(string streamId)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        Action<string>[] removers;
        lock (_gate) removers = [.. _streamRemovers];
        foreach (var remove in removers) remove(streamId);
    }

    private void RunCollectCallbacks()
    {
        foreach (var update in Volatile.Read(ref _collectCallbacks)) update();
    }

    private void Unregister(Action update)
    {
        lock (_gate)
        {
            int i = Array.IndexOf(_collectCallbacks, update);
            if (i >= 0) _collectCallbacks = [.. _collectCallbacks[..i], .. _collectCallbacks[(i + 1)..]];
        }
    }

    private Counter NewCounter(MetricFactory f, string name, string help, params string[] labels) =>
        TrackStreamLabel(f.CreateCounter(name, help, new CounterConfiguration { LabelNames = labels }));

    private Gauge NewGauge(MetricFactory f, string name, string help, params string[] labels) =>
        TrackStreamLabel(f.CreateGauge(name, help, new GaugeConfiguration { LabelNames = labels }));

    private SvHistogram NewHistogram(MetricFactory f, string name, string help, IReadOnlyList<double> buckets, params string[] labels) =>
        new(TrackStreamLabel(f.CreateHistogram(name, help, new HistogramConfiguration { LabelNames = labels, Buckets = [.. buckets] })));

    /// <summary>Remembers how to remove a collector's series of one stream, when it has a stream label.</summary>
    private T TrackStreamLabel<T>(T collector) where T : Collector
    {
        int index = Array.IndexOf(collector.LabelNames, SvMetrics.LabelStream);
        if (index < 0) return collector;
        Action<string> remover = collector switch
        {
            Counter c => id => RemoveWhere(c, index, id),
            Gauge g => id => RemoveWhere(g, index, id),
            Histogram h => id => RemoveWhere(h, index, id),
            _ => throw new ArgumentException($"unexpected collector {collector.GetType().Name}", nameof(collector)),
        };
        lock (_gate) _streamRemovers.Add(remover);
        return collector;
    }

    private static void RemoveWhere<TChild>(Collector<TChild> collector, int index, string streamId) where TChild : ChildBase
    {
        foreach (var values in collector.GetAllLabelValues().Where(v => v[index] == streamId).ToList()) collector.RemoveLabelled(values);
    }

    private sealed class CollectRegistration(PipelineMetrics owner, Action update) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Unregister(update);
        }
    }
}

/// <summary>
/// A prometheus-net <see cref="Prometheus.Histogram"/> (explicit buckets; exported as <c>_bucket</c>, <c>_sum</c>,
/// <c>_count</c>) whose observations in-process listeners can also receive one by one (<see cref="Listen"/>): the
/// benchmarks report percentiles and per-frame timestamps, which buckets cannot give. Without a listener an observation
/// costs one volatile read more than the bare histogram.
/// </summary>
public sealed class SvHistogram
{
    private readonly object _gate = new();
    private Action<Series, double>? _listeners;

    internal SvHistogram(Histogram histogram) => Histogram = histogram;

    public Histogram Histogram { get; }
    public string Name => Histogram.Name;

    /// <summary>The series with these label values (in the order of the histogram's label names); cache it.</summary>
    public Series WithLabels(params string[] labelValues) => new(this, Histogram.WithLabels(labelValues), labelValues);

    /// <summary>Calls <paramref name="listener"/> with every observation (on the observing thread) until the result is disposed.</summary>
    public IDisposable Listen(Action<Series, double> listener)
    {
        ArgumentNullException.ThrowIfNull(listener);
        lock (_gate) _listeners += listener;
        return new Subscription(this, listener);
    }

    private void Unlisten(Action<Series, double> listener)
    {
        lock (_gate) _listeners -= listener;
    }

    /// <summary>One labelled series of the histogram.</summary>
    public sealed class Series
    {
        private readonly SvHistogram _owner;
        private readonly string[] _labelValues;

        internal Series(SvHistogram owner, Histogram.Child child, string[] labelValues)
        {
            _owner = owner;
            Child = child;
            _labelValues = labelValues;
        }

        public SvHistogram Histogram => _owner;
        public Histogram.Child Child { get; }
        public IReadOnlyList<string> LabelValues => _labelValues;

        /// <summary>The value of label <paramref name="name"/>, or "" when the histogram has no such label.</summary>
        public string Label(string name)
        {
            int i = Array.IndexOf(_owner.Histogram.LabelNames, name);
            return i < 0 ? "" : _labelValues[i];
        }

        public void Observe(double value)
        {
            Child.Observe(value);
            Volatile.Read(ref _owner._listeners)?.Invoke(this, value);
        }
    }

    private sealed class Subscription(SvHistogram owner, Action<Series, double> listener) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) owner.Unlisten(listener);
        }
    }
}
