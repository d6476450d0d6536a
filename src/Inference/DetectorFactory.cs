using System.Globalization;
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
        var ids = new HashSet<int>();
        var unknown = new List<string>();
        foreach (var c in d.Classes)
        {
            if (int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id)) ids.Add(id);
            else
            {
                int idx = detector.ClassNames.ToList().FindIndex(n => string.Equals(n, c, StringComparison.OrdinalIgnoreCase));
                if (idx >= 0) ids.Add(idx);
                else unknown.Add(c);
            }
        }
        var names = detector.ClassNames;
        detector.Dispose();
        if (unknown.Count > 0)
            throw new OptionsException("detector.classes", $"not classes of this model: {string.Join(", ", unknown)} (it has: {string.Join(", ", names.Take(20))}{(names.Count > 20 ? ", ..." : "")})");
        return OnnxDetector.Load(path, options with { Detection = d.Options with { ClassAllowList = ids } }, logger);
    }
}
