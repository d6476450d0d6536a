using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking;

/// <summary>
/// Options of one <see cref="ByteTracker"/> (one per stream). Scores are in the detector's units (0..1 for most models);
/// similarities are IoU in 0..1, multiplied by the detection score where <see cref="FuseScore"/> says so.
/// Every threshold states its trade-off. The defaults follow ByteTrack's published settings where they exist, except where
/// measurements on the MOT15 sequences chose otherwise (README, "Tracking and MOT metrics", has the figures of each choice).
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
    /// Detection score, at or above which an unmatched high detection starts a tentative track (default 0.8; ByteTrack
    /// starts tracks 0.1 above its high threshold). Higher: fewer spurious tracks, and a half-hidden object (scored lower)
    /// waits for its lost track instead of starting a new id; objects are picked up later.
    /// </summary>
    [OptionRange(0, 1)]
    public float NewTrackScore { get; init; } = 0.8f;

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
    /// Matched detections a new track needs before it is confirmed and gets its id (default 3, as SORT; 1 confirms at once),
    /// in consecutive frames unless <see cref="TentativeMaxMisses"/> allows gaps.
    /// Higher: flickering false detections never become tracks; a real object is reported that many frames late.
    /// </summary>
    [OptionRange(1, 100, Unit = "frames")]
    public int MinHits { get; init; } = 3;

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
    /// Which tracks high detections are offered to first (default <see cref="LostTrackMatching.Joint"/>, as ByteTrack).
    /// Joint: tracked and lost tracks compete in one assignment, so a lost track may take a detection a tracked one
    /// needed; AfterTracked: lost tracks only get what the tracked ones left, at the cost of a later re-find when a lost
    /// track's object is the better match.
    /// </summary>
    public LostTrackMatching LostMatching { get; init; } = LostTrackMatching.Joint;

    /// <summary>
    /// Least similarity, 0..1, for a high detection to re-find a lost track when <see cref="LostMatching"/> is
    /// AfterTracked (default 0.2, as <see cref="HighMatchMinSimilarity"/>).
    /// Lower: re-finds objects that moved off their predicted path; a lost id may jump to a nearby newcomer.
    /// </summary>
    [OptionRange(0, 1)]
    public float LostMatchMinSimilarity { get; init; } = 0.2f;

    /// <summary>
    /// Weight of direction consistency in association (default 0: IoU alone; OC-SORT uses 0.2): a detection that lies the
    /// way a track was heading gains up to w/2 similarity, one behind it loses up to w/2 (times the detection's score).
    /// Higher: crossing objects keep their ids; an object that turns sharply or stops may lose its track to a neighbour.
    /// Only ranks pairs that pass the stage's IoU threshold.
    /// </summary>
    [OptionRange(0, 1)]
    public float DirectionWeight { get; init; }

    /// <summary>
    /// Least IoU, 0..1, between a matched detection and the prediction of another track that was seen in the previous frame
    /// but is unmatched now, for the detection to count as shared (default 0.3; 0 turns it off). A shared detection (two
    /// people in one box, see also <see cref="SharedDetectionWidthRatio"/>) confirms its track but does not move it: the
    /// track keeps its predicted box and velocity.
    /// Lower: crossing objects keep their own paths through merged detections; a track next to an object that just left
    /// may lag behind its detections for a frame.
    /// </summary>
    [OptionKey("shared_detection_iou"), OptionRange(0, 1)]
    public float SharedDetectionIoU { get; init; } = 0.3f;

    /// <summary>
    /// How much wider than its track's predicted box, as a ratio, a detection must be to count as shared (default 1.2;
    /// see <see cref="SharedDetectionIoU"/>). Two people side by side make a wider box; one person next to another does not.
    /// Lower: more merged detections are caught; a track that really widens (turning, approaching) is held back more often.
    /// </summary>
    [OptionRange(0, 10)]
    public float SharedDetectionWidthRatio { get; init; } = 1.2f;

    /// <summary>
    /// Fraction of its width and height added on every side of a lost track's predicted box and of each detection before
    /// their IoU is taken (default 0; "buffered IoU" as in C-BIoU).
    /// Higher: a lost track is re-found although its coasting prediction drifted off the object; it may also grab a
    /// neighbour's detection.
    /// </summary>
    [OptionRange(0, 2)]
    public float LostBoxBuffer { get; init; }

    /// <summary>
    /// While a track is lost its box keeps the size it had (the size rates of the state are zeroed when it is lost; default false).
    /// True: a coasting box neither collapses nor balloons, so it can be re-found after a longer gap; false: size keeps its
    /// last trend (right for objects that approach or recede steadily while hidden). Affects models that extrapolate
    /// <see cref="MotionState.Mean"/> (Kalman); a learned model predicts from its history instead.
    /// </summary>
    public bool LostHoldsSize { get; init; }

    /// <summary>
    /// When a lost track is re-found, re-run its motion model from its last detection to the new one over a straight
    /// virtual path, one step per missed frame (default false; OC-SORT's observation-centric re-update).
    /// True: the state after an occlusion is fitted along the path the object must have taken (costs one predict and
    /// update per missed frame); false: one correction with a large innovation, weighed by the uncertainty the coasting
    /// built up — which the Kalman filter here already handles as well on the TUD sequences.
    /// </summary>
    public bool RefindReupdate { get; init; }

    /// <summary>
    /// Frames a tentative (New) track may miss before it is dropped (default 0: dropped at its first miss).
    /// Higher: an object detected only every other frame is still confirmed; flickering false detections get more
    /// chances to pile up <see cref="MinHits"/>.
    /// </summary>
    [OptionRange(0, 10000, Unit = "frames")]
    public int TentativeMaxMisses { get; init; }

    /// <summary>
    /// Highest IoU, 0..1, an unmatched detection may have with a tracked track's box and still start a track (default 0.5;
    /// 1: no limit). Lower: duplicate detections of a tracked object start no false track; an object emerging from behind
    /// another is picked up only once it overlaps less.
    /// </summary>
    [OptionKey("new_track_max_iou"), OptionRange(0, 1)]
    public float NewTrackMaxIoU { get; init; } = 0.5f;

    /// <summary>
    /// Move every track's prediction with the camera's frame-to-frame motion given to
    /// <see cref="ByteTracker.Update(Detections, TimeSpan, System.Numerics.Matrix3x2)"/> (default false; BoT-SORT's
    /// camera-motion compensation). True for moving cameras (pan, tilt, zoom, a vehicle): tracks stay on their objects
    /// while the picture slides; false for fixed cameras, which then pay nothing for estimating a motion that is not there.
    /// The caller estimates the motion (Imaging's <c>CameraMotionEstimator</c>): <c>streamvision track --camera-motion</c>
    /// does, and so does the streaming pipeline (from each frame's pixels; per stream with the stream key
    /// <c>compensate_camera_motion</c>).
    /// </summary>
    public bool CompensateCameraMotion { get; init; }

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
        CheckUnit(LostMatchMinSimilarity, $"{path}.lostMatchMinSimilarity");
        if (!Enum.IsDefined(LostMatching))
            throw new OptionsException($"{path}.lostMatching", $"must be Joint or AfterTracked, got {LostMatching}");
        if (!(DirectionWeight >= 0 && DirectionWeight <= 1))
            throw new OptionsException($"{path}.directionWeight", $"must be in [0, 1], got {DirectionWeight}");
        CheckUnit(SharedDetectionIoU, $"{path}.sharedDetectionIoU");
        if (!(SharedDetectionWidthRatio >= 0 && SharedDetectionWidthRatio <= 10))
            throw new OptionsException($"{path}.sharedDetectionWidthRatio", $"must be in [0, 10], got {SharedDetectionWidthRatio}");
        if (!(LostBoxBuffer >= 0 && LostBoxBuffer <= 2))
            throw new OptionsException($"{path}.lostBoxBuffer", $"must be in [0, 2], got {LostBoxBuffer}");
        if (TentativeMaxMisses < 0)
            throw new OptionsException($"{path}.tentativeMaxMisses", $"must be at least 0 frames, got {TentativeMaxMisses}");
        if (!(NewTrackMaxIoU >= 0 && NewTrackMaxIoU <= 1))
            throw new OptionsException($"{path}.newTrackMaxIoU", $"must be in [0, 1], got {NewTrackMaxIoU}");
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

/// <summary>How lost tracks take part in the first (high-score) association stage; see <see cref="ByteTrackerOptions.LostMatching"/>.</summary>
public enum LostTrackMatching
{
    /// <summary>Tracked and lost tracks are matched together (ByteTrack).</summary>
    Joint,

    /// <summary>Tracked tracks first; lost tracks are matched to the high detections left over.</summary>
    AfterTracked,
}
