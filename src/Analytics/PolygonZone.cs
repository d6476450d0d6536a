using StreamVision.Core;

namespace StreamVision.Analytics;

/// <summary>What happened to one track in a zone this frame.</summary>
public enum ZoneTransition
{
    None,
    Entered,
    Exited,
}

/// <summary>
/// One track's relation to a zone in a frame. <see cref="DwellSeconds"/>: stream seconds since it entered (while inside),
/// or how long it stayed (on <see cref="ZoneTransition.Exited"/>); 0 otherwise.
/// </summary>
public readonly record struct ZoneResult(bool Inside, ZoneTransition Transition, double DwellSeconds);

/// <summary>
/// A polygon zone of one stream: which confirmed tracks are inside, when they enter and leave, how long they stay.
/// Counting only, no drawing (the sinks' <c>ZoneOverlay</c> draws). Keeps state only for tracks inside, dropped when they
/// leave or are removed, capped at <see cref="AnalyticsOptions.MaxTrackStates"/>.
/// <see cref="Trigger"/> is called from one thread (the stream's loop); the count properties may be read from any thread.
/// </summary>
public sealed class PolygonZone
{
    private readonly ZoneOptions _options;
    private readonly ClassFilter _filter;
    private readonly int _maxStates;
    private readonly Dictionary<int, State> _inside = new();
    private readonly Dictionary<string, long> _enteredByClass = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _insideByClass = new(StringComparer.Ordinal);
    private readonly object _countsGate = new();
    private float[] _px = [];
    private int _pxWidth, _pxHeight;
    private long _tick;
    private int _insideCount;
    private long _enteredTotal;

    private sealed class State
    {
        public TimeSpan EnteredPts;
        public TimeSpan LastSeenPts;
        public string ClassName = "";
        public long Tick;
    }

