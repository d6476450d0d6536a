namespace StreamVision.Core;

/// <summary>Event types (the <c>type</c> field of the JSON schema described in the README, section Events).</summary>
public static class EventTypes
{
    public const string TrackStarted = "track_started";
    public const string TrackEnded = "track_ended";
    public const string ZoneEnter = "zone_enter";
    public const string ZoneExit = "zone_exit";
    public const string LineCrossed = "line_crossed";
    public const string Counts = "counts";
    /// <summary>The classifier labelled a track for the first time or changed its label.</summary>
    public const string TrackClassified = "track_classified";
    /// <summary>The camera-tamper stage saw the camera covered, defocused, moved or frozen (class and score say which).</summary>
    public const string CameraTampered = "camera_tampered";
    /// <summary>The camera looks normal again after <see cref="CameraTampered"/> (class: the state it left).</summary>
    public const string CameraRestored = "camera_restored";
}

/// <summary>
/// Something that happened in a stream, as sinks publish it. Immutable. Fields that do not apply to a type are null.
/// </summary>
public sealed record AnalyticsEvent
{
    /// <summary>One of <see cref="EventTypes"/>.</summary>
    public required string Type { get; init; }
    public required string StreamId { get; init; }
    /// <summary>Wall-clock time (UTC) of the frame that raised it.</summary>
    public required DateTimeOffset Time { get; init; }
    /// <summary>Stream time of that frame.</summary>
    public required TimeSpan Pts { get; init; }
    /// <summary>Frame sequence number in the stream.</summary>
    public required long FrameSequence { get; init; }
    public int? TrackId { get; init; }
    public int? ClassId { get; init; }
    /// <summary>The object's class; for camera_tampered/camera_restored the camera state (covered, defocused, moved, frozen).</summary>
    public string? ClassName { get; init; }
    public float? Score { get; init; }
    public Box? Box { get; init; }
    /// <summary>Zone or line name (zone_*, line_crossed).</summary>
    public string? Region { get; init; }
    /// <summary>"in" or "out" for line crossings.</summary>
    public string? Direction { get; init; }
    /// <summary>Seconds: track life (track_ended) or dwell time in the zone (zone_exit).</summary>
    public double? DurationSeconds { get; init; }
    /// <summary>track_ended: where it started and ended (box centres) and how far it went (pixels).</summary>
    public PathSummary? Path { get; init; }
    /// <summary>The track's classification (track_classified, track_ended and other track events once it has one).</summary>
    public TrackClassification? Classification { get; init; }
    /// <summary>Outline of the track's segmentation mask, frame pixels x0,y0,x1,y1,... (seg models only).</summary>
    public IReadOnlyList<float>? Polygon { get; init; }
    /// <summary>counts: per region and class, in and out (or inside) counts.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, long>>? Counts { get; init; }
}

/// <summary>Where a track went: first and last centre (pixels), path length (pixels) and points observed.</summary>
public sealed record PathSummary(float StartX, float StartY, float EndX, float EndY, float LengthPixels, int Points);
