using StreamVision.Core;

namespace StreamVision.Tracking.Motion;

/// <summary>
/// Noise of the constant-velocity Kalman filter. Every noise is a fraction of the box's own width or height, so small
/// (far) and large (near) objects are treated alike. Values are per frame at <see cref="ReferenceFps"/>; other time steps
/// scale the process noise linearly with the elapsed time. The defaults are the ones ByteTrack/BoT-SORT use at 30 fps.
/// </summary>
public sealed record KalmanMotionOptions
{
    /// <summary>
    /// Position noise, fraction of the box side (default 1/20): measurement noise and per-frame process noise of centre and size.
    /// Higher trusts detections less (smoother boxes, slower to follow turns); lower follows jittery detections.
    /// </summary>
    [OptionRange(1e-6, 10)]
    public double PositionNoise { get; init; } = 1.0 / 20;

    /// <summary>
    /// Velocity noise, fraction of the box side per frame, per frame (default 1/160).
    /// Higher lets the velocity change quickly (follows manoeuvres, worse coasting through occlusion); lower coasts straighter.
    /// </summary>
    [OptionRange(1e-6, 10)]
    public double VelocityNoise { get; init; } = 1.0 / 160;

    /// <summary>
    /// Frame rate, frames per second, at which the per-frame noises above apply (default 30). Not the stream's frame rate:
    /// the filter always uses the real time step; this only fixes the unit of the noises.
    /// </summary>
    [OptionRange(1, 1000)]
    public double ReferenceFps { get; init; } = 30;

    /// <summary>Throws <see cref="OptionsException"/> naming the first invalid field under <paramref name="path"/>; returns this.</summary>
    public KalmanMotionOptions Validate(string path = "kalman")
    {
        if (!(PositionNoise > 0) || !double.IsFinite(PositionNoise))
            throw new OptionsException($"{path}.positionNoise", $"must be a positive fraction of the box side, got {PositionNoise}");
        if (!(VelocityNoise > 0) || !double.IsFinite(VelocityNoise))
            throw new OptionsException($"{path}.velocityNoise", $"must be a positive fraction of the box side per frame, got {VelocityNoise}");
        if (!(ReferenceFps > 0) || !double.IsFinite(ReferenceFps))
            throw new OptionsException($"{path}.referenceFps", $"must be a positive frame rate, got {ReferenceFps}");
        return this;
    }
}
