using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking.Tests.Motion;

/// <summary>The committed learned motion model (models/motion-gru.onnx), loaded once and shared: the model is thread-safe.</summary>
internal static class MotionModelFiles
{
    /// <summary>Test classes that use <see cref="Learned"/> share this collection, so they never run at once and session-run counts stay exact.</summary>
    public const string Collection = "learned motion model";

    private static readonly Lazy<OnnxMotionModel> s_learned = new(() => OnnxMotionModel.Load(LearnedPath));

    /// <summary>Path of the committed model; throws when it is missing.</summary>
    public static string LearnedPath
    {
        get
        {
            string path = Path.Combine(TestEnvironment.RepoRoot, "models", "motion-gru.onnx");
            if (!File.Exists(path)) throw new FileNotFoundException($"committed motion model missing: {path} (tools/train-motion/README.md makes it)", path);
            return path;
        }
    }

    /// <summary>One shared instance (never disposed: lives for the test run).</summary>
    public static OnnxMotionModel Learned => s_learned.Value;
}
