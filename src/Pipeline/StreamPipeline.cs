using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Analytics;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Classification;
using StreamVision.Inference.Segmentation;
using StreamVision.Inference.Enhance;
using StreamVision.Inference.Tamper;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.Pipeline;

/// <summary>Counters of one stream's analysis loop (read from any thread).</summary>
public sealed class StreamStats
{
    private long _frames, _detections, _events, _detectorRuns;

    public long Frames => Interlocked.Read(ref _frames);
    /// <summary>Frames the detector ran on (all of them unless <see cref="DetectScheduleOptions"/> skips some).</summary>
    public long DetectorRuns => Interlocked.Read(ref _detectorRuns);
    public long Detections => Interlocked.Read(ref _detections);
    public long Events => Interlocked.Read(ref _events);
    public int Tracks { get; internal set; }
    public int ActiveTracks { get; internal set; }
    public TimeSpan LastPts { get; internal set; }
    /// <summary>Capture to hand-over to the sinks, of the latest frame.</summary>
    public TimeSpan Latency { get; internal set; }
    /// <summary>The camera-tamper stage's state of the camera (normal, covered, defocused, moved, frozen); null when the stage is off.</summary>
    public string? CameraState { get; internal set; }

    internal void AddEvents(int events) => Interlocked.Add(ref _events, events);

    internal void AddDetectorRun() => Interlocked.Increment(ref _detectorRuns);

    private readonly object _rateGate = new();
    private readonly long[] _perSecond = new long[6];
    private long _currentSecond = -1;

    /// <summary>Frames per second over the last five whole seconds (0 until a second has passed).</summary>
    public double Fps
    {
        get
        {
            lock (_rateGate)
            {
                if (_currentSecond < 0) return 0;
                long now = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
                int seconds = 0;
                long sum = 0;
                for (long sec = now - 5; sec < now; sec++)
                {
                    if (sec < FirstSecond) continue;
                    seconds++;
                    if (sec <= _currentSecond && sec > _currentSecond - 6) sum += _perSecond[sec % 6];
                }
                return seconds == 0 ? 0 : sum / (double)seconds;
            }
        }
    }

    private long FirstSecond { get; set; } = -1;

    private void Tick()
    {
        lock (_rateGate)
        {
            long now = Stopwatch.GetTimestamp() / Stopwatch.Frequency;
            if (FirstSecond < 0) FirstSecond = now;
            if (now != _currentSecond)
            {
                for (long sec = Math.Max(_currentSecond + 1, now - 5); sec <= now; sec++) _perSecond[sec % 6] = 0;
                _currentSecond = now;
            }
            _perSecond[now % 6]++;
        }
    }

    internal void Add(int detections, int events)
    {
        Tick();
        Interlocked.Increment(ref _frames);
        Interlocked.Add(ref _detections, detections);
        Interlocked.Add(ref _events, events);
    }
}

/// <summary>
/// One stream's analysis: reads frames from its source channel, detects (through the shared batcher), tracks, raises
/// events and fans each frame out to the stream's sinks (one reference per sink). A plain async loop; the source owns
/// the channel's writer, this loop owns every frame it reads until it hands it on or disposes it. Assembled only by
/// <see cref="PipelineBuilder"/> and run by <see cref="StreamRun"/> (which owns the shutdown order).
/// </summary>
internal sealed class StreamPipeline
{
    private readonly string _streamId;
    private readonly ChannelReader<Frame> _frames;
    private readonly BatcherClient? _detector;
    private readonly ByteTracker? _tracker;
    private readonly Imaging.CameraMotionEstimator? _cameraMotion;
    private readonly TrackEventEmitter _events;
    private readonly LiveAnalytics? _analytics;
    private readonly long _maxFrames;
    private readonly IReadOnlyList<SinkRunner> _sinks;
    private readonly bool _lossless;
    private readonly ILogger _logger;
    private readonly PipelineMetrics _metrics;
    private readonly TrackClassifier? _classifier;
    private readonly MaskOptions? _masks;
    private readonly SvHistogram.Series _detectSeconds, _trackSeconds, _latency;
    private readonly SvHistogram.Series? _classifySeconds;
    // Created on the first mask: a series never observed would answer NaN to quantile queries on a stream without a seg model.
    private SvHistogram.Series? _segmentSeconds;
    private readonly Prometheus.Counter.Child _framesOut;
    private readonly Prometheus.Gauge.Child? _activeTracks;
    private readonly DetectScheduleOptions? _schedule; // null: the detector runs on every frame
    private readonly Imaging.BackgroundSubtractor? _motionGate;
    private int _sinceDetect = -1; // frames since the detector last ran; -1 = never (the first frame is always detected)
    private readonly CameraTamperMonitor? _tamper;
    private readonly SvHistogram.Series? _tamperSeconds;
    private readonly FrameEnhancer? _enhancer;
    private readonly EnhanceTarget _enhanceTarget;
    private readonly SvHistogram.Series? _enhanceSeconds;
    private Frame? _enhancedCopy;     // with EnhanceTarget.Detect: the detector's picture, reused while the size stays

