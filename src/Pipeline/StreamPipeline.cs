using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Analytics;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.Pipeline;

/// <summary>Counters of one stream's analysis loop (read from any thread).</summary>
public sealed class StreamStats
{
    private long _frames, _detections, _events;

    public long Frames => Interlocked.Read(ref _frames);
    public long Detections => Interlocked.Read(ref _detections);
    public long Events => Interlocked.Read(ref _events);
    public int Tracks { get; internal set; }
    public int ActiveTracks { get; internal set; }
    public TimeSpan LastPts { get; internal set; }
    /// <summary>Capture to hand-over to the sinks, of the latest frame.</summary>
    public TimeSpan Latency { get; internal set; }

    internal void AddEvents(int events) => Interlocked.Add(ref _events, events);

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
    private readonly TrackEventEmitter _events;
    private readonly LiveAnalytics? _analytics;
    private readonly long _maxFrames;
    private readonly IReadOnlyList<SinkRunner> _sinks;
    private readonly bool _lossless;
    private readonly ILogger _logger;
    private readonly PipelineMetrics _metrics;
    private readonly SvHistogram.Series _detectSeconds, _trackSeconds, _latency;
    private readonly Prometheus.Counter.Child _framesOut;
    private readonly Prometheus.Gauge.Child? _activeTracks;

    /// <param name="metrics">Where stage times, end-to-end latency, frames, events and active tracks are recorded (label stream); null = <see cref="PipelineMetrics.Default"/>.</param>
    public StreamPipeline(string streamId, ChannelReader<Frame> frames, BatcherClient? detector, ByteTracker? tracker,
        IReadOnlyList<string> classNames, IReadOnlyList<SinkRunner> sinks, bool lossless, ILogger? logger = null,
        LiveAnalytics? analytics = null, long maxFrames = 0, PipelineMetrics? metrics = null)
    {
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
                        long t0 = Stopwatch.GetTimestamp();
                        var dets = _detector is null ? Core.Detections.Empty : await _detector.DetectAsync(frame).ConfigureAwait(false);
                        long t1 = Stopwatch.GetTimestamp();
                        _detectSeconds.Observe(Stopwatch.GetElapsedTime(t0, t1).TotalSeconds);
                        IReadOnlyList<Track> tracks = [];
                        if (_tracker is not null)
                        {
                            // A looped file or a restarted camera jumps back in time: start the tracks over.
                            if (frame.Pts < lastPts) _tracker.Reset();
                            tracks = _tracker.Update(dets, frame.Pts);
                            _trackSeconds.Observe(Stopwatch.GetElapsedTime(t1).TotalSeconds);
                        }
                        lastPts = frame.Pts;
                        var events = _events.Process(frame, tracks);
                        if (_analytics?.Current is { } analytics)
                        {
                            var more = analytics.Process(frame, tracks);
                            if (more.Count > 0) events = events.Count == 0 ? more : [.. events, .. more];
                        }
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
                        await FanOutAsync(new AnalyzedFrame(frame, dets, tracks, events), ct).ConfigureAwait(false);
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
