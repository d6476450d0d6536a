using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking;

/// <summary>
/// Options of one <see cref="ByteTracker"/> (one per stream). Scores are in the detector's units (0..1 for most models);
/// similarities are IoU in 0..1, multiplied by the detection score where <see cref="FuseScore"/> says so.
/// Every threshold states its trade-off; the defaults follow ByteTrack's published settings where they exist.
/// </summary>
public sealed record ByteTrackerOptions
{
    /// <summary>
    /// Detection score, at or above which a detection is "high" (default 0.5): matched first, to tracked and lost tracks.
    /// Higher: fewer false matches from clutter; more objects left to the weaker second stage.
    /// </summary>
    [OptionRange(0, 1)]
    public float HighScore { get; init; } = 0.5f;

    /// <summary>
    /// Detection score, at or above which a detection below <see cref="HighScore"/> may still extend a tracked track in the
    /// second stage (default 0.1); lower detections are ignored.
    /// Lower: tracks survive partial occlusion; tracks may latch onto background clutter.
    /// </summary>
    [OptionRange(0, 1)]
    public float LowScore { get; init; } = 0.1f;

    /// <summary>
    /// Detection score, at or above which an unmatched high detection starts a tentative track (default 0.7; ByteTrack
    /// starts tracks 0.1 above its high threshold). Higher: fewer spurious tracks; objects are picked up later.
    /// </summary>
    [OptionRange(0, 1)]
    public float NewTrackScore { get; init; } = 0.7f;

    /// <summary>
    /// Least similarity, 0..1, for a high detection to match a tracked or lost track (default 0.2; ByteTrack's match_thresh 0.8 as a cost).
    /// Lower: follows fast or jumpy objects and recovers lost ones further away; more id swaps in crowds.
    /// </summary>
    [OptionRange(0, 1)]
    public float HighMatchMinSimilarity { get; init; } = 0.2f;

    /// <summary>
    /// Least IoU, 0..1, for a low-score detection to extend a tracked track (default 0.5).
    /// Lower: keeps more tracks through occlusion; low-score false detections steal tracks more often.
    /// </summary>
    [OptionKey("low_match_min_iou"), OptionRange(0, 1)]
    public float LowMatchMinIoU { get; init; } = 0.5f;

    /// <summary>
    /// Least similarity, 0..1, for a high detection to extend a tentative (New) track (default 0.3).
    /// Lower: confirms fast movers; lets unrelated detections confirm a spurious track.
    /// </summary>
    [OptionRange(0, 1)]
    public float TentativeMatchMinSimilarity { get; init; } = 0.3f;

    /// <summary>
    /// Multiply IoU by the detection score (clamped to 0..1) in the high and tentative stages (default true).
    /// True prefers confident detections when several overlap; false treats every high detection alike (better for
    /// detectors whose scores are not 0..1 or are badly calibrated).
    /// </summary>
    public bool FuseScore { get; init; } = true;

    /// <summary>
    /// Matched detections, in consecutive frames, a new track needs before it is confirmed and gets its id (default 2; 1 confirms at once).
    /// Higher: flickering false detections never become tracks; a real object is reported that many frames late.
    /// </summary>
    [OptionRange(1, 100, Unit = "frames")]
    public int MinHits { get; init; } = 2;

    /// <summary>
    /// Confirm the tracks started in the stream's first frame (or the first after <see cref="ByteTracker.Reset"/>) at once,
    /// as ByteTrack does (default true). True: objects already in view are reported from the first frame; false: a false
    /// detection in the first frame needs <see cref="MinHits"/> like any other before it is reported.
    /// </summary>
    public bool ConfirmAtStart { get; init; } = true;

    /// <summary>
    /// Seconds a confirmed track that lost its detection is kept (coasting on its motion model) before it is removed (default 1.5).
    /// 0 removes it at the first miss. Longer: the same id comes back after longer occlusions; an old id may be given to a
    /// different object that appears where it was predicted.
    /// </summary>
    [OptionRange(0, 3600)]
    public double LostTimeoutSeconds { get; init; } = 1.5;

    /// <summary>
    /// Match only detections of the track's class (default false).
    /// True: a car never continues a person's track; false: a track survives a detector that flips between similar classes.
    /// </summary>
    public bool ClassAware { get; init; }

    /// <summary>
    /// Report a matched track at its detection's box rather than at the motion model's corrected estimate (default false).
    /// False: steadier boxes (and better MOTA on MOT15) that can lag a sudden change; true: exactly the detector's box.
    /// Either way <see cref="Track.DetectionIndex"/> gives the detection.
    /// </summary>
    public bool ReportDetectionBox { get; init; }

    /// <summary>
    /// Most live tracks (tentative, tracked and lost) one tracker holds (default 1000); beyond it new detections start no track.
    /// Higher allows denser scenes; the cap bounds memory and per-frame cost when a detector floods.
    /// </summary>
    [OptionRange(1, 100000)]
    public int MaxTracks { get; init; } = 1000;

    /// <summary>Noise of the default Kalman motion model (used when the tracker is given no other model).</summary>
    public KalmanMotionOptions Kalman { get; init; } = new();

    /// <summary>Throws <see cref="OptionsException"/> naming the first invalid field under <paramref name="path"/>; returns this.</summary>
    public ByteTrackerOptions Validate(string path = "tracker")
    {
        CheckFinite(HighScore, $"{path}.highScore");
        CheckFinite(LowScore, $"{path}.lowScore");
        CheckFinite(NewTrackScore, $"{path}.newTrackScore");
        if (LowScore > HighScore)
            throw new OptionsException($"{path}.lowScore", $"must not exceed highScore ({HighScore}), got {LowScore}");
        CheckUnit(HighMatchMinSimilarity, $"{path}.highMatchMinSimilarity");
        CheckUnit(LowMatchMinIoU, $"{path}.lowMatchMinIoU");
        CheckUnit(TentativeMatchMinSimilarity, $"{path}.tentativeMatchMinSimilarity");
        if (MinHits < 1)
            throw new OptionsException($"{path}.minHits", $"must be at least 1 frame, got {MinHits}");
        if (!(LostTimeoutSeconds >= 0) || !double.IsFinite(LostTimeoutSeconds))
            throw new OptionsException($"{path}.lostTimeoutSeconds", $"must be a finite number of seconds >= 0, got {LostTimeoutSeconds}");
        if (MaxTracks < 1)
            throw new OptionsException($"{path}.maxTracks", $"must be at least 1, got {MaxTracks}");
        if (Kalman is null)
            throw new OptionsException($"{path}.kalman", "must not be null");
        Kalman.Validate($"{path}.kalman");
        return this;
    }

    private static void CheckFinite(float value, string key)
    {
        if (!float.IsFinite(value)) throw new OptionsException(key, $"must be a finite score, got {value}");
    }

    private static void CheckUnit(float value, string key)
    {
        if (!(value >= 0 && value < 1)) throw new OptionsException(key, $"must be in [0, 1), got {value}");
    }
}
