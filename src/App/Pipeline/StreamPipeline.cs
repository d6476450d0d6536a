using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.App.Pipeline;

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

    internal void AddEvents(int events) => Interlocked.Add(ref _events, events);

    internal void Add(int detections, int events)
    {
        Interlocked.Increment(ref _frames);
        Interlocked.Add(ref _detections, detections);
        Interlocked.Add(ref _events, events);
    }
}

/// <summary>
/// One stream's analysis: reads frames from its source channel, detects (through the shared batcher), tracks, raises
/// events and fans each frame out to the stream's sinks (one reference per sink). A plain async loop; the source owns
/// the channel's writer, this loop owns every frame it reads until it hands it on or disposes it.
/// </summary>
public sealed class StreamPipeline
{
    private static readonly Histogram<double> s_stageSeconds = SvMetrics.Meter.CreateHistogram<double>(SvMetrics.StageSeconds, "s", "Time per frame in a stage");

    private readonly string _streamId;
    private readonly ChannelReader<Frame> _frames;
    private readonly BatcherClient? _detector;
    private readonly ByteTracker? _tracker;
    private readonly TrackEventEmitter _events;
    private readonly IReadOnlyList<SinkRunner> _sinks;
    private readonly bool _lossless;
    private readonly ILogger _logger;
    private readonly KeyValuePair<string, object?>[] _detectTags, _trackTags;

    public StreamPipeline(string streamId, ChannelReader<Frame> frames, BatcherClient? detector, ByteTracker? tracker,
        IReadOnlyList<string> classNames, IReadOnlyList<SinkRunner> sinks, bool lossless, ILogger? logger = null)
    {
        _streamId = streamId;
        _frames = frames;
        _detector = detector;
        _tracker = tracker;
        _events = new TrackEventEmitter(classNames);
        _sinks = sinks;
        _lossless = lossless;
        _logger = logger ?? NullLogger.Instance;
        _detectTags = [new("stream", streamId), new("stage", "detect")];
        _trackTags = [new("stream", streamId), new("stage", "track")];
    }

    public StreamStats Stats { get; } = new();

    /// <summary>Runs until the source channel completes (rethrowing its error) or <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        Frame? last = null;
        TimeSpan lastPts = TimeSpan.MinValue;
        try
        {
            while (await _frames.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (_frames.TryRead(out var frame))
                {
                    bool handedOff = false;
                    try
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        var dets = _detector is null ? Core.Detections.Empty : await _detector.DetectAsync(frame).ConfigureAwait(false);
                        long t1 = Stopwatch.GetTimestamp();
                        s_stageSeconds.Record(Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, _detectTags);
                        IReadOnlyList<Track> tracks = [];
                        if (_tracker is not null)
                        {
                            // A looped file or a restarted camera jumps back in time: start the tracks over.
                            if (frame.Pts < lastPts) _tracker.Reset();
                            tracks = _tracker.Update(dets, frame.Pts);
                            s_stageSeconds.Record(Stopwatch.GetElapsedTime(t1).TotalSeconds, _trackTags);
                        }
                        lastPts = frame.Pts;
                        var events = _events.Process(frame, tracks);
                        Stats.Add(dets.Count, events.Count);
                        Stats.ActiveTracks = tracks.Count(t => t.State == TrackState.Tracked);
                        Stats.Tracks = _tracker?.ConfirmedCount ?? 0;
                        Stats.LastPts = frame.Pts;
                        last?.Dispose();
                        last = frame.AddRef();
                        handedOff = true;
                        await FanOutAsync(new AnalyzedFrame(frame, dets, tracks, events), ct).ConfigureAwait(false);
                    }
                    catch when (!handedOff)
                    {
                        frame.Dispose();
                        throw;
                    }
                }
            }
            await _frames.Completion.ConfigureAwait(false);
        }
        finally
        {
            if (last is not null)
            {
                var final = _events.Flush(last);
                if (final.Count > 0 && !ct.IsCancellationRequested)
                {
                    Stats.AddEvents(final.Count);
                    await FanOutAsync(new AnalyzedFrame(last, Core.Detections.Empty, [], final, eventsOnly: true), CancellationToken.None).ConfigureAwait(false);
                }
                else
                {
                    last.Dispose();
                }
            }
        }
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
