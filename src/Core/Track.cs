namespace StreamVision.Core;

/// <summary>Life cycle of a track: New (tentative, not yet confirmed), Tracked, Lost (not seen, kept for a while), Removed.</summary>
public enum TrackState
{
    New,
    Tracked,
    Lost,
    Removed,
}

/// <summary>
/// One track as a tracker reports it for a frame.
/// <see cref="DetectionIndex"/> is the row of the frame's <see cref="Detections"/> it was updated with, or -1 when it
/// was not matched this frame (its box is then the motion model's prediction).
/// </summary>
/// <param name="Id">Id, unique within the tracker (stream) that made it: 1, 2, 3, ... once confirmed; negative (-1, -2, ...) while tentative.</param>
/// <param name="Box">Box in pixels.</param>
/// <param name="Score">Score of the last matched detection.</param>
/// <param name="ClassId">Class of the last matched detection.</param>
/// <param name="State">Life-cycle state.</param>
/// <param name="Hits">Frames in which it was matched.</param>
/// <param name="Age">Frames since it started.</param>
/// <param name="StartTime">Stream time of its first detection.</param>
/// <param name="VelocityX">Centre velocity, pixels per second.</param>
/// <param name="VelocityY">Centre velocity, pixels per second.</param>
/// <param name="DetectionIndex">Matched detection row this frame, -1 if none.</param>
public readonly record struct Track(
    int Id,
    Box Box,
    float Score,
    int ClassId,
    TrackState State,
    int Hits,
    int Age,
    TimeSpan StartTime,
    float VelocityX,
    float VelocityY,
    int DetectionIndex)
{
    /// <summary>The classifier's latest answer about this track (the classify stage attaches it); null = none yet or no classifier.</summary>
    public TrackClassification? Classification { get; init; }

    /// <summary>Segmentation mask of the detection matched this frame (seg models only); null = none.</summary>
    public InstanceMask? Mask { get; init; }

    /// <summary>Confirmed and matched or coasting: what sinks and analytics count.</summary>
    public bool IsConfirmed => State is TrackState.Tracked or TrackState.Lost;
}
