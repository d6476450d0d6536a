using System.Diagnostics;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>How frames from all streams are gathered into detector batches.</summary>
public sealed record BatcherOptions
{
    /// <summary>Most frames per batch (1..64). Bigger batches raise throughput on GPUs and add latency. Default 8.</summary>
    [OptionKey("max_size"), OptionRange(1, 64)]
    public int MaxBatch { get; init; } = 8;
    /// <summary>Longest a frame waits for the batch to fill, milliseconds. 0 runs whatever has arrived. Default 5 ms.</summary>
    [OptionKey("max_wait_ms"), OptionRange(0, 1000)]
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "detector.batch")
    {
        if (MaxBatch is < 1 or > 64) throw new OptionsException($"{path}.max_size", $"must be 1..64, got {MaxBatch}");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(1)) throw new OptionsException($"{path}.max_wait_ms", $"must be 0..1000, got {MaxWait.TotalMilliseconds}");
    }
}

/// <summary>
/// The shared detection stage: one dedicated thread gathers frames from every stream's <see cref="BatcherClient"/> into
/// batches of up to <see cref="BatcherOptions.MaxBatch"/> or until <see cref="BatcherOptions.MaxWait"/> passes, runs the
/// detector, and completes each request. A batch also closes as soon as every live client has a frame in it (nobody else
/// can add one), so a single stream never waits. Requests are served in arrival order and each client has one request in
/// flight, so each stream gets its results in order. A detector error fails only the requests of that batch.
/// Frames are borrowed: the caller keeps its reference until its <c>DetectAsync</c> completes.
/// </summary>
public sealed class DetectionBatcher : IAsyncDisposable
{
    private readonly SvHistogram.Series _batchSize;
    private readonly SvHistogram.Series _inferenceSeconds;
    private readonly IDetector _detector;
    private readonly BatcherOptions _options;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    // Each client has at most one request in flight, so the queue never holds more than the number of streams.
    private readonly Queue<BatcherClient> _queue = new();
    private readonly List<BatcherClient> _batch = new();
    private readonly List<Frame> _frames = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<Frame> _inlineFrames = new(1);
    private bool _stopping;
    private bool _detecting; // the detector is in use (by the loop's batch or an inline request); guarded by _gate
    private int _liveClients;
    private long _batches;
    private long _framesDetected;
    private long _nonFiniteSeen;   // the OnnxDetector's count already added to the metric
    private long _nonFinite;
    private readonly Prometheus.Counter.Child _nonFiniteCounter;

    /// <param name="metrics">Where batch sizes and detector times are recorded; null = <see cref="PipelineMetrics.Default"/>.</param>
    public DetectionBatcher(IDetector detector, BatcherOptions? options = null, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(detector);
        metrics ??= PipelineMetrics.Default;
        _batchSize = metrics.InferenceBatchSize.WithLabels();
        _inferenceSeconds = metrics.InferenceSeconds.WithLabels();
        _nonFiniteCounter = metrics.DetectionsNonFinite.WithLabels();
        _detector = detector;
        _options = options ?? new BatcherOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        // A thread of its own: Detect is long synchronous CPU (or GPU-wait) work that must not hold a thread-pool thread.
        _thread = new Thread(Run) { IsBackground = true, Name = "sv-detector" };
        _thread.Start();
    }

    public IDetector Detector => _detector;
    public int MaxBatch => _options.MaxBatch;
    /// <summary>Batches run so far (including failed ones).</summary>
    public long Batches => Interlocked.Read(ref _batches);
    /// <summary>Frames detected so far (frames of failed batches are not counted).</summary>
    public long FramesDetected => Interlocked.Read(ref _framesDetected);