    /// <param name="metrics">Where stage times, end-to-end latency, frames, events and active tracks are recorded (label stream); null = <see cref="PipelineMetrics.Default"/>.</param>
    /// <param name="cameraMotion">Estimates each frame's camera motion from its pixels for the tracker (moving cameras); owned by the pipeline, disposed when its loop ends. Null = none.</param>
    public StreamPipeline(string streamId, ChannelReader<Frame> frames, BatcherClient? detector, ByteTracker? tracker,
        IReadOnlyList<string> classNames, IReadOnlyList<SinkRunner> sinks, bool lossless, ILogger? logger = null,
        LiveAnalytics? analytics = null, long maxFrames = 0, PipelineMetrics? metrics = null, DetectScheduleOptions? schedule = null,
        TrackClassifier? classifier = null, MaskOptions? masks = null, CameraTamperMonitor? tamper = null,
        FrameEnhancer? enhancer = null, EnhanceTarget enhanceTarget = EnhanceTarget.Both, Imaging.CameraMotionEstimator? cameraMotion = null)
    {
        if (schedule is not null && !schedule.Validate().EveryFrame && detector is not null)
        {
            _schedule = schedule;
            if (schedule.MotionGating) _motionGate = new Imaging.BackgroundSubtractor(schedule.Motion);
        }
        _classifier = classifier;
        _masks = masks is { Enabled: true } ? masks : null;
        _cameraMotion = cameraMotion;
        _analytics = analytics;
        _maxFrames = maxFrames;
        _streamId = streamId;
        _frames = frames;
        _detector = detector;
        _tracker = tracker;
        _events = new TrackEventEmitter(classNames);
        _sinks = sinks;
        _lossless = lossless;
        _logger = logger ?? NullLogger.Instance;
        _metrics = metrics ?? PipelineMetrics.Default;
        _detectSeconds = _metrics.StageSeconds.WithLabels(streamId, "detect");
        _trackSeconds = _metrics.StageSeconds.WithLabels(streamId, "track");
        _latency = _metrics.EndToEndSeconds.WithLabels(streamId);
        _framesOut = _metrics.FramesAnalyzed.WithLabels(streamId);
        if (tracker is not null) _activeTracks = _metrics.ActiveTracks.WithLabels(streamId);
        if (classifier is not null) _classifySeconds = _metrics.StageSeconds.WithLabels(streamId, "classify");
        _tamper = tamper;
        if (tamper is not null)
        {
            _tamperSeconds = _metrics.StageSeconds.WithLabels(streamId, "tamper");
            SetCameraState(tamper.State);
        }
        // Enhancing only the detector's picture without a detector would cost time for nothing.
        if (enhancer is not null && (detector is not null || enhanceTarget != EnhanceTarget.Detect))
        {
            _enhancer = enhancer;
            _enhanceTarget = enhanceTarget;
            _enhanceSeconds = _metrics.StageSeconds.WithLabels(streamId, "enhance");
        }
    }

    public StreamStats Stats { get; } = new();

    /// <summary>Called on the loop after each frame was handed to the sinks, with the number of frames analysed so far.</summary>
    public Action<long>? FrameAnalyzed { get; set; }

