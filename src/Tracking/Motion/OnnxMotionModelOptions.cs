using StreamVision.Core;

namespace StreamVision.Tracking.Motion;

/// <summary>How an <see cref="OnnxMotionModel"/> runs and what it falls back on.</summary>
public sealed record OnnxMotionModelOptions
{
    /// <summary>
    /// Threads ONNX Runtime may use for one batch of tracks (default 1; 0 = ONNX Runtime's default, one per core).
    /// The network is tiny: more threads cost more in hand-off than they save, and every stream's tracker already runs
    /// on a thread of its own.
    /// </summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>
    /// The Kalman filter used for tracks with fewer than <see cref="OnnxMotionModel.MinObservations"/> observations and
    /// for the measurement update of every track (default: <see cref="KalmanMotionOptions"/>'s defaults).
    /// </summary>
    public KalmanMotionOptions Kalman { get; init; } = new();

    /// <summary>
    /// Blend the network's prediction with the Kalman filter's per track and coordinate, weighted by their uncertainties
    /// (default false: the network's prediction alone). True: each frame the Kalman filter predicts too, and the network's
    /// box counts with weight <c>v_kalman / (v_kalman + v_network)</c> (its predicted variance against the Kalman filter's):
    /// a track whose motion the network is sure of (a turn, a dance step) follows the network, one it is unsure of (few or
    /// odd observations) stays with the Kalman filter. The covariance stays the Kalman filter's, widened by how far the two
    /// predictions disagree.
    /// </summary>
    public bool Blend { get; init; }

    /// <summary>Throws <see cref="OptionsException"/> naming the first invalid field under <paramref name="path"/>; returns this.</summary>
    public OnnxMotionModelOptions Validate(string path = "tracker.motionModel")
    {
        if (IntraOpThreads is < 0 or > 256)
            throw new OptionsException($"{path}.intraOpThreads", $"must be 0..256 threads (0 = ONNX Runtime's default), got {IntraOpThreads}");
        if (Kalman is null) throw new OptionsException($"{path}.kalman", "must not be null");
        Kalman.Validate($"{path}.kalman");
        return this;
    }
}
