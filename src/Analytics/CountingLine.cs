using StreamVision.Core;

namespace StreamVision.Analytics;

/// <summary>Whether and how a track crossed a line this frame.</summary>
public enum LineCrossing
{
    None,
    /// <summary>From the left to the right side (looking from the line's start to its end).</summary>
    In,
    /// <summary>From the right to the left side.</summary>
    Out,
}

/// <summary>
/// A directed counting line of one stream: in/out counts per class from confirmed tracks' anchor points. Counting only,
/// no drawing (the sinks' <c>LineOverlay</c> draws). A track's side changes only once its anchor is more than
/// <see cref="LineOptions.HysteresisPixels"/> from the line, and a change counts when the path between the two sides
/// passes between the line's end points. Per-track state is dropped when the track is removed and capped at
/// <see cref="AnalyticsOptions.MaxTrackStates"/>. <see cref="Trigger"/> runs on one thread; counts may be read from any.
/// </summary>
public sealed class CountingLine
{
    private readonly LineOptions _options;
    private readonly ClassFilter _filter;
    private readonly int _maxStates;
    private readonly Dictionary<int, State> _tracks = new();
    private readonly Dictionary<string, (long In, long Out)> _byClass = new(StringComparer.Ordinal);
    private readonly object _countsGate = new();
    private float _ax, _ay, _bx, _by;
    private int _pxWidth = -1, _pxHeight = -1;
    private long _tick;
    private long _in, _out;

    private sealed class State
    {
        public sbyte Side;          // -1 left, +1 right, 0 not yet on a side
        public float X, Y;          // anchor when last seen on Side
        public bool CountedIn, CountedOut;
        public long Tick;
    }

    /// <param name="options">The line (validated here).</param>
    /// <param name="className">Class name of a class id; null = the id as text.</param>
    /// <param name="maxTrackStates">Most tracks remembered at once.</param>
    public CountingLine(LineOptions options, Func<int, string>? className = null, int maxTrackStates = 4096)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate($"line '{options.Name}'");
        if (maxTrackStates < 1) throw new ArgumentOutOfRangeException(nameof(maxTrackStates), maxTrackStates, "must be at least 1");
        _options = options;
        _filter = new ClassFilter(options.Classes, className);
        _maxStates = maxTrackStates;
    }

    public string Name => _options.Name;
    public LineOptions Options => _options;
    public long InCount => Interlocked.Read(ref _in);
    public long OutCount => Interlocked.Read(ref _out);
    /// <summary>Tracks remembered.</summary>
    public int TrackStates => _tracks.Count;

    /// <summary>In and out counts of one class (by name).</summary>
    public (long In, long Out) CountsOf(string className)
    {
        lock (_countsGate) return _byClass.GetValueOrDefault(className);
    }

    /// <summary>
    /// Updates the line with one frame's tracks; returns one crossing per track, in the same order. Tentative and lost
    /// tracks never cross (a lost track's box is a prediction); removed tracks are forgotten.
    /// </summary>
    public LineCrossing[] Trigger(IReadOnlyList<Track> tracks, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(tracks);
        var results = new LineCrossing[tracks.Count];
        Resolve(width, height);
        _tick++;
        float h = _options.HysteresisPixels;
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            if (t.Id <= 0) continue;
            if (t.State == TrackState.Removed)
            {
                _tracks.Remove(t.Id);
                continue;
            }
            if (t.State != TrackState.Tracked) continue;
            if (!_filter.Accepts(t.ClassId)) continue;
            var (x, y) = Geometry.Anchor(t.Box, _options.Anchor);
            float d = Geometry.SignedDistance(_ax, _ay, _bx, _by, x, y);
            sbyte side = d > h ? (sbyte)1 : d < -h ? (sbyte)-1 : (sbyte)0;
            if (!_tracks.TryGetValue(t.Id, out var s))
            {
                if (_tracks.Count >= _maxStates) EvictOldest();
                s = new State();
                _tracks[t.Id] = s;
            }
            s.Tick = _tick;
            if (side == 0) continue; // in the band: keeps its side
            if (s.Side != 0 && side != s.Side && PassesBetweenEnds(s.X, s.Y, x, y))
            {
                var dir = side > 0 ? LineCrossing.In : LineCrossing.Out;
                bool already = dir == LineCrossing.In ? s.CountedIn : s.CountedOut;
                if (!_options.CountOncePerTrack || !already)
                {
                    Count(dir, _filter.Name(t.ClassId));
                    if (dir == LineCrossing.In) s.CountedIn = true;
                    else s.CountedOut = true;
                    results[i] = dir;
                }
            }
            s.Side = side;
            s.X = x;
            s.Y = y;
        }
        return results;
    }

    /// <summary>Forgets every track (the tracker restarted, ids start over). Counts stay.</summary>
    public void ResetTracks() => _tracks.Clear();

    /// <summary>Counts now: <c>in</c> and <c>out</c>, then <c>in:CLASS</c> and <c>out:CLASS</c> per class seen. Safe from any thread.</summary>
    public IReadOnlyDictionary<string, long> Counts()
    {
        var d = new SortedDictionary<string, long>(StringComparer.Ordinal) { ["in"] = InCount, ["out"] = OutCount };
        lock (_countsGate)
        {
            foreach (var (c, (i, o)) in _byClass)
            {
                d["in:" + c] = i;
                d["out:" + c] = o;
            }
        }
        return d;
    }

    private void Count(LineCrossing dir, string cls)
    {
        lock (_countsGate)
        {
            var (i, o) = _byClass.GetValueOrDefault(cls);
            _byClass[cls] = dir == LineCrossing.In ? (i + 1, o) : (i, o + 1);
        }
        if (dir == LineCrossing.In) Interlocked.Increment(ref _in);
        else Interlocked.Increment(ref _out);
    }

    /// <summary>Whether the move from (x0, y0) to (x1, y1), which changes side, meets the line between its end points.</summary>
    private bool PassesBetweenEnds(float x0, float y0, float x1, float y1)
    {
        float d0 = Geometry.SignedDistance(_ax, _ay, _bx, _by, x0, y0);
        float d1 = Geometry.SignedDistance(_ax, _ay, _bx, _by, x1, y1);
        if (d0 == d1) return false;
        float k = d0 / (d0 - d1);
        float qx = x0 + k * (x1 - x0), qy = y0 + k * (y1 - y0);
        float dx = _bx - _ax, dy = _by - _ay;
        float u = ((qx - _ax) * dx + (qy - _ay) * dy) / (dx * dx + dy * dy);
        return u is >= 0 and <= 1;
    }

    private void EvictOldest()
    {
        int oldest = BoundedStates.Oldest(_tracks, s => s.Tick);
        _tracks.Remove(oldest);
    }

    private void Resolve(int width, int height)
    {
        if (width == _pxWidth && height == _pxHeight) return;
        var xy = Geometry.ToPixels([_options.From, _options.To], _options.Units, width, height);
        (_ax, _ay, _bx, _by) = (xy[0], xy[1], xy[2], xy[3]);
        _pxWidth = width;
        _pxHeight = height;
    }
}
