using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Analytics;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Classification;
using StreamVision.Inference.Segmentation;
using StreamVision.Inference.Enhance;
using StreamVision.Inference.Tamper;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;
using StreamVision.Tracking.Motion;

namespace StreamVision.Pipeline;

/// <summary>
/// Assembles one stream: source -> (shared) detector -> tracker -> analytics -> sinks. The one place every entry point
/// (annotate, the service, the benchmarks, a library user) builds a pipeline:
/// <code>
/// await using var run = new PipelineBuilder("cam1", pool)
///     .Source(new SourceOptions { Uri = "rtsp://..." })
///     .Detector(batcher)
///     .Tracker(new ByteTrackerOptions())
///     .Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = "events.jsonl" }))
///     .Build().Start();
/// </code>
/// Files run lossless (sinks' queues wait), live sources drop the oldest; sinks that draw copy frames from
/// <see cref="SinkPool"/>, never from the decoder's pool, so a full decoder pool can never block a sink (and so the decoder).
/// </summary>
public sealed class PipelineBuilder
{
    private readonly string _streamId;
    private readonly FramePool _pool;
    private readonly List<(ISink Sink, SinkRunnerOptions? Runner)> _sinks = new();
    private SourceOptions? _sourceOptions;
    private VideoSource? _source;
    private DetectionBatcher? _batcher;
    private ByteTrackerOptions? _trackerOptions;
    private IMotionModel? _motion;
    private Imaging.CameraMotionOptions? _cameraMotionOptions;
    private bool _track;
    private DetectScheduleOptions? _schedule;
    private LiveAnalytics? _analytics;
    private ClassifierBatcher? _classifier;
    private MaskOptions? _masks = new();
    private CameraTamperModel? _tamperModel;
    private CameraTamperOptions? _tamperOptions;
    private ImageEnhancerModel? _enhanceModel;
    private EnhanceOptions? _enhanceOptions;
    private bool? _lossless;
    private long _maxFrames;
    private int _queueCapacity = 16;
    private ILogger _logger;
    private PipelineMetrics _metrics;

    /// <param name="streamId">The stream's id: in metrics, events, logs.</param>
    /// <param name="pool">Where the source's decoded frames come from (capped: it bounds decoding memory).</param>
    /// <param name="sinkPool">Where sinks rent the frames they draw on; null = an own pool per builder, uncapped (each sink holds at most
    /// two frames at a time, so its size follows the sinks; a cap could only make a sink that holds one copy wait for a second).</param>
    public PipelineBuilder(string streamId, FramePool pool, FramePool? sinkPool = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        _streamId = streamId;
        _pool = pool ?? throw new ArgumentNullException(nameof(pool));
        SinkPool = sinkPool ?? new FramePool(new FramePoolOptions { MaxBytes = long.MaxValue });
        _logger = NullLogger.Instance;
        _metrics = PipelineMetrics.Default;
    }

    public string StreamId => _streamId;

    /// <summary>The pool sinks rent drawing copies from: pass it to the sinks you create (video, preview, snapshots).</summary>
    public FramePool SinkPool { get; }

    /// <summary>Where every stage logs.</summary>
    public PipelineBuilder Logger(ILogger logger)
    {
        _logger = logger ?? NullLogger.Instance;
        return this;
    }

    /// <summary>Where every stage records its metrics (labels carry the stream id). Default <see cref="PipelineMetrics.Default"/>.</summary>
    public PipelineBuilder Metrics(PipelineMetrics metrics)
    {
        _metrics = metrics ?? PipelineMetrics.Default;
        return this;
    }

    /// <summary>The source to open (files, cameras, test patterns); its id is set to the stream's.</summary>
    public PipelineBuilder Source(SourceOptions options)
    {
        _sourceOptions = options ?? throw new ArgumentNullException(nameof(options));
        _source = null;
        return this;
    }