    /// <summary>A handle for one stream. Not thread-safe: one request at a time per client. Dispose it when the stream ends.</summary>
    public BatcherClient CreateClient(string streamId)
    {
        ArgumentNullException.ThrowIfNull(streamId);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping, this);
            _liveClients++;
        }
        return new(this, streamId);
    }

    internal void ReleaseClient()
    {
        lock (_gate)
        {
            _liveClients--;
            Monitor.Pulse(_gate); // a waiting batch may now hold every live client
        }
    }

    /// <summary>
    /// Queues a request, or — when its stream is the only one and the detector is idle — claims the detector for the
    /// caller to run inline (returns true): with nothing to batch with, handing the frame to the loop's thread only adds
    /// a thread switch per frame.
    /// </summary>
    internal bool EnqueueOrClaim(BatcherClient client)
    {
        lock (_gate)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(DetectionBatcher), "the detection stage has stopped");
            if (_liveClients == 1 && _queue.Count == 0 && !_detecting)
            {
                _detecting = true;
                return true;
            }
            _queue.Enqueue(client);
            Monitor.Pulse(_gate);
            return false;
        }
    }

    /// <summary>Runs one frame on the caller's thread after <see cref="EnqueueOrClaim"/> returned true.</summary>
    internal Detections DetectInline(Frame frame)
    {
        try
        {
            _inlineFrames.Clear();
            _inlineFrames.Add(frame);
            return DetectChecked(_inlineFrames)[0];
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "detector {Detector} failed on a frame of {Stream}", _detector.Name, frame.StreamId);
            throw;
        }
        finally
        {
            _inlineFrames.Clear();
            lock (_gate)
            {
                _detecting = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    private void Run()
    {
        long maxWaitTicks = (long)(_options.MaxWait.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    while (_queue.Count == 0 && !_stopping) Monitor.Wait(_gate);
                    if (_stopping) break;
                    long deadline = Stopwatch.GetTimestamp() + maxWaitTicks;
                    while (true)
                    {
                        while (_batch.Count < _options.MaxBatch && _queue.TryDequeue(out var c)) _batch.Add(c);
                        if (_stopping || _batch.Count >= _options.MaxBatch || _batch.Count >= _liveClients) break;
                        long remaining = deadline - Stopwatch.GetTimestamp();
                        if (remaining <= 0) break;
                        // Woken early by a new request or a client leaving; MaxWait is at most 1 s.
                        Monitor.Wait(_gate, TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(remaining * 1000.0 / Stopwatch.Frequency))));
                    }
                    // An inline request may hold the detector: wait for it (it is one frame).
                    while (_detecting && !_stopping) Monitor.Wait(_gate);
                    if (_stopping) break;
                    _detecting = true;
                }
                try
                {
                    RunBatch();
                }
                finally
                {
                    lock (_gate)
                    {
                        _detecting = false;
                        Monitor.PulseAll(_gate);
                    }
                }
            }
        }
        finally
        {
            // Anything still queued at shutdown fails rather than hanging its stream.
            var stopped = new ObjectDisposedException(nameof(DetectionBatcher), "the detection stage stopped");
            lock (_gate)
            {
                _stopping = true;
                while (_queue.TryDequeue(out var c)) _batch.Add(c);
            }
            foreach (var c in _batch) c.Fail(stopped);
            _batch.Clear();
            _stopped.TrySetResult();
        }
    }

    private void RunBatch()
    {
        _frames.Clear();
        foreach (var c in _batch) _frames.Add(c.PendingFrame!);
        try
        {
            var results = DetectChecked(_frames);
            for (int i = 0; i < _batch.Count; i++) _batch[i].Complete(results[i]);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "detector {Detector} failed on a batch of {Count}", _detector.Name, _batch.Count);
            foreach (var c in _batch) c.Fail(ex);
        }
        finally
        {
            _batch.Clear();
            _frames.Clear();
        }
    }

    /// <summary>Runs the detector on <paramref name="frames"/>, checks what it returned, records the metrics.</summary>
    private Detections[] DetectChecked(List<Frame> frames)
    {
        long start = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _batches);
        var results = _detector.Detect(frames);
        if (results is null || results.Length != frames.Count)
            throw new InvalidOperationException($"detector {_detector.Name} returned {results?.Length ?? 0} results for {frames.Count} frames");
        for (int i = 0; i < results.Length; i++)
        {
            var r = results[i] ?? throw new InvalidOperationException($"detector {_detector.Name} returned a null result");
            if (HasNonFinite(r))
            {
                // Any detector (a custom one too): NaN or infinite rows are dropped and counted, never tracked or written.
                var kept = r.Where(k => OnnxDetector.IsFinite(r.Boxes[k], r.Scores[k]));
                CountNonFinite(r.Count - kept.Count);
                results[i] = kept;
            }
        }
        if (_detector is OnnxDetector onnx && onnx.NonFiniteDropped is var seen && seen != _nonFiniteSeen)
        {
            CountNonFinite(seen - _nonFiniteSeen);
            _nonFiniteSeen = seen;
        }
        _inferenceSeconds.Observe(Stopwatch.GetElapsedTime(start).TotalSeconds);
        _batchSize.Observe(frames.Count);
        Interlocked.Add(ref _framesDetected, frames.Count);
        return results;
    }

    /// <summary>Detections dropped because their box or score was NaN or infinite (<c>sv_detections_nonfinite_dropped_total</c>).</summary>
    public long NonFiniteDropped => Interlocked.Read(ref _nonFinite);

    private void CountNonFinite(long n)
    {
        Interlocked.Add(ref _nonFinite, n);
        _nonFiniteCounter.Inc(n);
    }

    private static bool HasNonFinite(Detections d)
    {
        for (int i = 0; i < d.Count; i++)
            if (!OnnxDetector.IsFinite(d.Boxes[i], d.Scores[i])) return true;
        return false;
    }

    /// <summary>
    /// Stops the stage: the batch being detected completes, queued requests fail with <see cref="ObjectDisposedException"/>,
    /// later requests throw it. Idempotent. Does not dispose the detector.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.PulseAll(_gate);
        }
        await _stopped.Task.ConfigureAwait(false);
    }
}

