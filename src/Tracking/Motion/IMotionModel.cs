using StreamVision.Core;

namespace StreamVision.Tracking.Motion;

/// <summary>
/// Motion model: stateless math over a <see cref="MotionState"/> that the track owns. One instance may serve
/// every track of every stream at once; implementations keep no per-track data and must be thread-safe.
/// The Kalman filter (<see cref="KalmanMotionModel"/>) and a learned sequence model both implement it; the
/// learned one reads <see cref="MotionState.History"/> (boxes and their times) and writes its estimate into
/// <see cref="MotionState.Mean"/> under the layout contract described on <see cref="MotionState"/>.
/// </summary>
public interface IMotionModel
{
    /// <summary>A new state from the first measured box at stream time <paramref name="timeSeconds"/>.</summary>
    MotionState Initiate(in Box box, double timeSeconds);

    /// <summary>
    /// Advances <paramref name="state"/> by the real time step <paramref name="dtSeconds"/> (from frame timestamps, so
    /// skipped frames and variable frame rates are handled); 0 leaves it unchanged.
    /// </summary>
    void Predict(ref MotionState state, double dtSeconds);

    /// <summary>Corrects <paramref name="state"/> with a box measured at <see cref="MotionState.Time"/> and records it in the history.</summary>
    void Update(ref MotionState state, in Box box);

    /// <summary>
    /// Predicts every state of a frame: <c>states[i]</c> by <c>dtSeconds[i]</c>. A model that runs a network overrides
    /// this to run one batch; the default calls <see cref="Predict"/> for each.
    /// </summary>
    void PredictMany(Span<MotionState> states, ReadOnlySpan<double> dtSeconds)
    {
        if (dtSeconds.Length != states.Length)
            throw new ArgumentException($"dtSeconds has {dtSeconds.Length} entries, states {states.Length}", nameof(dtSeconds));
        for (int i = 0; i < states.Length; i++) Predict(ref states[i], dtSeconds[i]);
    }
}
