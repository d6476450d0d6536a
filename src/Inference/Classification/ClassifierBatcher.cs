using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Inference.Classification;

/// <summary>
/// The shared classification stage: one thread gathers the crops every stream's <see cref="TrackClassifier"/> asks for
/// into batches (until <see cref="ClassifierOptions.MaxBatch"/> crops, every registered stream has asked, or
/// <see cref="ClassifierOptions.MaxWait"/> passed), runs the classifier and completes each request. It also keeps the
/// per-second budget (<see cref="ClassifierOptions.MaxPerSecond"/>, a token bucket over all streams). Frames are
/// borrowed: a caller keeps its reference until its request completes. A classifier error fails that batch's requests.
/// </summary>
public sealed class ClassifierBatcher : IAsyncDisposable
{
    private readonly OnnxClassifier _classifier;
    private readonly ClassifierOptions _options;
    private readonly ILogger _logger;
    private readonly SvHistogram.Series _batchSize, _seconds;
    private readonly object _gate = new();
    private readonly List<Request> _pending = new();
    private readonly Thread _thread;
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _stopping;
    private int _clients;
    private double _tokens;
    private long _lastRefill = Stopwatch.GetTimestamp();
    private long _crops, _runs;

    private sealed record Request(IReadOnlyList<CropRequest> Crops, TaskCompletionSource<TrackClassification[]> Done);

    /// <param name="classifier">The model (owned by the caller; dispose it after this).</param>
    public ClassifierBatcher(OnnxClassifier classifier, ClassifierOptions options, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        _classifier = classifier ?? throw new ArgumentNullException(nameof(classifier));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        metrics ??= PipelineMetrics.Default;
        _batchSize = metrics.ClassifierBatchSize.WithLabels();
        _seconds = metrics.ClassifierSeconds.WithLabels();
        _tokens = Burst;
        _thread = new Thread(Run) { IsBackground = true, Name = "sv-classifier" };
        _thread.Start();
    }

    public OnnxClassifier Classifier => _classifier;
    public ClassifierOptions Options => _options;
    /// <summary>Crops classified so far.</summary>
    public long Crops => Interlocked.Read(ref _crops);
    /// <summary>Classifier runs so far (a batch of crops from several streams is one).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    private double Burst => Math.Max(1, _options.MaxPerSecond);

    /// <summary>A stream takes part in batches until it calls <see cref="Unregister"/> (a batch closes early once every registered stream has asked).</summary>
    public void Register()
    {
        lock (_gate) _clients++;
    }

    public void Unregister()
    {
        lock (_gate)
        {
            _clients--;
            Monitor.Pulse(_gate);
        }
    }

    /// <summary>
    /// Takes up to <paramref name="wanted"/> crops from the per-second budget (all of them without a budget); returns how
    /// many may be classified now. The rest should be asked for again on a later frame.
    /// </summary>
    public int TryTake(int wanted)
    {
        if (_options.MaxPerSecond <= 0 || wanted <= 0) return Math.Max(0, wanted);
        lock (_gate)
        {
            long now = Stopwatch.GetTimestamp();
            _tokens = Math.Min(Burst, _tokens + Stopwatch.GetElapsedTime(_lastRefill, now).TotalSeconds * _options.MaxPerSecond);
            _lastRefill = now;
            int granted = Math.Min(wanted, (int)Math.Floor(_tokens));
            _tokens -= granted;
            return granted;
        }
    }

    /// <summary>Classifies crops (frames borrowed until the task completes); one answer per crop, in order.</summary>
    public Task<TrackClassification[]> ClassifyAsync(IReadOnlyList<CropRequest> crops)
    {
        ArgumentNullException.ThrowIfNull(crops);
        if (crops.Count == 0) return Task.FromResult(Array.Empty<TrackClassification>());
        var r = new Request(crops, new TaskCompletionSource<TrackClassification[]>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_gate)
        {
            if (_stopping) throw new ObjectDisposedException(nameof(ClassifierBatcher), "the classification stage has stopped");
            _pending.Add(r);
            Monitor.Pulse(_gate);
        }
        return r.Done.Task;
    }

    private void Run()
    {
        var batch = new List<Request>();
        var crops = new List<CropRequest>();
        try
        {
            while (true)
            {
                lock (_gate)
                {
                    while (_pending.Count == 0 && !_stopping) Monitor.Wait(_gate);
                    if (_pending.Count == 0) return;
                    long deadline = Stopwatch.GetTimestamp() + (long)(_options.MaxWait.TotalSeconds * Stopwatch.Frequency);
                    while (!_stopping && _pending.Count < _clients && _pending.Sum(p => p.Crops.Count) < _options.MaxBatch)
                    {
                        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                        if (left <= TimeSpan.Zero) break;
                        Monitor.Wait(_gate, left);
                    }
                    batch.AddRange(_pending);
                    _pending.Clear();
                }
                crops.Clear();
                foreach (var r in batch) crops.AddRange(r.Crops);
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    var answers = _classifier.Classify(crops);
                    _seconds.Observe(Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    _batchSize.Observe(crops.Count);
                    Interlocked.Add(ref _crops, crops.Count);
                    Interlocked.Increment(ref _runs);
                    int k = 0;
                    foreach (var r in batch)
                    {
                        var mine = new TrackClassification[r.Crops.Count];
                        for (int i = 0; i < mine.Length; i++) mine[i] = answers[k++];
                        r.Done.TrySetResult(mine);
                    }
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "classifier {Model} failed on a batch of {Crops} crops", _classifier.Name, crops.Count);
                    foreach (var r in batch) r.Done.TrySetException(ex);
                }
                batch.Clear();
            }
        }
        finally
        {
            lock (_gate)
            {
                foreach (var r in _pending) r.Done.TrySetException(new ObjectDisposedException(nameof(ClassifierBatcher), "the classification stage has stopped"));
                _pending.Clear();
            }
            _stopped.TrySetResult();
        }
    }

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