/// <summary>
/// One stream's connection to the <see cref="DetectionBatcher"/>. <see cref="DetectAsync"/> returns a reusable value task:
/// no allocation per frame. One request at a time. Dispose it when the stream ends so batches stop waiting for it.
/// </summary>
public sealed class BatcherClient : IValueTaskSource<Detections>, IDisposable
{
    private readonly DetectionBatcher _owner;
    private ManualResetValueTaskSourceCore<Detections> _core = new() { RunContinuationsAsynchronously = true };
    private int _busy;
    private int _disposed;

    internal BatcherClient(DetectionBatcher owner, string streamId)
    {
        _owner = owner;
        StreamId = streamId;
    }

    public string StreamId { get; }
    internal Frame? PendingFrame { get; private set; }

    /// <summary>Detects objects in <paramref name="frame"/> (borrowed until the task completes).</summary>
    public ValueTask<Detections> DetectAsync(Frame frame)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _busy, 1) != 0) throw new InvalidOperationException($"stream {StreamId} already has a detection in flight");
        _core.Reset();
        PendingFrame = frame;
        bool inline;
        try
        {
            inline = _owner.EnqueueOrClaim(this);
        }
        catch
        {
            PendingFrame = null;
            Volatile.Write(ref _busy, 0);
            throw;
        }
        if (!inline) return new ValueTask<Detections>(this, _core.Version);
        try
        {
            return new ValueTask<Detections>(_owner.DetectInline(frame));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<Detections>(ex);
        }
        finally
        {
            PendingFrame = null;
            Volatile.Write(ref _busy, 0);
        }
    }

    internal void Complete(Detections d)
    {
        PendingFrame = null;
        Volatile.Write(ref _busy, 0);
        _core.SetResult(d);
    }

    internal void Fail(Exception ex)
    {
        PendingFrame = null;
        Volatile.Write(ref _busy, 0);
        _core.SetException(ex);
    }

    /// <summary>Leaves the batcher: batches no longer wait for this stream. A request in flight still completes. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _owner.ReleaseClient();
    }

    Detections IValueTaskSource<Detections>.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<Detections>.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource<Detections>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