    /// <summary>A source the caller created (and may have started, e.g. to read its frame rate first). The run owns it from here.</summary>
    public PipelineBuilder Source(VideoSource source)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _sourceOptions = null;
        return this;
    }

    /// <summary>The shared detector (batched across streams); null = no detection.</summary>
    public PipelineBuilder Detector(DetectionBatcher? batcher)
    {
        _batcher = batcher;
        return this;
    }

    /// <summary>Tracks detections (ByteTrack-style) with <paramref name="motion"/> (Kalman when null). Needs a detector.</summary>
    public PipelineBuilder Tracker(ByteTrackerOptions? options = null, IMotionModel? motion = null)
    {
        _track = true;
        _trackerOptions = options;
        _motion = motion;
        return this;
    }

    /// <summary>On which frames the detector runs (every Nth, only on motion); the tracker predicts the others. Null = every frame.</summary>
    public PipelineBuilder DetectSchedule(DetectScheduleOptions? options)
    {
        _schedule = options?.Validate();
        return this;
    }

    /// <summary>
    /// The shared classifier run on crops of this stream's confirmed tracks (needs a tracker); null = none. Its answers are
    /// attached to the tracks, drawn in their labels and carried in events (<c>track_classified</c>, <c>track_ended</c>).
    /// </summary>
    public PipelineBuilder Classifier(ClassifierBatcher? classifier)
    {
        _classifier = classifier;
        return this;
    }

    /// <summary>Masks from a segmentation detector (YOLO-seg); null or disabled = boxes only. Default: masks on with default options.</summary>
    public PipelineBuilder Masks(MaskOptions? masks)
    {
        masks?.Validate();
        _masks = masks;
        return this;
    }

    /// <summary>
    /// How the camera motion is estimated when the tracker's <see cref="ByteTrackerOptions.CompensateCameraMotion"/> is on
    /// (each frame's pixels go to an <see cref="Imaging.CameraMotionEstimator"/> of this stream, its estimate to the
    /// tracker); null = defaults. Without that option nothing is estimated.
    /// </summary>
    public PipelineBuilder CameraMotion(Imaging.CameraMotionOptions? options)
    {
        _cameraMotionOptions = options?.Validate("tracker.camera_motion");
        return this;
    }

    /// <summary>Zones and lines turned into events; null = none.</summary>
    public PipelineBuilder Analytics(StreamAnalytics? analytics)
    {
        _analytics = analytics is null ? null : new LiveAnalytics(analytics);
        return this;
    }

    /// <summary>Zones and lines that can be replaced while the stream runs (<see cref="LiveAnalytics.Replace"/>); null = none.</summary>
    public PipelineBuilder Analytics(LiveAnalytics? analytics)
    {
        _analytics = analytics;
        return this;
    }

    /// <summary>
    /// Watches the camera for tampering (covered, defocused, moved, frozen) with <paramref name="model"/> (shared by streams,
    /// owned by the caller): raises camera_tampered / camera_restored events. Null = off.
    /// </summary>
    public PipelineBuilder CameraTamper(CameraTamperModel? model, CameraTamperOptions? options = null)
    {
        _tamperModel = model;
        _tamperOptions = options;
        return this;
    }

    /// <summary>
    /// Runs the image-to-image <paramref name="model"/> (shared by streams, owned by the caller) on every frame, before
    /// detection and/or before the outputs as <see cref="EnhanceOptions.Apply"/> says. Null = off.
    /// </summary>
    public PipelineBuilder Enhance(ImageEnhancerModel? model, EnhanceOptions? options = null)
    {
        options?.Validate();
        _enhanceModel = model;
        _enhanceOptions = options;
        return this;
    }

    /// <summary>An output. Its queue: <paramref name="runner"/>, else <see cref="QueueCapacity"/> items that wait (lossless) or drop the oldest (live).</summary>
    public PipelineBuilder Sink(ISink sink, SinkRunnerOptions? runner = null)
    {
        _sinks.Add((sink ?? throw new ArgumentNullException(nameof(sink)), runner));
        return this;
    }

    /// <summary>Every frame processed, sinks' queues wait (true), or live: nothing waits, the oldest is dropped and counted (false). Default: files lossless, live sources not.</summary>
    public PipelineBuilder Lossless(bool lossless)
    {
        _lossless = lossless;
        return this;
    }

    /// <summary>Stop after this many frames (0 = no limit).</summary>
    public PipelineBuilder MaxFrames(long frames)
    {
        if (frames < 0) throw new OptionsException("max_frames", $"must be >= 0, got {frames}");
        _maxFrames = frames;
        return this;
    }

    /// <summary>Items each sink's queue holds by default (1..1024). Default 16.</summary>
    public PipelineBuilder QueueCapacity(int items)
    {
        if (items is < 1 or > 1024) throw new OptionsException("sinks.queue", $"must be 1..1024, got {items}");
        _queueCapacity = items;
        return this;
    }

    /// <summary>
    /// Creates the stream (not started: <see cref="StreamRun.Start"/>). On failure everything created here is disposed,
    /// the sinks handed in included, and the stream leaves no metric series behind.
    /// </summary>
    public StreamRun Build()
    {
        if (_sourceOptions is null && _source is null) throw new InvalidOperationException("a pipeline needs a source: call Source(...)");
        var runners = new List<SinkRunner>();
        VideoSource? source = _source;
        Imaging.CameraMotionEstimator? cameraMotion = null;
        try
        {
            source ??= new VideoSource(_sourceOptions! with { Id = _streamId }, _pool, _logger, _metrics);
            bool lossless = _lossless ?? !source.IsLive;
            var defaults = new SinkRunnerOptions { Capacity = _queueCapacity, Policy = lossless ? SinkQueuePolicy.Wait : SinkQueuePolicy.DropOldest };
            foreach (var (sink, runner) in _sinks) runners.Add(new SinkRunner(sink, _streamId, runner ?? defaults, _logger, _metrics));
            var classNames = _batcher?.Detector.ClassNames ?? [];
            var tracker = _track && _batcher is not null ? new ByteTracker(_trackerOptions, _motion) : null;
            var classify = tracker is not null && _classifier is not null ? new TrackClassifier(_streamId, _classifier, classNames, _metrics) : null;
            if (tracker is not null && tracker.Options.CompensateCameraMotion) cameraMotion = new Imaging.CameraMotionEstimator(_cameraMotionOptions);
            var pipeline = new StreamPipeline(_streamId, source.Frames, _batcher?.CreateClient(_streamId), tracker, classNames, runners, lossless, _logger,
                _analytics, _maxFrames, _metrics, _schedule, classify, _masks,
                _tamperModel is null ? null : new CameraTamperMonitor(_tamperModel, _tamperOptions),
                _enhanceModel is null ? null : new FrameEnhancer(_enhanceModel, _enhanceOptions), _enhanceOptions?.Apply ?? EnhanceTarget.Both,
                cameraMotion);
            return new StreamRun(_streamId, source, pipeline, runners, _batcher, _logger, _metrics);
        }
        catch
        {
            cameraMotion?.Dispose();
            foreach (var r in runners) r.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var (sink, _) in _sinks.Skip(runners.Count)) sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
            source?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _metrics.RemoveStream(_streamId);
            throw;
        }
    }
}
