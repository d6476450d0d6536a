using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Pipeline;

/// <summary>
/// Detect less, track more: on which frames of a stream the detector runs. On the others the tracker predicts every track
/// from its motion model (<c>ByteTracker.Predict</c>), so tracks, events and drawn boxes still come on every frame.
/// Configured per stream under <c>detect</c>.
/// </summary>
public sealed record DetectScheduleOptions
{
    /// <summary>
    /// Run the detector on every Nth frame (1 = every frame); the tracker predicts the N-1 frames between. Higher divides
    /// the detector's time per stream by N; new objects appear and fast turns are followed up to N-1 frames late. Default 1.
    /// </summary>
    [OptionRange(1, 1000, Unit = "frames")]
    public int Interval { get; init; } = 1;
    /// <summary>
    /// Run the detector only on frames where the motion detector (OpenCV MOG2 background subtraction, <see cref="Motion"/>)
    /// sees change: a still scene costs a background update per frame instead of a model run. For fixed cameras (a moving
    /// camera sees change everywhere). Combined with <see cref="Interval"/>: a frame due by the interval is detected only
    /// when it moves. Default false.
    /// </summary>
    public bool MotionGating { get; init; }
    /// <summary>
    /// With <see cref="MotionGating"/>: the detector still runs after this many frames without one, so objects that stand
    /// still are found and keep their tracks (the tracker drops tracks unseen for its lost timeout). 0 = only on motion. Default 25.
    /// </summary>
    [OptionRange(0, 100000, Unit = "frames")]
    public int MaxSkip { get; init; } = 25;
    /// <summary>The background model of <see cref="MotionGating"/>: a blob of at least <c>min_area</c> pixels is change. Default: analysed at a quarter of the size.</summary>
    public BackgroundSubtractorOptions Motion { get; init; } = new() { Downscale = 4 };

    /// <summary>True when every frame is detected (the default): nothing to schedule.</summary>
    internal bool EveryFrame => Interval == 1 && !MotionGating;

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public DetectScheduleOptions Validate(string path = "detect")
    {
        if (Interval is < 1 or > 1000) throw new OptionsException($"{path}.interval", $"must be 1..1000 frames, got {Interval}");
        if (MaxSkip is < 0 or > 100000) throw new OptionsException($"{path}.max_skip", $"must be 0..100000 frames, got {MaxSkip}");
        // Only motion gating skips by max_skip; without it the value is unused and any interval goes.
        if (MotionGating && MaxSkip > 0 && MaxSkip < Interval)
            throw new OptionsException($"{path}.max_skip", $"must be 0 or at least interval ({Interval}) with motion_gating, got {MaxSkip}");
        Motion.Validate($"{path}.motion");
        return this;
    }
}
