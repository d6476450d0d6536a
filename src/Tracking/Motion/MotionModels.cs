namespace StreamVision.Tracking.Motion;

/// <summary>Creates the motion model a configuration names (<c>tracker.motion</c>, <c>--motion</c>).</summary>
public static class MotionModels
{
    /// <summary>The spec naming the constant-velocity Kalman filter (the default).</summary>
    public const string Kalman = "kalman";

    /// <summary>
    /// <paramref name="spec"/> <c>"kalman"</c> (any case; also null or empty) gives a <see cref="KalmanMotionModel"/> with
    /// <paramref name="kalman"/>; anything else is the path of an ONNX motion model (e.g. <c>models/motion-gru.onnx</c>,
    /// relative to the current directory), loaded as an <see cref="OnnxMotionModel"/> that falls back on the same Kalman
    /// options. Create one per configuration and share it between all trackers; the ONNX model is
    /// <see cref="IDisposable"/> — dispose it when no tracker uses it any more (see <see cref="DisposeIfNeeded"/>).
    /// </summary>
    /// <param name="blend">For an ONNX model: blend its predictions with the Kalman filter's by their uncertainties (<see cref="OnnxMotionModelOptions.Blend"/>); ignored for <c>kalman</c>.</param>
    /// <exception cref="MotionModelException">The file is missing or is not a motion model.</exception>
    /// <exception cref="Core.OptionsException">Invalid Kalman options.</exception>
    public static IMotionModel Create(string? spec, KalmanMotionOptions? kalman = null, bool blend = false)
    {
        kalman ??= new KalmanMotionOptions();
        if (string.IsNullOrWhiteSpace(spec) || string.Equals(spec.Trim(), Kalman, StringComparison.OrdinalIgnoreCase))
            return new KalmanMotionModel(kalman);
        string path = spec.Trim();
        if (!File.Exists(path))
            throw new MotionModelException(path, $"file not found (expected '{Kalman}' or the path of an ONNX motion model, e.g. models/motion-gru.onnx)");
        return OnnxMotionModel.Load(path, new OnnxMotionModelOptions { Kalman = kalman, Blend = blend });
    }

    /// <summary>Disposes <paramref name="model"/> when it holds native resources (the ONNX model); no-op for the Kalman filter.</summary>
    public static void DisposeIfNeeded(IMotionModel? model) => (model as IDisposable)?.Dispose();
}
