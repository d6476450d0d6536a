using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Analytics;

/// <summary>Which point of a track's box stands for its position in zones and lines.</summary>
public enum AnchorPoint
{
    /// <summary>Middle of the bottom edge: where a person or vehicle touches the ground (default).</summary>
    BottomCenter,
    /// <summary>Centre of the box.</summary>
    Center,
    /// <summary>Middle of the top edge (heads in a top-down view).</summary>
    TopCenter,
    /// <summary>Middle of the left edge.</summary>
    CenterLeft,
    /// <summary>Middle of the right edge.</summary>
    CenterRight,
    /// <summary>Bottom-left corner.</summary>
    BottomLeft,
    /// <summary>Bottom-right corner.</summary>
    BottomRight,
    /// <summary>Top-left corner.</summary>
    TopLeft,
    /// <summary>Top-right corner.</summary>
    TopRight,
}

/// <summary>What decides whether a track is inside a zone.</summary>
public enum ZoneOccupancy
{
    /// <summary>Its anchor point (<see cref="ZoneOptions.Anchor"/>) is inside the polygon (default).</summary>
    Anchor,
    /// <summary>
    /// At least <see cref="ZoneOptions.MinOccupancy"/> of its segmentation mask's area is inside the polygon (seg models;
    /// a track without a mask falls back to its anchor point).
    /// </summary>
    Mask,
}

/// <summary>How zone and line coordinates are given.</summary>
public enum CoordinateUnits
{
    /// <summary>Pixels of the decoded frame (default).</summary>
    Pixels,
    /// <summary>Fractions 0..1 of the frame width and height (the same config fits every resolution).</summary>
    Fraction,
}

/// <summary>Zones, lines and periodic counts of one stream. Check with <see cref="Validate"/> (the constructor of <see cref="StreamAnalytics"/> does).</summary>
public sealed record AnalyticsOptions
{
    /// <summary>Polygon zones: enter and exit events, dwell time, who is inside. Empty (default) = none.</summary>
    public IReadOnlyList<ZoneOptions> Zones { get; init; } = [];
    /// <summary>Directed counting lines: in/out crossings per class. Empty (default) = none.</summary>
    public IReadOnlyList<LineOptions> Lines { get; init; } = [];
    /// <summary>
    /// Seconds of stream time (pts) between <c>counts</c> events; 0 = none while running (one final counts event is still
    /// raised at the end of the stream). Default 60. Shorter gives fresher dashboards and more messages.
    /// </summary>
    [OptionRange(0, 86400)]
    public double CountsIntervalSeconds { get; init; } = 60;
    /// <summary>
    /// Most tracks one zone or line remembers at once; beyond it the least recently seen is forgotten (memory stays bounded
    /// even if a tracker never reports removals). Default 4096; 1..1,000,000.
    /// </summary>
    [OptionRange(1, 1_000_000)]
    public int MaxTrackStates { get; init; } = 4096;

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "analytics")
    {
        if (!(CountsIntervalSeconds >= 0) || double.IsInfinity(CountsIntervalSeconds))
            throw new OptionsException($"{path}.counts_interval_seconds", $"must be 0 (off) or a positive number of seconds, got {CountsIntervalSeconds}");
        if (MaxTrackStates is < 1 or > 1_000_000)
            throw new OptionsException($"{path}.max_track_states", $"must be 1..1000000, got {MaxTrackStates}");
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < Zones.Count; i++)
        {
            string p = $"{path}.zones[{i}]";
            var z = Zones[i] ?? throw new OptionsException(p, "is empty");
            z.Validate(p);
            if (!names.Add(z.Name)) throw new OptionsException($"{p}.name", $"'{z.Name}' is used by another zone or line; names must be unique per stream");
        }
        for (int i = 0; i < Lines.Count; i++)
        {
            string p = $"{path}.lines[{i}]";
            var l = Lines[i] ?? throw new OptionsException(p, "is empty");
            l.Validate(p);
            if (!names.Add(l.Name)) throw new OptionsException($"{p}.name", $"'{l.Name}' is used by another zone or line; names must be unique per stream");
        }
    }

    internal static void ValidateName(string? name, string path)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new OptionsException($"{path}.name", "is required");
        if (name.Length > 64) throw new OptionsException($"{path}.name", "must be at most 64 characters");
    }

    internal static void ValidatePoint((float X, float Y) p, CoordinateUnits units, string path)
    {
        if (!float.IsFinite(p.X) || !float.IsFinite(p.Y)) throw new OptionsException(path, "coordinates must be finite numbers");
        if (units == CoordinateUnits.Fraction && (p.X is < 0 or > 1 || p.Y is < 0 or > 1))
            throw new OptionsException(path, string.Create(CultureInfo.InvariantCulture, $"fractions must be 0..1, got ({p.X}, {p.Y})"));
        if (units == CoordinateUnits.Pixels && (p.X is < 0 or > 16384 || p.Y is < 0 or > 16384))
            throw new OptionsException(path, string.Create(CultureInfo.InvariantCulture, $"pixels must be 0..16384, got ({p.X}, {p.Y})"));
    }

    internal static void ValidateColor(string? color, string path)
    {
        if (color is not null && !TryParseColor(color, out _)) throw new OptionsException($"{path}.color", $"must be #RRGGBB, got '{color}'");
    }

    internal static bool TryParseColor(string s, out uint rgb)
    {
        rgb = 0;
        return s.Length == 7 && s[0] == '#' && uint.TryParse(s.AsSpan(1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out rgb);
    }
}

