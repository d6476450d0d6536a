namespace StreamVision.Inference.Tests;

/// <summary>The tiny classifier and segmentation models of <c>models/make_task_models.py</c>, built once per test run.</summary>
internal static class TaskModels
{
    private static readonly Lazy<string> s_dir = new(() =>
    {
        var dir = TestEnvironment.NewTempDir("svtaskmodels");
        var script = Path.Combine(AppContext.BaseDirectory, "models", "make_task_models.py");
        TestEnvironment.Run("/usr/bin/python3", $"\"{script}\" \"{dir}\"");
        return dir;
    });

    /// <summary>NCHW 32x32, logits = 10 x channel means (red, green, blue).</summary>
    public static string Classifier => Path.Combine(s_dir.Value, "classifier.onnx");
    /// <summary>NHWC 16x16, mean = std = 0.5 in metadata, probabilities = softmax(4 x channel means).</summary>
    public static string ClassifierNhwc => Path.Combine(s_dir.Value, "classifier_nhwc.onnx");
    /// <summary>YOLOv8-seg layout with known boxes and masks (see the script).</summary>
    public static string Seg => Path.Combine(s_dir.Value, "seg.onnx");
}
