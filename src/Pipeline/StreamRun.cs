using Microsoft.Extensions.Logging;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;

namespace StreamVision.Pipeline;

/// <summary>What a stream is doing.</summary>
public enum StreamStatus
{
    Starting,
    Running,
    /// <summary>Running, but at least one sink is faulted (its output is incomplete; it retries).</summary>
    Degraded,
    Ended,
    Failed,
    Stopped,
}

/// <summary>
/// One stream assembled by <see cref="PipelineBuilder"/>: its source, analysis loop and sinks. Independent of every other
/// stream: a failure here ends only this stream (<see cref="StreamStatus.Failed"/> with the reason). Owns the source and
/// the sink runners; the shutdown order lives here and nowhere else: stop the source, let the loop drain what was decoded,
/// complete every sink in parallel, all within one deadline (<see cref="StopAsync"/>).
/// </summary>
public sealed class StreamRun : IAsyncDisposable
{
    /// <summary>Share of the stop deadline after which the loop and the sinks stop draining and only finalise.</summary>
    private const double DrainShare = 0.75;

    private readonly VideoSource _source;
    private readonly StreamPipeline _pipeline;
    private readonly IReadOnlyList<SinkRunner> _sinks;
    private readonly DetectionBatcher? _batcher;
    private readonly ILogger _logger;
    private readonly PipelineMetrics _metrics;
    private readonly CancellationTokenSource _loopCts = new();
    private readonly CancellationTokenSource _drainCts = new();
    private readonly CancellationTokenSource _abandonCts = new();
    private readonly Prometheus.Gauge.Child _up;
    private Task? _run;
    private Task[]? _sinkCompletions;
    private int _started, _stopped, _disposed;

    internal StreamRun(string id, VideoSource source, StreamPipeline pipeline, IReadOnlyList<SinkRunner> sinks, DetectionBatcher? batcher,
        ILogger logger, PipelineMetrics metrics)
    {
        Id = id;
        _source = source;
        _pipeline = pipeline;
        _sinks = sinks;
        _batcher = batcher;
        _logger = logger;
        _metrics = metrics;
        _up = metrics.StreamUp.WithLabels(id);
        // Past the drain share of a stop's deadline the loop stops too: what it still holds is dropped, outputs are finalised.
        _drainCts.Token.Register(() => _loopCts.Cancel());
    }

    public string Id { get; }
    /// <summary>What the stream is doing: <see cref="StreamStatus.Degraded"/> while it runs with a faulted sink.</summary>
    public StreamStatus Status
    {
        get
        {
            var s = _status;
            return s == StreamStatus.Running && _sinks.Any(k => k.Health.State == SinkState.Faulted) ? StreamStatus.Degraded : s;
        }
        private set => _status = value;
    }

    private volatile StreamStatus _status = StreamStatus.Starting;

    /// <summary>
    /// After the run ended: why each output that was not finalised was not (a sink faulted at the end, finalising failed,
    /// or it was abandoned at the deadline). Empty when every output was finalised.
    /// </summary>
    public IReadOnlyList<string> NotFinalised =>
        _sinks.Select(s => s.NotFinalised).OfType<string>()
            .Concat(AbandonedSinks.Where(s => s.NotFinalised is null).Select(s => $"{s.Sink.Name}: still finalising at the shutdown deadline"))
            .ToList();
    /// <summary>Why the stream failed, as the API shows it (null unless <see cref="StreamStatus.Failed"/>).</summary>
    public string? Error { get; private set; }
    /// <summary>The exception that failed the stream (null unless <see cref="StreamStatus.Failed"/>).</summary>
    public Exception? Fault { get; private set; }
    public VideoSource Source => _source;
    public StreamStats Stats => _pipeline.Stats;
    public IReadOnlyList<SinkRunner> Sinks => _sinks;
    /// <summary>Completes when the loop has ended and every sink was completed or abandoned. Never faults.</summary>
    public Task Completion => _run ?? Task.CompletedTask;
    /// <summary>Frames per second over the last few seconds.</summary>
    public double Fps => Stats.Fps;
    /// <summary>Capture-to-analysed latency of the latest frame.</summary>
    public TimeSpan Latency => Stats.Latency;

    /// <summary>Called on the loop after each frame was handed to the sinks (frames analysed so far).</summary>
    public Action<long>? FrameAnalyzed
    {
        get => _pipeline.FrameAnalyzed;
        set => _pipeline.FrameAnalyzed = value;
    }

    /// <summary>Sinks abandoned at a stop's deadline and still busy (left to finish on their own; disposed when they do).</summary>
    public IReadOnlyList<SinkRunner> AbandonedSinks =>
        _sinkCompletions is { } done ? _sinks.Where((_, i) => !done[i].IsCompleted).ToList() : [];

