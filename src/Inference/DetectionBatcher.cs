using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>How frames from all streams are gathered into detector batches.</summary>
public sealed record BatcherOptions
{
    /// <summary>Most frames per batch (1..64). Bigger batches raise throughput on GPUs and add latency. Default 8.</summary>
    public int MaxBatch { get; init; } = 8;
    /// <summary>Longest a frame waits for the batch to fill. 0 runs whatever has arrived. Default 5 ms.</summary>
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(5);

    public void Validate()
    {
        if (MaxBatch is < 1 or > 64) throw new OptionsException("detector.batch.max_size", $"must be 1..64, got {MaxBatch}");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(1)) throw new OptionsException("detector.batch.max_wait_ms", $"must be 0..1000, got {MaxWait.TotalMilliseconds}");
    }
}

/// <summary>
/// The shared detection stage: one loop gathers frames from every stream's <see cref="BatcherClient"/> into batches of up to
/// <see cref="BatcherOptions.MaxBatch"/> or until <see cref="BatcherOptions.MaxWait"/> passes, runs the detector, and
/// completes each request. Requests are served in arrival order, so each stream gets its results in order.
/// Frames are borrowed: the caller keeps its reference until its <c>DetectAsync</c> completes.
/// </summary>
public sealed class DetectionBatcher : IAsyncDisposable
{
    private static readonly Histogram<int> s_batchSize = SvMetrics.Meter.CreateHistogram<int>(SvMetrics.InferenceBatchSize, "{frame}", "Frames per detector run");
    private static readonly Histogram<double> s_inferenceSeconds = SvMetrics.Meter.CreateHistogram<double>(SvMetrics.InferenceSeconds, "s", "Detector time per batch (preprocess, run, decode)");

    private readonly IDetector _detector;
    private readonly BatcherOptions _options;
    private readonly ILogger _logger;
    private readonly Channel<BatcherClient> _requests;
    private readonly Task _loop;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<BatcherClient> _batch = new();
    private readonly List<Frame> _frames = new();
    private int _disposed;

    public DetectionBatcher(IDetector detector, BatcherOptions? options = null, ILogger? logger = null)
    {
        _detector = detector;
        _options = options ?? new BatcherOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        // Each client has at most one request in flight, so the queue never holds more than the number of streams.
        _requests = Channel.CreateUnbounded<BatcherClient>(new UnboundedChannelOptions { SingleReader = true });
        _loop = Task.Factory.StartNew(RunAsync, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();
    }

    public IDetector Detector => _detector;
    public int MaxBatch => _options.MaxBatch;
    /// <summary>Batches run so far.</summary>
    public long Batches { get; private set; }
    /// <summary>Frames detected so far.</summary>
    public long FramesDetected { get; private set; }

    /// <summary>A handle for one stream. Not thread-safe: one request at a time per client.</summary>
    public BatcherClient CreateClient(string streamId) => new(this, streamId);

    internal void Enqueue(BatcherClient client)
    {
        if (!_requests.Writer.TryWrite(client)) throw new ObjectDisposedException(nameof(DetectionBatcher), "the detection stage has stopped");
    }

    private async Task RunAsync()
    {
        var reader = _requests.Reader;
        var ct = _stop.Token;
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                _batch.Clear();
                long deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxWait.TotalSeconds * Stopwatch.Frequency);
                while (_batch.Count < _options.MaxBatch)
                {
                    if (reader.TryRead(out var c)) { _batch.Add(c); continue; }
                    long remaining = deadline - Stopwatch.GetTimestamp();
                    if (remaining <= 0) break;
                    // Short waits: sleeping for the remainder is cheaper than a timer and bounded by MaxWait (<= 1 s).
                    await Task.Delay(TimeSpan.FromTicks(Math.Max(1, remaining * TimeSpan.TicksPerSecond / Stopwatch.Frequency)), ct).ConfigureAwait(false);
                }
                if (_batch.Count > 0) RunBatch();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        // Anything still queued at shutdown fails rather than hanging its stream.
        foreach (var c in _batch) c.Fail(new ObjectDisposedException(nameof(DetectionBatcher), "the detection stage stopped"));
        while (reader.TryRead(out var c)) c.Fail(new ObjectDisposedException(nameof(DetectionBatcher), "the detection stage stopped"));
    }

    private void RunBatch()
    {
        _frames.Clear();
        foreach (var c in _batch) _frames.Add(c.PendingFrame!);
        long start = Stopwatch.GetTimestamp();
        Detections[] results;
        try
        {
            results = _detector.Detect(_frames);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "detector {Detector} failed on a batch of {Count}", _detector.Name, _batch.Count);
            foreach (var c in _batch) c.Fail(ex);
            _batch.Clear();
            return;
        }
        s_inferenceSeconds.Record(Stopwatch.GetElapsedTime(start).TotalSeconds);
        s_batchSize.Record(_batch.Count);
        Batches++;
        FramesDetected += _batch.Count;
        for (int i = 0; i < _batch.Count; i++) _batch[i].Complete(results[i]);
        _batch.Clear();
    }

    /// <summary>Stops the loop; pending requests fail. Idempotent. Does not dispose the detector.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _requests.Writer.TryComplete();
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}

/// <summary>
/// One stream's connection to the <see cref="DetectionBatcher"/>. <see cref="DetectAsync"/> returns a reusable value task:
/// no allocation per frame. One request at a time.
/// </summary>
public sealed class BatcherClient : IValueTaskSource<Detections>
{
    private readonly DetectionBatcher _owner;
    private ManualResetValueTaskSourceCore<Detections> _core = new() { RunContinuationsAsynchronously = true };
    private int _busy;

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
        if (Interlocked.Exchange(ref _busy, 1) != 0) throw new InvalidOperationException($"stream {StreamId} already has a detection in flight");
        _core.Reset();
        PendingFrame = frame;
        try
        {
            _owner.Enqueue(this);
        }
        catch
        {
            PendingFrame = null;
            Volatile.Write(ref _busy, 0);
            throw;
        }
        return new ValueTask<Detections>(this, _core.Version);
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

    Detections IValueTaskSource<Detections>.GetResult(short token) => _core.GetResult(token);
    ValueTaskSourceStatus IValueTaskSource<Detections>.GetStatus(short token) => _core.GetStatus(token);
    void IValueTaskSource<Detections>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
