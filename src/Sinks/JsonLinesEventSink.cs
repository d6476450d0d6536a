using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>Events as JSON lines (one object per line, schema <see cref="EventJson.SchemaVersion"/>).</summary>
public sealed record JsonLinesOptions
{
    /// <summary>
    /// The file events are appended to (created with its folder when missing). In a configuration file <c>{instance}</c>
    /// and <c>{stream}</c> are replaced.
    /// </summary>
    [OptionShorthand]
    public required string Path { get; init; }
    /// <summary>Bytes after which the file is rotated to <c>NAME.1</c> (older ones shift up); 0 = never. Default 0.</summary>
    [OptionRange(0, long.MaxValue, Unit = "bytes")]
    public long RotateBytes { get; init; }
    /// <summary>Rotated files kept (<c>NAME.1</c> .. <c>NAME.N</c>); older ones are deleted. 0 = none kept. Default 5.</summary>
    [OptionRange(0, 1000)]
    public int Keep { get; init; } = 5;
    /// <summary>
    /// How often events reach the file, milliseconds: 0 = each frame's events are written as soon as they are produced
    /// (one write call per frame, whole lines only); N = gathered and written at most every N ms (fewer system calls, up
    /// to N ms lost if the process is killed). Default 0.
    /// </summary>
    [OptionRange(0, 60000)]
    public double FlushIntervalMs { get; init; }
    /// <summary>After a failed write (disk full), seconds before the file is opened again; events meanwhile are dropped and counted. Default 5.</summary>
    [OptionRange(0, 3600)]
    public double RetrySeconds { get; init; } = 5;
    /// <summary>This instance's id (the <c>instance</c> field of each event). Default "local".</summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "sinks.events")
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new OptionsException($"{path}.path", "is required");
        if (!(FlushIntervalMs is >= 0 and <= 60000)) throw new OptionsException($"{path}.flush_interval_ms", $"must be 0..60000, got {FlushIntervalMs}");
        if (!(RetrySeconds is >= 0 and <= 3600)) throw new OptionsException($"{path}.retry_seconds", $"must be 0..3600, got {RetrySeconds}");
    }
}

/// <summary>
/// Appends every event of every frame to a JSON-lines file, rotating by size. Whole lines only, also when the process is
/// killed or the disk fills up (<see cref="LineFile"/>); events that cannot be written are dropped and counted
/// (<c>sv_sink_events_dropped_total{reason="write_failed"}</c>) and the file is retried.
/// </summary>
public sealed class JsonLinesEventSink : ISink, ISinkHealth, IEventSinkCounts
{
    private readonly JsonLinesOptions _options;
    private readonly PipelineMetrics? _pipelineMetrics;
    private readonly LineFile _file;
    private SinkMetrics? _metrics;

    /// <param name="metrics">Where dropped events are counted; null = <see cref="PipelineMetrics.Default"/>.</param>
    public JsonLinesEventSink(JsonLinesOptions options, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _pipelineMetrics = metrics;
        _file = new LineFile(options.Path, append: true, options.FlushIntervalMs, options.RetrySeconds)
        {
            Dropped = (n, _) => _metrics?.EventsDropped("write_failed").Inc(n),
        };
    }

    public string Name => "events";
    /// <summary>Events in the file.</summary>
    public long EventsWritten => _file.LinesWritten;
    /// <summary>Events that could not be written (disk full) and were dropped.</summary>
    public long EventsDropped => _file.LinesDropped;
    long IEventSinkCounts.EventsDelivered => EventsWritten;
    long IEventSinkCounts.EventsGivenUp => EventsDropped;
    int IEventSinkCounts.EventsBuffered => _file.PendingLines;

    public SinkHealth Health => _file.Health;

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        _metrics ??= new SinkMetrics(_pipelineMetrics, item.StreamId, Name);
        foreach (var e in item.Events) _file.Append(EventJson.Serialize(e, _options.InstanceId));
        if (_file.EndBatch() && _options.RotateBytes > 0 && _file.Length >= _options.RotateBytes) _file.Reopen(Rotate);
        return ValueTask.CompletedTask;
    }

    private void Rotate()
    {
        for (int i = _options.Keep - 1; i >= 1; i--)
        {
            string from = $"{_options.Path}.{i}", to = $"{_options.Path}.{i + 1}";
            if (File.Exists(from)) File.Move(from, to, overwrite: true);
        }
        if (_options.Keep > 0) File.Move(_options.Path, $"{_options.Path}.1", overwrite: true);
        else File.Delete(_options.Path);
    }

    public ValueTask CompleteAsync(CancellationToken ct)
    {
        _file.Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _file.Flush();
        _file.Dispose();
        return ValueTask.CompletedTask;
    }
}