    /// <summary>
    /// Runs until the source channel completes (rethrowing its error), <paramref name="ct"/> is cancelled, or the frame limit
    /// given at construction is reached (the caller then stops the source; unread frames stay with it).
    /// </summary>
    public async Task RunAsync(CancellationToken ct)
    {
        Frame? last = null;
        TimeSpan lastPts = TimeSpan.MinValue;
        try
        {
            bool limitReached = false;
            while (!limitReached && await _frames.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (!limitReached && _frames.TryRead(out var frame))
                {
                    bool handedOff = false;
                    try
                    {
                        AnalyticsEvent? tamperChange = null;
                        if (_tamper is not null)
                        {
                            long ts = Stopwatch.GetTimestamp();
                            // Observed per sample (the frames in between cost nothing).
                            if (_tamper.Process(frame, out tamperChange)) _tamperSeconds!.Observe(Stopwatch.GetElapsedTime(ts).TotalSeconds);
                            if (tamperChange is not null) SetCameraState(_tamper.State);
                        }
                        // A looped file or a restarted camera jumps back in time: start the tracks over (detecting this frame).
                        bool jumpedBack = frame.Pts < lastPts;
                        if (jumpedBack) _sinceDetect = -1;
                        bool detect = _detector is not null && ShouldDetect(frame);
                        var detectOn = _enhancer is null || _enhanceTarget == EnhanceTarget.Output || !detect ? frame : Enhance(frame);
                        long t0 = Stopwatch.GetTimestamp();
                        var dets = detect ? await _detector!.DetectAsync(detectOn).ConfigureAwait(false) : Core.Detections.Empty;
                        long t1 = Stopwatch.GetTimestamp();
                        // The video's picture is enhanced also on frames the detector skips (Both: done above when it ran).
                        if (_enhancer is not null && (_enhanceTarget == EnhanceTarget.Output || (_enhanceTarget == EnhanceTarget.Both && !detect))) Enhance(frame);
                        if (detect)
                        {
                            _detectSeconds.Observe(Stopwatch.GetElapsedTime(t0, t1).TotalSeconds);
                            Stats.AddDetectorRun();
                        }
                        if (_masks is not null && dets.HasMaskCoefficients)
                        {
                            // Segmentation models: a mask (and its outline) per detection, from its coefficients and the prototypes.
                            dets = MaskDecoder.Decode(dets, _masks);
                            long ts = Stopwatch.GetTimestamp();
                            (_segmentSeconds ??= _metrics.StageSeconds.WithLabels(_streamId, "segment")).Observe(Stopwatch.GetElapsedTime(t1, ts).TotalSeconds);
                            t1 = ts;
                        }
                        IReadOnlyList<Track> tracks = [];
                        if (_tracker is not null)
                        {
                            if (jumpedBack)
                            {
                                _tracker.Reset();
                                _classifier?.Reset();
                                _cameraMotion?.Reset();
                            }
                            var cameraMotion = System.Numerics.Matrix3x2.Identity;
                            // The frame's own pixels, read in place; this frame's detections are kept off the corners used
                            // when it is the previous frame. Estimated on frames the detector skips too (the motion adds up).
                            if (_cameraMotion is not null && !_cameraMotion.TryEstimate(frame, dets.Boxes, out cameraMotion)) cameraMotion = System.Numerics.Matrix3x2.Identity;
                            // A frame the schedule skips: every track moves by its motion model, none counts as missed.
                            tracks = detect ? _tracker.Update(dets, frame.Pts, cameraMotion) : _tracker.Predict(frame.Pts, cameraMotion);
                            if (dets.HasMasks) tracks = AttachMasks(tracks, dets);
                            long tt = Stopwatch.GetTimestamp();
                            _trackSeconds.Observe(Stopwatch.GetElapsedTime(t1, tt).TotalSeconds);
                            if (_classifier is not null)
                            {
                                tracks = await _classifier.ProcessAsync(frame, tracks, ct).ConfigureAwait(false);
                                _classifySeconds!.Observe(Stopwatch.GetElapsedTime(tt).TotalSeconds);
                            }
                        }
                        lastPts = frame.Pts;
                        var events = _events.Process(frame, tracks);
                        if (_analytics?.Current is { } analytics)
                        {
                            var more = analytics.Process(frame, tracks);
                            if (more.Count > 0) events = events.Count == 0 ? more : [.. events, .. more];
                        }
                        if (tamperChange is not null) events = [.. events, tamperChange];
                        Stats.Add(dets.Count, events.Count);
                        Stats.ActiveTracks = tracks.Count(t => t.State == TrackState.Tracked);
                        _activeTracks?.Set(Stats.ActiveTracks);
                        Stats.Tracks = _tracker?.ConfirmedCount ?? 0;
                        Stats.LastPts = frame.Pts;
                        if (frame.CaptureTimestamp != 0)
                        {
                            var latency = Stopwatch.GetElapsedTime(frame.CaptureTimestamp);
                            Stats.Latency = latency;
                            _latency.Observe(latency.TotalSeconds);
                        }
                        _framesOut.Inc();
                        CountEvents(events);
                        last?.Dispose();
                        last = frame.AddRef();
                        handedOff = true;
                        await FanOutAsync(new AnalyzedFrame(frame, dets, tracks, events, detected: detect || _detector is null) { CameraState = _tamper?.State }, ct).ConfigureAwait(false);
                        limitReached = _maxFrames > 0 && Stats.Frames >= _maxFrames;
                        FrameAnalyzed?.Invoke(Stats.Frames);
                    }
                    catch when (!handedOff)
                    {
                        frame.Dispose();
                        throw;
                    }
                }
            }
            if (!limitReached) await _frames.Completion.ConfigureAwait(false);
        }
        finally
        {
            // The stream no longer takes part in batches: without this the batcher would wait for it.
            _detector?.Dispose();
            _motionGate?.Dispose();
            _classifier?.Dispose();
            _enhancedCopy?.Dispose();
            _enhancedCopy = null;
            _cameraMotion?.Dispose();
            if (last is not null)
            {
                var final = _events.Flush(last);
                if (_analytics?.Current is { } analytics) final = [.. final, .. analytics.Flush(last)];
                if (final.Count > 0 && !ct.IsCancellationRequested)
                {
                    Stats.AddEvents(final.Count);
                    CountEvents(final);
                    try
                    {
                        // With ct: a stalled sink's full queue must not hold the stop beyond its drain share.
                        await FanOutAsync(new AnalyzedFrame(last, Core.Detections.Empty, [], final, eventsOnly: true), ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (ct.IsCancellationRequested)
                    {
                        _logger.LogWarning("stream {Stream}: the end-of-stream events did not reach every sink before the stop deadline", _streamId);
                    }
                }
                else
                {
                    last.Dispose();
                }
            }
        }
    }

    /// <summary>Whether the detector looks at this frame: always without a schedule; else when the interval is due and, with motion gating, the frame moves (or <see cref="DetectScheduleOptions.MaxSkip"/> frames went by).</summary>
    private bool ShouldDetect(Frame frame)
    {
        if (_schedule is null) return true;
        if (_sinceDetect < 0)
        {
            _motionGate?.Apply(frame); // the background model starts from the first frame
            _sinceDetect = 0;
            return true;
        }
        _sinceDetect++;
        if (_sinceDetect < _schedule.Interval) return false;
        if (_motionGate is not null && _motionGate.Apply(frame).Length == 0 && (_schedule.MaxSkip == 0 || _sinceDetect < _schedule.MaxSkip)) return false;
        _sinceDetect = 0;
        return true;
    }

    /// <summary>Each track matched this frame gets its detection's mask.</summary>
    private static IReadOnlyList<Track> AttachMasks(IReadOnlyList<Track> tracks, Core.Detections dets)
    {
        var result = new Track[tracks.Count];
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            result[i] = t.DetectionIndex >= 0 && t.DetectionIndex < dets.Count && dets.GetMask(t.DetectionIndex) is { } m ? t with { Mask = m } : t;
        }
        return result;
    }

    /// <summary>
    /// Runs the enhancement model on <paramref name="frame"/>: in place (<see cref="EnhanceTarget.Both"/>,
    /// <see cref="EnhanceTarget.Output"/>), or into the stream's copy for the detector (<see cref="EnhanceTarget.Detect"/>).
    /// Returns the frame the detector is to read.
    /// </summary>
    private Frame Enhance(Frame frame)
    {
        long ts = Stopwatch.GetTimestamp();
        var target = frame;
        if (_enhanceTarget == EnhanceTarget.Detect)
        {
            if (_enhancedCopy is null || _enhancedCopy.Width != frame.Width || _enhancedCopy.Height != frame.Height)
            {
                _enhancedCopy?.Dispose();
                _enhancedCopy = Frame.CreateUnpooled(frame.Width, frame.Height);
            }
            _enhancedCopy.CopyMetadataFrom(frame);
            target = _enhancedCopy;
        }
        _enhancer!.Enhance(frame, target);
        _enhanceSeconds!.Observe(Stopwatch.GetElapsedTime(ts).TotalSeconds);
        return target;
    }

    private void SetCameraState(string state)
    {
        Stats.CameraState = state;
        foreach (var c in _tamper!.Classes) _metrics.CameraTamperState.WithLabels(_streamId, c).Set(c == state ? 1 : 0);
    }

    private void CountEvents(IReadOnlyList<AnalyticsEvent> events)
    {
        foreach (var e in events) _metrics.Events.WithLabels(_streamId, e.Type).Inc();
    }

    /// <summary>Gives each sink its own reference; disposes the caller's. Lossless streams wait for room, live ones drop.</summary>
    private async ValueTask FanOutAsync(AnalyzedFrame item, CancellationToken ct)
    {
        try
        {
            foreach (var sink in _sinks)
            {
                var copy = item.AddRef();
                if (_lossless) await sink.EnqueueAsync(copy, ct).ConfigureAwait(false);
                else if (!sink.TryEnqueue(copy)) copy.Dispose();
            }
        }
        finally
        {
            item.Dispose();
        }
    }
}