    /// <param name="options">The zone (validated here).</param>
    /// <param name="className">Class name of a class id (for class filters and per-class counts); null = the id as text.</param>
    /// <param name="maxTrackStates">Most tracks remembered at once.</param>
    public PolygonZone(ZoneOptions options, Func<int, string>? className = null, int maxTrackStates = 4096)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate($"zone '{options.Name}'");
        if (maxTrackStates < 1) throw new ArgumentOutOfRangeException(nameof(maxTrackStates), maxTrackStates, "must be at least 1");
        _options = options;
        _filter = new ClassFilter(options.Classes, className);
        _maxStates = maxTrackStates;
    }

    public string Name => _options.Name;
    public ZoneOptions Options => _options;
    /// <summary>Confirmed tracks inside now.</summary>
    public int InsideCount => Volatile.Read(ref _insideCount);
    /// <summary>Entries since the start.</summary>
    public long EnteredTotal => Interlocked.Read(ref _enteredTotal);
    /// <summary>Tracks remembered (those inside).</summary>
    public int TrackStates => _inside.Count;

    /// <summary>Whether the pixel point (x, y) of a <paramref name="width"/> x <paramref name="height"/> frame is inside.</summary>
    public bool Contains(float x, float y, int width, int height) => Geometry.InPolygon(Pixels(width, height), x, y);

    /// <summary>
    /// Updates the zone with one frame's tracks; returns one result per track, in the same order. Tentative tracks and
    /// tracks of other classes are never inside; lost (coasting) tracks keep their last state; a removed track that was
    /// inside exits, its dwell ending when it was last seen.
    /// </summary>
    public ZoneResult[] Trigger(IReadOnlyList<Track> tracks, TimeSpan pts, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        var results = new ZoneResult[tracks.Count];
        var px = Pixels(width, height);
        _tick++;
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            if (t.Id <= 0) continue; // tentative
            _inside.TryGetValue(t.Id, out var s);
            if (t.State == TrackState.Removed)
            {
                if (s is not null)
                {
                    Leave(t.Id, s);
                    results[i] = new ZoneResult(false, ZoneTransition.Exited, (s.LastSeenPts - s.EnteredPts).TotalSeconds);
                }
                continue;
            }
            if (t.State != TrackState.Tracked)
            {
                // Lost: the box is only a prediction; keep whatever it was.
                if (s is not null)
                {
                    s.Tick = _tick;
                    results[i] = new ZoneResult(true, ZoneTransition.None, (pts - s.EnteredPts).TotalSeconds);
                }
                continue;
            }
            bool inside = _filter.Accepts(t.ClassId) && IsInside(t, px);
            if (inside && s is null)
            {
                Enter(t, pts);
                results[i] = new ZoneResult(true, ZoneTransition.Entered, 0);
            }
            else if (inside)
            {
                s!.LastSeenPts = pts;
                s.Tick = _tick;
                results[i] = new ZoneResult(true, ZoneTransition.None, (pts - s.EnteredPts).TotalSeconds);
            }
            else if (s is not null)
            {
                Leave(t.Id, s);
                results[i] = new ZoneResult(false, ZoneTransition.Exited, (pts - s.EnteredPts).TotalSeconds);
            }
        }
        return results;
    }

    private bool IsInside(in Track t, float[] px)
    {
        if (_options.Occupancy == ZoneOccupancy.Mask && t.Mask is { Area: > 0 } mask)
            return Geometry.MaskFractionInPolygon(mask, px) >= _options.MinOccupancy;
        var (x, y) = Geometry.Anchor(t.Box, _options.Anchor);
        return Geometry.InPolygon(px, x, y);
    }

    /// <summary>Every track inside leaves (end of stream): (track id, class name, dwell seconds up to when it was last seen).</summary>
    public IReadOnlyList<(int TrackId, string ClassName, double DwellSeconds)> ExitAll()
    {
        var list = new List<(int, string, double)>(_inside.Count);
        foreach (var (id, s) in _inside.ToList())
        {
            Leave(id, s);
            list.Add((id, s.ClassName, (s.LastSeenPts - s.EnteredPts).TotalSeconds));
        }
        return list;
    }

    /// <summary>Forgets every track without events (the tracker restarted, ids start over). Counts of entries stay.</summary>
    public void ResetTracks()
    {
        foreach (var (id, s) in _inside.ToList()) Leave(id, s);
    }

    /// <summary>
    /// Counts now: <c>inside</c> and <c>entered</c> (since the start), then <c>inside:CLASS</c> and <c>entered:CLASS</c>
    /// per class seen. Safe from any thread.
    /// </summary>
    public IReadOnlyDictionary<string, long> Counts()
    {
        var d = new SortedDictionary<string, long>(StringComparer.Ordinal) { ["inside"] = InsideCount, ["entered"] = EnteredTotal };
        lock (_countsGate)
        {
            foreach (var (c, n) in _insideByClass) d["inside:" + c] = n;
            foreach (var (c, n) in _enteredByClass) d["entered:" + c] = n;
        }
        return d;
    }

    private void Enter(in Track t, TimeSpan pts)
    {
        if (_inside.Count >= _maxStates) EvictOldest();
        string cls = _filter.Name(t.ClassId);
        _inside[t.Id] = new State { EnteredPts = pts, LastSeenPts = pts, ClassName = cls, Tick = _tick };
        lock (_countsGate)
        {
            _insideByClass[cls] = _insideByClass.GetValueOrDefault(cls) + 1;
            _enteredByClass[cls] = _enteredByClass.GetValueOrDefault(cls) + 1;
        }
        Interlocked.Increment(ref _insideCount);
        Interlocked.Increment(ref _enteredTotal);
    }

    private void Leave(int id, State s)
    {
        _inside.Remove(id);
        lock (_countsGate) _insideByClass[s.ClassName] = Math.Max(0, _insideByClass.GetValueOrDefault(s.ClassName) - 1);
        Interlocked.Decrement(ref _insideCount);
    }

    private void EvictOldest()
    {
        int oldest = BoundedStates.Oldest(_inside, s => s.Tick);
        Leave(oldest, _inside[oldest]);
    }

    private float[] Pixels(int width, int height)
    {
        if (width != _pxWidth || height != _pxHeight || _px.Length == 0)
        {
            _px = Geometry.ToPixels(_options.Polygon, _options.Units, width, height);
            _pxWidth = width;
            _pxHeight = height;
        }
        return _px;
    }
}
