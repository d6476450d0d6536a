using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>What a sink's queue does when it is full.</summary>
public enum SinkQueuePolicy
{
    /// <summary>The pipeline waits (lossless: offline annotation of files).</summary>
    Wait,
    /// <summary>The oldest queued item is dropped and counted (live: never stall detection).</summary>
    DropOldest,
}

/// <summary>Queue of one sink.</summary>
public sealed record SinkRunnerOptions
{
    /// <summary>Items the queue holds (1..1024). Each holds a frame, so this bounds memory. Default 16.</summary>
    [OptionShorthand, OptionRange(1, 1024)]
    public int Capacity { get; init; } = 16;
    /// <summary>What a full queue does. Default <see cref="SinkQueuePolicy.DropOldest"/>.</summary>
    [OptionIgnore("from the stream: files wait (lossless), live sources drop the oldest")]
    public SinkQueuePolicy Policy { get; init; } = SinkQueuePolicy.DropOldest;
    /// <summary>Consecutive write errors after which the sink is switched off (its items are then dropped and counted). 0 = never. Default 10.</summary>
    [OptionRange(0, 1_000_000)]
    public int MaxConsecutiveErrors { get; init; } = 10;
}

/// <summary>
/// Runs one sink on its own loop behind a bounded channel. <see cref="TryEnqueue"/>/<see cref="EnqueueAsync"/> take ownership
/// of the item; the runner disposes it after the sink saw it, or when it is dropped. A failing sink logs, counts and goes on;
/// it never throws into the pipeline.
/// </summary>
public sealed class SinkRunner : IAsyncDisposable
{
    private readonly ISink _sink;
    private readonly SinkRunnerOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<AnalyzedFrame> _queue;
    private readonly Task _loop;
    private readonly SinkMetrics _metrics;
    private readonly CancellationTokenSource _abort = new();
    private readonly IDisposable _depthGauge;
    private readonly StackTraceOnce _stackLogged = new();
    private int _consecutiveErrors;
    private int _disposed;
    private long _written, _dropped, _errors;

    /// <param name="metrics">Where written, dropped, errors, write time and queue depth are recorded (labels stream, sink); null = <see cref="PipelineMetrics.Default"/>.</param>
    public SinkRunner(ISink sink, string streamId, SinkRunnerOptions? options = null, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        _sink = sink;
        _options = options ?? new SinkRunnerOptions();
        if (_options.Capacity is < 1 or > 1024) throw new OptionsException("sinks.queue", $"must be 1..1024, got {_options.Capacity}");
        _logger = logger ?? NullLogger.Instance;
        StreamId = streamId;
        _metrics = new SinkMetrics(metrics, streamId, sink.Name);
        // Created at zero so that rate() is defined before the first write, drop or error.
        _ = (_metrics.Written, _metrics.Dropped, _metrics.Errors);
        _queue = _options.Policy == SinkQueuePolicy.Wait
            ? Channel.CreateBounded<AnalyzedFrame>(new BoundedChannelOptions(_options.Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true })
            : Channel.CreateBounded<AnalyzedFrame>(new BoundedChannelOptions(_options.Capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true }, OnDropped);
        _depthGauge = _metrics.Register(SinkMetrics.Gauge.QueueDepth, () => _queue.Reader.Count);
        _loop = Task.Run(RunAsync);
    }

    public ISink Sink => _sink;
    public string StreamId { get; }
    public long Written => Interlocked.Read(ref _written);
    public long Dropped => Interlocked.Read(ref _dropped);
    public long Errors => Interlocked.Read(ref _errors);
    public int QueueDepth => _queue.Reader.Count;
    /// <summary>True once the sink was switched off after too many consecutive errors.</summary>
    public bool IsFaulted { get; private set; }