/// <summary>A polygon zone: tracks whose anchor point is inside are in the zone.</summary>
public sealed record ZoneOptions
{
    /// <summary>Name of the zone in events (<c>region</c>), counts and drawings; unique among the stream's zones and lines, at most 64 characters.</summary>
    public required string Name { get; init; }
    /// <summary>Corners in order (at least 3), in <see cref="Units"/>. The polygon may be concave; it closes itself.</summary>
    public required IReadOnlyList<(float X, float Y)> Polygon { get; init; }
    /// <summary>Unit of <see cref="Polygon"/>. Default pixels.</summary>
    public CoordinateUnits Units { get; init; } = CoordinateUnits.Pixels;
    /// <summary>Point of the box tested against the polygon. Default bottom centre.</summary>
    public AnchorPoint Anchor { get; init; } = AnchorPoint.BottomCenter;
    /// <summary>
    /// <c>anchor</c> (default): a track is inside when its anchor point is; <c>mask</c>: when at least
    /// <see cref="MinOccupancy"/> of its segmentation mask lies inside (needs a seg detector; tracks without a mask use the anchor).
    /// </summary>
    public ZoneOccupancy Occupancy { get; init; } = ZoneOccupancy.Anchor;
    /// <summary>
    /// With <c>occupancy: mask</c>: fraction (0..1] of the mask's area that must be inside the zone. Lower counts objects that
    /// only reach into the zone. Default 0.5.
    /// </summary>
    [OptionRange(0.001, 1)]
    public double MinOccupancy { get; init; } = 0.5;
    /// <summary>Class names that count; empty = every class.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];
    /// <summary>Colour for drawing, <c>#RRGGBB</c>; null = from a palette by position.</summary>
    public string? Color { get; init; }

    public void Validate(string path)
    {
        AnalyticsOptions.ValidateName(Name, path);
        if (!(MinOccupancy > 0) || MinOccupancy > 1) throw new OptionsException($"{path}.min_occupancy", $"must be in (0, 1], got {MinOccupancy}");
        if (Polygon is null || Polygon.Count < 3) throw new OptionsException($"{path}.polygon", "needs at least 3 points");
        if (Polygon.Count > 256) throw new OptionsException($"{path}.polygon", "has more than 256 points");
        for (int i = 0; i < Polygon.Count; i++) AnalyticsOptions.ValidatePoint(Polygon[i], Units, $"{path}.polygon[{i}]");
        double area = 0;
        for (int i = 0, j = Polygon.Count - 1; i < Polygon.Count; j = i++) area += (double)Polygon[j].X * Polygon[i].Y - (double)Polygon[i].X * Polygon[j].Y;
        if (Math.Abs(area) < 1e-9) throw new OptionsException($"{path}.polygon", "has no area (all points on one line)");
        AnalyticsOptions.ValidateColor(Color, path);
    }
}

/// <summary>
/// A directed counting line from <see cref="From"/> to <see cref="To"/>. Standing at From and looking at To, a track
/// crossing from the left side to the right side counts <c>in</c>, the other way <c>out</c> (the drawn arrow points in).
/// Only crossings between the two end points count.
/// </summary>
public sealed record LineOptions
{
    /// <summary>Name of the line in events (<c>region</c>), counts and drawings; unique among the stream's zones and lines, at most 64 characters.</summary>
    public required string Name { get; init; }
    /// <summary>Start point, in <see cref="Units"/>.</summary>
    [OptionIgnore("written as points[0]")]
    public required (float X, float Y) From { get; init; }
    /// <summary>End point, in <see cref="Units"/>.</summary>
    [OptionIgnore("written as points[1]")]
    public required (float X, float Y) To { get; init; }

    /// <summary>
    /// The two end points <c>[[x1, y1], [x2, y2]]</c>, in <see cref="Units"/>: standing at the first and looking at the
    /// second, crossing from left to right counts <c>in</c>. Sets <see cref="From"/> and <see cref="To"/>.
    /// </summary>
    [OptionRequired]
    public IReadOnlyList<(float X, float Y)> Points
    {
        get => [From, To];
        init
        {
            if (value is not { Count: 2 }) throw new OptionsException("points", $"must be two points [[x1, y1], [x2, y2]], got {value?.Count ?? 0}");
            From = value[0];
            To = value[1];
        }
    }
    /// <summary>Unit of <see cref="Points"/>. Default pixels.</summary>
    public CoordinateUnits Units { get; init; } = CoordinateUnits.Pixels;
    /// <summary>Point of the box that crosses. Default bottom centre.</summary>
    public AnchorPoint Anchor { get; init; } = AnchorPoint.BottomCenter;
    /// <summary>Class names that count; empty = every class.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];
    /// <summary>Colour for drawing, <c>#RRGGBB</c>; null = from a palette by position.</summary>
    public string? Color { get; init; }
    /// <summary>
    /// Pixels a track's anchor must be away from the line to be on a side; within the band it keeps its last side.
    /// Bigger ignores more box jitter on the line, but a track must move further to count. 0 = no band. Default 4.
    /// </summary>
    [OptionRange(0, 1000)]
    public float HysteresisPixels { get; init; } = 4;
    /// <summary>
    /// true: a track counts at most once per direction (one that wobbles or loiters across the line counts once);
    /// false: every crossing counts. Default true.
    /// </summary>
    public bool CountOncePerTrack { get; init; } = true;

    public void Validate(string path)
    {
        AnalyticsOptions.ValidateName(Name, path);
        AnalyticsOptions.ValidatePoint(From, Units, $"{path}.from");
        AnalyticsOptions.ValidatePoint(To, Units, $"{path}.to");
        if (From == To) throw new OptionsException($"{path}.to", "must differ from 'from' (a line needs a length)");
        if (!(HysteresisPixels >= 0) || HysteresisPixels > 1000) throw new OptionsException($"{path}.hysteresis_pixels", $"must be 0..1000, got {HysteresisPixels}");
        AnalyticsOptions.ValidateColor(Color, path);
    }
}
