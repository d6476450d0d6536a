using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>
/// The detection stage as a configuration describes it: which detector (an ONNX model, motion, a replayed detection file
/// or none), its ONNX Runtime session, post-processing, class filter and the cross-stream batcher.
/// <see cref="DetectorFactory"/> turns it into an <see cref="IDetector"/>.
/// </summary>
public sealed record DetectorStageOptions
{
    /// <summary>
    /// The detector: <c>blazeface</c> (MediaPipe's short-range face model, default), <c>blazeface-back</c> (256x256, smaller
    /// faces), the path of an ONNX file (Ultralytics YOLOv5/v8/v11, SSD-style), <c>motion</c> (moving blobs on a fixed
    /// camera, no model), <c>detections-file</c> (replay <see cref="DetectionsFile"/>) or <c>none</c> (no detection).
    /// </summary>
    public string Model { get; init; } = ModelCatalog.DefaultModel;
    /// <summary>With model <c>motion</c>: the background subtraction.</summary>
    public Imaging.BackgroundSubtractorOptions Motion { get; init; } = new();
    /// <summary>With model <c>detections-file</c>: a MOTChallenge detection file (decoded frame n gets the file's frame n+1). Null = none.</summary>
    [OptionKey("detections")]
    public string? DetectionsFile { get; init; }
    /// <summary>How the model's outputs are decoded; <c>auto</c> (default) recognises the family from the outputs.</summary>
    public ModelFamily Family { get; init; } = ModelFamily.Auto;
    /// <summary>The ONNX Runtime session: execution providers, threads, GPU settings.</summary>
    [OptionInline]
    public ModelSessionOptions Session { get; init; } = new();
    /// <summary>Score threshold, NMS and the most detections per frame.</summary>
    [OptionInline]
    public DetectorOptions Options { get; init; } = new();
    /// <summary>Class names (or ids) to keep, e.g. <c>[person, car]</c>; names must be the model's. Empty (default) keeps all.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];
    /// <summary>How frames of all streams are gathered into batches.</summary>
    public BatcherOptions Batch { get; init; } = new();

    /// <summary>
    /// The files this detector reads, each with its key: the model file for a path, the detection file for
    /// <c>detections-file</c>; none for <c>none</c>, <c>motion</c> and the built-in names (set-up fetches those).
    /// </summary>
    public IEnumerable<(string Key, string Path)> Files()
    {
        if (string.Equals(Model, "detections-file", StringComparison.OrdinalIgnoreCase))
        {
            if (!string.IsNullOrEmpty(DetectionsFile)) yield return ("detections", DetectionsFile);
            yield break;
        }
        if (string.Equals(Model, "none", StringComparison.OrdinalIgnoreCase) || string.Equals(Model, "motion", StringComparison.OrdinalIgnoreCase)
            || ModelCatalog.BuiltInNames.Contains(Model, StringComparer.OrdinalIgnoreCase))
            yield break;
        yield return ("model", Model);
    }

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "detector")
    {
        if (string.IsNullOrWhiteSpace(Model))
            throw new OptionsException($"{path}.model", $"must be a model file, {string.Join(", ", ModelCatalog.BuiltInNames)}, detections-file, motion or none");
        if (string.Equals(Model, "detections-file", StringComparison.OrdinalIgnoreCase) && string.IsNullOrEmpty(DetectionsFile))
            throw new OptionsException($"{path}.detections", "missing (model detections-file replays this MOTChallenge file)");
        Motion.Validate($"{path}.motion");
        Session.Validate(path);
        Options.Validate(path);
        Batch.Validate($"{path}.batch");
    }
}