    /// <summary>Starts the source (unless the caller already did) and the loop. Once only, and never after a stop.</summary>
    public StreamRun Start()
    {
        if (Volatile.Read(ref _stopped) != 0) throw new InvalidOperationException($"stream '{Id}' was stopped");
        if (Interlocked.Exchange(ref _started, 1) != 0) throw new InvalidOperationException($"stream '{Id}' is already started");
        if (!_source.IsStarted) _source.Start();
        _run = RunAsync();
        return this;
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        Status = StreamStatus.Running;
        _up.Set(1);
        try
        {
            try
            {
                await _pipeline.RunAsync(_loopCts.Token).ConfigureAwait(false);
            }
            finally
            {
                _up.Set(0); // before the status says so
            }
            Status = Volatile.Read(ref _stopped) != 0 ? StreamStatus.Stopped : StreamStatus.Ended;
        }
        catch (OperationCanceledException) when (_loopCts.IsCancellationRequested)
        {
            Status = StreamStatus.Stopped;
        }
        catch (Exception ex)
        {
            Fault = ex;
            Error = ex is StreamVisionException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            Status = StreamStatus.Failed;
            // Expected failures (a camera gone, a file unreadable) are one line; anything else carries its stack, once.
            if (ex is StreamVisionException) _logger.LogError("stream {Stream} failed: {Error}", Id, Error);
            else _logger.LogError(ex, "stream {Stream} failed: {Error}", Id, Error);
        }
        finally
        {
            if (_batcher?.Detector is MotionDetector motion) motion.ForgetStream(Id);
            await CompleteSinksAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Completes every sink in parallel: each drains its queue and finalises its output. After a stop's drain share the
    /// queues are dropped and only finalising goes on; a sink still busy at the deadline (a blocked encoder or network
    /// write) is abandoned: logged, and left to finish on its own.
    /// </summary>
    private async Task CompleteSinksAsync()
    {
        var tasks = _sinks.Select(s => s.CompleteAsync(_drainCts.Token, _abandonCts.Token).AsTask()).ToArray();
        _sinkCompletions = tasks;
        try
        {
            await Task.WhenAll(tasks).WaitAsync(_abandonCts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_abandonCts.IsCancellationRequested)
        {
            var late = _sinks.Where((_, i) => !tasks[i].IsCompleted).Select(s => s.Sink.Name).ToList();
            if (late.Count > 0)
                _logger.LogWarning("stream {Stream}: sink(s) {Sinks} did not finish within the shutdown deadline; abandoned (their outputs were told to finalise)",
                    Id, string.Join(", ", late));
        }
    }

    /// <summary>
    /// Stops the source, lets the loop and the sinks finish what is queued, and finalises every output, all within
    /// <paramref name="deadline"/>: after three quarters of it queued frames are dropped, at the deadline unfinished sinks are
    /// abandoned. Idempotent; concurrent callers wait for the first.
    /// </summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            await Completion.ConfigureAwait(false);
            return;
        }
        if (deadline < TimeSpan.Zero) deadline = TimeSpan.Zero;
        _drainCts.CancelAfter(deadline * DrainShare);
        _abandonCts.CancelAfter(deadline);
        await _source.StopAsync().ConfigureAwait(false);
        if (_run is null)
        {
            // Never started: nothing was queued; finalise the outputs the sinks may have opened.
            await CompleteSinksAsync().ConfigureAwait(false);
            Status = StreamStatus.Stopped;
            return;
        }
        await _run.ConfigureAwait(false);
        if (_drainCts.IsCancellationRequested)
            _logger.LogWarning("stream {Stream}: draining took longer than {Seconds} s; what was still queued was dropped", Id, (deadline * DrainShare).TotalSeconds);
        if (_status is StreamStatus.Running or StreamStatus.Starting) Status = StreamStatus.Stopped;
    }

    /// <summary>
    /// Stops (5 s deadline when not stopped before), disposes the sinks and the source, removes the stream's metric series.
    /// Never waits for an abandoned sink: it is disposed once it finishes on its own (frames it holds return to their pool then).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        var done = _sinkCompletions;
        bool abandoned = false;
        for (int i = 0; i < _sinks.Count; i++)
        {
            if (done is not null && !done[i].IsCompleted)
            {
                abandoned = true;
                _ = DisposeWhenFinishedAsync(_sinks[i], done[i]);
            }
            else
            {
                await _sinks[i].DisposeAsync().ConfigureAwait(false);
            }
        }
        await _source.DisposeAsync().ConfigureAwait(false);
        _metrics.RemoveStream(Id);
        if (abandoned) return; // an abandoned sink may still look at the tokens (all cancelled by now); the GC takes them
        _loopCts.Dispose();
        _drainCts.Dispose();
        _abandonCts.Dispose();
    }

    private async Task DisposeWhenFinishedAsync(SinkRunner sink, Task completion)
    {
        try
        {
            await completion.ConfigureAwait(false);
            await sink.DisposeAsync().ConfigureAwait(false);
            _logger.LogInformation("stream {Stream}: abandoned sink {Sink} finished after all and was disposed", Id, sink.Sink.Name);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "stream {Stream}: abandoned sink {Sink} failed while finishing", Id, sink.Sink.Name);
        }
    }
}
