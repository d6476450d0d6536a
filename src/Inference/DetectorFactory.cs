using Microsoft.Extensions.Logging;
using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>The one place a detector setting (config or command line) becomes a detector.</summary>
public static class DetectorFactory
{
    /// <summary>
    /// none -> null; motion -> <see cref="MotionDetector"/>; detections-file -> <see cref="MotFileDetector"/>; anything else an
    /// ONNX model (built-in name or path), with <see cref="DetectorStageOptions.Classes"/> resolved against the model's names.
    /// </summary>
    public static IDetector? Create(DetectorStageOptions d, ILogger logger)
    {
        if (string.Equals(d.Model, "none", StringComparison.OrdinalIgnoreCase)) return null;
        if (string.Equals(d.Model, "motion", StringComparison.OrdinalIgnoreCase)) return new MotionDetector(d.Motion);
        if (string.Equals(d.Model, "detections-file", StringComparison.OrdinalIgnoreCase))
        {
            if (!File.Exists(d.DetectionsFile)) throw new OptionsException("detector.detections", $"file not found: '{d.DetectionsFile}'");
            return new MotFileDetector(d.DetectionsFile); // every row: the tracker applies its own score thresholds
        }
        var options = new OnnxDetectorOptions
        {
            Family = d.Family,
            MaxBatch = d.Batch.MaxBatch,
            Detection = d.Options,
            Session = d.Session,
        };
        string path = ModelCatalog.Resolve(d.Model);
        var detector = OnnxDetector.Load(path, options, logger);
        if (d.Classes.Count == 0) return detector;
        // Classes are given by name or id; names need the model's list, so resolve them, then reload with the filter.
        HashSet<int> ids;
        try
        {
            ids = ClassSelection.Resolve(d.Classes, detector.ClassNames, "detector.classes");
        }
        finally
        {
            detector.Dispose();
        }
        return OnnxDetector.Load(path, options with { Detection = d.Options with { ClassAllowList = ids } }, logger);
    }
}
