using Prometheus;
using StreamVision.Core;

namespace StreamVision.Ingest;

/// <summary>
/// One source's series on a <see cref="PipelineMetrics"/>: its counters and decode-time histogram (created at zero, so a
/// rate() is defined before the first drop), and its state and queue-depth gauges, set at each collection while the source
/// runs and removed when it is disposed. The stream's counters stay until the stream's owner removes the stream
/// (<see cref="PipelineMetrics.RemoveStream"/>).
/// </summary>
internal sealed class IngestMetrics : IDisposable
{
    public const string Stage = "ingest";
    public const string ReasonQueueFull = "queue_full";
    public const string ReasonPoolExhausted = "pool_exhausted";
    public const string ReasonMaxFps = "max_fps";

    private static readonly SourceState[] s_states = Enum.GetValues<SourceState>();

    private readonly VideoSource _source;
    private readonly PipelineMetrics _metrics;
    private readonly object _gate = new();
    private Gauge.Child[] _state = [];
    private Gauge.Child? _queueDepth;
    private IDisposable? _collect;
    private bool _disposed;

    public IngestMetrics(PipelineMetrics metrics, VideoSource source)
    {
        _metrics = metrics;
        _source = source;
        string id = source.StreamId;
        FramesDecoded = metrics.FramesDecoded.WithLabels(id);
        DroppedQueueFull = metrics.FramesDropped.WithLabels(id, Stage, ReasonQueueFull);
        DroppedPoolExhausted = metrics.FramesDropped.WithLabels(id, Stage, ReasonPoolExhausted);
        SkippedMaxFps = metrics.FramesSkipped.WithLabels(id, ReasonMaxFps);
        CorruptPackets = metrics.CorruptPackets.WithLabels(id);
        DecodeSeconds = metrics.DecodeSeconds.WithLabels(id);
        if (source.IsLive)
        {
            ReconnectOk = metrics.SourceReconnects.WithLabels(id, "ok");
            ReconnectFailed = metrics.SourceReconnects.WithLabels(id, "failed");
        }
    }

    public Counter.Child FramesDecoded { get; }
    public Counter.Child DroppedQueueFull { get; }
    public Counter.Child DroppedPoolExhausted { get; }
    public Counter.Child SkippedMaxFps { get; }
    public Counter.Child CorruptPackets { get; }
    public SvHistogram.Series DecodeSeconds { get; }
    /// <summary>Live sources only (null for files).</summary>
    public Counter.Child? ReconnectOk { get; }
    public Counter.Child? ReconnectFailed { get; }

    /// <summary>From now on the state and queue-depth gauges follow the source at each collection.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (_disposed || _collect is not null) return;
            string id = _source.StreamId;
            _state = s_states.Select(s => _metrics.SourceState.WithLabels(id, StateName(s))).ToArray();
            _queueDepth = _metrics.QueueDepth.WithLabels(id, Stage);
            Update();
            _collect = _metrics.OnCollect(Update);
        }
    }

    /// <summary>The gauges stop and their series go (a disposed source has no state or queue to report). Idempotent.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _collect?.Dispose();
            foreach (var g in _state) g.Remove();
            _queueDepth?.Remove();
        }
    }

    private void Update()
    {
        var current = _source.State;
        var state = _state;
        for (int i = 0; i < state.Length; i++) state[i].Set(s_states[i] == current ? 1 : 0);
        _queueDepth?.Set(_source.QueueDepth);
    }

    public static string StateName(SourceState state) => state switch
    {
        SourceState.Idle => "idle",
        SourceState.Connecting => "connecting",
        SourceState.Streaming => "streaming",
        SourceState.Backoff => "backoff",
        SourceState.Ended => "ended",
        SourceState.Failed => "failed",
        _ => "unknown",
    };
}
