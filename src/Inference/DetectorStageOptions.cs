namespace StreamVision.Inference;

/// <summary>
/// The detection stage as a configuration describes it: which detector (an ONNX model, motion, a replayed detection file
/// or none), its ONNX Runtime session, post-processing, class filter and the cross-stream batcher.
/// <see cref="DetectorFactory"/> turns it into an <see cref="IDetector"/>.
/// </summary>
public sealed record DetectorStageOptions
{
    /// <summary>blazeface, blazeface-back, a path to an ONNX file, detections-file (replay <see cref="DetectionsFile"/>), or none (no detection).</summary>
    public string Model { get; init; } = ModelCatalog.DefaultModel;
    /// <summary>With model motion: background subtraction settings.</summary>
    public Imaging.BackgroundSubtractorOptions Motion { get; init; } = new();
    /// <summary>With model detections-file: a MOTChallenge detection file (template: {stream}, {instance}).</summary>
    public string? DetectionsFile { get; init; }
    public ModelFamily Family { get; init; } = ModelFamily.Auto;
    public IReadOnlyList<string> Providers { get; init; } = ["tensorrt", "cuda", "cpu"];
    /// <summary>ONNX Runtime intra-op threads; 0 = one per core.</summary>
    public int Threads { get; init; }
    /// <summary>Let ONNX Runtime's worker threads busy-wait between operators (<see cref="ModelSessionOptions.AllowSpinning"/>). Default false.</summary>
    public bool AllowSpinning { get; init; }
    public DetectorOptions Options { get; init; } = new();
    /// <summary>Class names (or ids) to keep; empty keeps all.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];
    public BatcherOptions Batch { get; init; } = new();
}
