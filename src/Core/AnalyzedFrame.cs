namespace StreamVision.Core;

/// <summary>
/// A frame with everything the pipeline found in it, as it flows from the tracker to the sinks.
/// Owns one reference to <see cref="Frame"/>: a fan-out adds a reference per sink (<see cref="AddRef"/>), each sink
/// disposes its copy; the last dispose returns the pixels to the pool. Detections, tracks and events are immutable.
/// </summary>
public sealed class AnalyzedFrame : IDisposable
{
    /// <param name="detected">False when the detector skipped this frame (<c>detect.interval</c>, motion gating) and the
    /// tracks are the tracker's predictions alone.</param>
    public AnalyzedFrame(Frame frame, Detections detections, IReadOnlyList<Track> tracks, IReadOnlyList<AnalyticsEvent> events, bool eventsOnly = false,
        bool detected = true)
    {
        Frame = frame;
        Detections = detections;
        Tracks = tracks;
        Events = events;
        EventsOnly = eventsOnly;
        Detected = detected;
    }

    /// <summary>
    /// True for the item that carries end-of-stream events after the last picture: <see cref="Frame"/> is the last frame
    /// again (for its times); picture sinks skip it.
    /// </summary>
    public bool EventsOnly { get; }

    /// <summary>
    /// True when the detector looked at this frame (the default); false on a frame its schedule skipped, whose confirmed
    /// tracks are then predicted by their motion model (<see cref="Track.DetectionIndex"/> -1) and still count as seen.
    /// </summary>
    public bool Detected { get; }

    public Frame Frame { get; }
    public Detections Detections { get; }
    /// <summary>Tracks of this frame (live ones, plus each track removed in this frame once).</summary>
    public IReadOnlyList<Track> Tracks { get; }
    /// <summary>Events this frame raised (track started/ended, zone, line, counts).</summary>
    public IReadOnlyList<AnalyticsEvent> Events { get; }

    /// <summary>The camera-tamper stage's state of the camera at this frame (normal, covered, ...); null when the stage is off.</summary>
    public string? CameraState { get; init; }

    public string StreamId => Frame.StreamId;

    /// <summary>Another owner of the same frame (one more pool reference).</summary>
    public AnalyzedFrame AddRef()
    {
        Frame.AddRef();
        return new AnalyzedFrame(Frame, Detections, Tracks, Events, EventsOnly, Detected) { CameraState = CameraState };
    }

    public void Dispose() => Frame.Dispose();
}
