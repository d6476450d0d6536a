using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Analytics;

/// <summary>
/// Zones and lines of one stream turned into events: <c>zone_enter</c>, <c>zone_exit</c> (with the dwell time),
/// <c>line_crossed</c> (with the direction) and periodic <c>counts</c>. Call <see cref="Process"/> once per frame, after
/// the tracker, from the stream's loop; the picture sinks draw its zones and lines (Sinks' <c>AnalyticsOverlays</c>).
/// One instance per stream; ids of a stream's tracker are what it keys on.
/// </summary>
public sealed class StreamAnalytics
{
    private static readonly uint[] s_palette = [0x00C8FF, 0xFF8C00, 0x7CFC00, 0xFF1493, 0xFFD700, 0x1E90FF, 0xADFF2F, 0xFF4500];

    private readonly AnalyticsOptions _options;
    private readonly IReadOnlyList<string> _classNames;
    private readonly PolygonZone[] _zones;
    private readonly CountingLine[] _lines;
    private TimeSpan _lastPts = TimeSpan.MinValue;
    private TimeSpan _nextCounts = TimeSpan.MinValue;

    /// <param name="options">Zones, lines, counts interval (validated here; <see cref="OptionsException"/> names the bad key).</param>
    /// <param name="classNames">Class names by id (for class filters, per-class counts and events).</param>
    /// <param name="optionsPath">Key path of <paramref name="options"/> in the configuration, for error messages.</param>
    public StreamAnalytics(AnalyticsOptions options, IReadOnlyList<string>? classNames = null, string optionsPath = "analytics")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(optionsPath);
        _options = options;
        _classNames = classNames ?? [];
        _zones = options.Zones.Select(z => new PolygonZone(z, ClassName, options.MaxTrackStates)).ToArray();
        _lines = options.Lines.Select(l => new CountingLine(l, ClassName, options.MaxTrackStates)).ToArray();
    }

    public AnalyticsOptions Options => _options;
    public IReadOnlyList<PolygonZone> Zones => _zones;
    public IReadOnlyList<CountingLine> Lines => _lines;
    /// <summary>Display colour (0xRRGGBB) of zone <paramref name="index"/>: its configured colour, else one of a palette.</summary>
    public uint ZoneColor(int index) => ColorOf(_options.Zones[index].Color, index);
    /// <summary>Display colour (0xRRGGBB) of line <paramref name="index"/>, continuing the zones' palette.</summary>
    public uint LineColor(int index) => ColorOf(_options.Lines[index].Color, _zones.Length + index);
    /// <summary>True when there is nothing to compute (no zones, no lines).</summary>
    public bool IsEmpty => _zones.Length == 0 && _lines.Length == 0;

    /// <summary>
    /// Events of one frame: zone enters/exits and line crossings of confirmed tracks, and a counts event when the interval
    /// has passed (stream time). A frame earlier than the previous one (looped file, restarted camera, tracker reset)
    /// forgets every track first. Returns an empty list when nothing happened.
    /// </summary>
    public IReadOnlyList<AnalyticsEvent> Process(Frame frame, IReadOnlyList<Track> tracks)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(tracks);
        if (IsEmpty) return [];
        var pts = frame.Pts;
        if (pts < _lastPts)
        {
            foreach (var z in _zones) z.ResetTracks();
            foreach (var l in _lines) l.ResetTracks();
            _nextCounts = TimeSpan.MinValue;
        }
        _lastPts = pts;
        List<AnalyticsEvent>? events = null;
        foreach (var zone in _zones)
        {
            var results = zone.Trigger(tracks, pts, frame.Width, frame.Height);
            for (int i = 0; i < results.Length; i++)
            {
                var r = results[i];
                if (r.Transition == ZoneTransition.None) continue;
                var t = tracks[i];
                (events ??= []).Add(Make(r.Transition == ZoneTransition.Entered ? EventTypes.ZoneEnter : EventTypes.ZoneExit, frame, t) with
                {
                    Region = zone.Name,
                    DurationSeconds = r.Transition == ZoneTransition.Exited ? r.DwellSeconds : null,
                });
            }
        }
        foreach (var line in _lines)
        {
            var results = line.Trigger(tracks, frame.Width, frame.Height);
            for (int i = 0; i < results.Length; i++)
            {
                if (results[i] == LineCrossing.None) continue;
                (events ??= []).Add(Make(EventTypes.LineCrossed, frame, tracks[i]) with
                {
                    Region = line.Name,
                    Direction = results[i] == LineCrossing.In ? "in" : "out",
                });
            }
        }
        if (_options.CountsIntervalSeconds > 0)
        {
            var interval = TimeSpan.FromSeconds(_options.CountsIntervalSeconds);
            if (_nextCounts == TimeSpan.MinValue) _nextCounts = pts + interval;
            else if (pts >= _nextCounts)
            {
                (events ??= []).Add(CountsEvent(frame));
                // Skip intervals without frames rather than raising a burst.
                while (_nextCounts <= pts) _nextCounts += interval;
            }
        }
        return events ?? (IReadOnlyList<AnalyticsEvent>)[];
    }

    /// <summary>
    /// End of the stream: a zone_exit for every track still inside (dwell up to when it was last seen) and a final counts
    /// event, stamped with the last frame's times. Empty when there are no zones and lines.
    /// </summary>
    public IReadOnlyList<AnalyticsEvent> Flush(Frame lastFrame)
    {
        ArgumentNullException.ThrowIfNull(lastFrame);
        if (IsEmpty) return [];
        var events = new List<AnalyticsEvent>();
        foreach (var zone in _zones)
        {
            foreach (var (id, cls, dwell) in zone.ExitAll())
            {
                events.Add(new AnalyticsEvent
                {
                    Type = EventTypes.ZoneExit, StreamId = lastFrame.StreamId, Time = lastFrame.CaptureTime, Pts = lastFrame.Pts,
                    FrameSequence = lastFrame.Sequence, TrackId = id, ClassName = cls, ClassId = ClassIdOf(cls), Region = zone.Name, DurationSeconds = dwell,
                });
            }
        }
        foreach (var line in _lines) line.ResetTracks();
        events.Add(CountsEvent(lastFrame));
        return events;
    }

    /// <summary>Counts now, per zone and line name (keys as in <see cref="PolygonZone.Counts"/> and <see cref="CountingLine.Counts"/>).</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>> Counts()
    {
        var d = new SortedDictionary<string, IReadOnlyDictionary<string, long>>(StringComparer.Ordinal);
        foreach (var z in _zones) d[z.Name] = z.Counts();
        foreach (var l in _lines) d[l.Name] = l.Counts();
        return d;
    }

    /// <summary>Track states held over all zones and lines (bounded; for tests and diagnostics).</summary>
    public int TrackStates => _zones.Sum(z => z.TrackStates) + _lines.Sum(l => l.TrackStates);

    private AnalyticsEvent CountsEvent(Frame f) => new()
    {
        Type = EventTypes.Counts, StreamId = f.StreamId, Time = f.CaptureTime, Pts = f.Pts, FrameSequence = f.Sequence, Counts = Counts(),
    };

    private AnalyticsEvent Make(string type, Frame f, in Track t) => new()
    {
        Type = type, StreamId = f.StreamId, Time = f.CaptureTime, Pts = f.Pts, FrameSequence = f.Sequence,
        TrackId = t.Id, ClassId = t.ClassId, ClassName = ClassName(t.ClassId), Score = t.Score, Box = t.Box,
        Classification = t.Classification, Polygon = t.Mask is { PolygonPoints: > 0 } m ? m.PolygonArray() : null,
    };

    private string ClassName(int id) => id >= 0 && id < _classNames.Count ? _classNames[id] : id.ToString(CultureInfo.InvariantCulture);

    private int? ClassIdOf(string name)
    {
        for (int i = 0; i < _classNames.Count; i++) if (_classNames[i] == name) return i;
        return int.TryParse(name, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) ? id : null;
    }

    private static uint ColorOf(string? color, int index) =>
        color is not null && AnalyticsOptions.TryParseColor(color, out uint rgb) ? rgb : s_palette[index % s_palette.Length];
}