    /// <summary>Queues an item without waiting. Drop mode always accepts (dropping the oldest); wait mode returns false when full.</summary>
    public bool TryEnqueue(AnalyzedFrame item)
    {
        if (_queue.Writer.TryWrite(item)) return true;
        return false;
    }

    /// <summary>Queues an item, waiting for room in wait mode. Takes ownership of the item even when it throws.</summary>
    public async ValueTask EnqueueAsync(AnalyzedFrame item, CancellationToken ct)
    {
        try
        {
            await _queue.Writer.WriteAsync(item, ct).ConfigureAwait(false);
        }
        catch
        {
            Drop(item);
            throw;
        }
    }

    private void OnDropped(AnalyzedFrame item) => Drop(item);

    private void Drop(AnalyzedFrame item)
    {
        item.Dispose();
        Interlocked.Increment(ref _dropped);
        _metrics.Dropped.Inc();
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        var ct = _abort.Token;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    if (IsFaulted)
                    {
                        Drop(item);
                        continue;
                    }
                    long start = Stopwatch.GetTimestamp();
                    try
                    {
                        await _sink.WriteAsync(item, ct).ConfigureAwait(false);
                        _consecutiveErrors = 0;
                        Interlocked.Increment(ref _written);
                        _metrics.Written.Inc();
                        _metrics.WriteSeconds.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                    {
                        RecordError(ex, "write");
                    }
                    finally
                    {
                        item.Dispose();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        while (reader.TryRead(out var left)) Drop(left);
    }

    private void RecordError(Exception ex, string what)
    {
        Interlocked.Increment(ref _errors);
        _metrics.Errors.Inc();
        _consecutiveErrors++;
        // The first failure of a kind carries its stack trace; repeats are one line each.
        if (_stackLogged.IsFirst(ex)) _logger.LogError(ex, "stream {Stream}: sink {Sink} {What} failed: {Error}", StreamId, _sink.Name, what, ex.Message);
        else _logger.LogError("stream {Stream}: sink {Sink} {What} failed: {Error}", StreamId, _sink.Name, what, ex.Message);
        if (_options.MaxConsecutiveErrors > 0 && _consecutiveErrors >= _options.MaxConsecutiveErrors && !IsFaulted)
        {
            IsFaulted = true;
            _logger.LogError("stream {Stream}: sink {Sink} switched off after {Count} consecutive errors; its items are dropped from now on",
                StreamId, _sink.Name, _consecutiveErrors);
        }
    }

    /// <summary>
    /// Lets the queue drain, then completes the sink (finalises its output). Errors are logged, never thrown.
    /// </summary>
    /// <param name="ct">Stops draining: what is still queued is dropped and counted, the sink is finalised.</param>
    /// <param name="abandon">Handed to the sink's <see cref="ISink.CompleteAsync"/>: the caller gives up waiting for it
    /// (a sink that honours it stops finalising; one that does not is left to finish on its own).</param>
    public async ValueTask CompleteAsync(CancellationToken ct = default, CancellationToken abandon = default)
    {
        _queue.Writer.TryComplete();
        using (ct.Register(() => _abort.Cancel()))
        {
            await _loop.ConfigureAwait(false);
        }
        try
        {
            await _sink.CompleteAsync(abandon).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (abandon.IsCancellationRequested)
        {
            _logger.LogWarning("stream {Stream}: sink {Sink} stopped finalising at the deadline", StreamId, _sink.Name);
        }
        catch (Exception ex)
        {
            RecordError(ex, "finalise");
        }
    }

    /// <summary>Stops without draining (dropping what is queued), finalises the sink, disposes it. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (!_loop.IsCompleted)
        {
            _queue.Writer.TryComplete();
            _abort.Cancel();
            await _loop.ConfigureAwait(false);
            try
            {
                await _sink.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                RecordError(ex, "finalise");
            }
        }
        try
        {
            await _sink.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            RecordError(ex, "dispose");
        }
        _depthGauge.Dispose();
        _abort.Dispose();
    }
}
