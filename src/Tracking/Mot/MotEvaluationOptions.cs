using StreamVision.Core;

namespace StreamVision.Tracking.Mot;

/// <summary>How <see cref="MotEvaluation"/> scores tracks against ground truth. The defaults reproduce py-motmetrics.</summary>
public sealed record MotEvaluationOptions
{
    /// <summary>
    /// Least IoU, 0..1, for a track box to match a ground-truth box in CLEAR-MOT and identity metrics (default 0.5).
    /// HOTA does not use it: it averages over IoU thresholds 0.05..0.95.
    /// </summary>
    public double IouThreshold { get; init; } = 0.5;

    /// <summary>
    /// Ground-truth rows with a confidence below this are ignored (default 1: MOTChallenge marks boxes to ignore with 0,
    /// and py-motmetrics loads ground truth the same way). Use a negative value to keep every row.
    /// </summary>
    public double GroundTruthMinConfidence { get; init; } = 1;

    /// <summary>
    /// Share of its frames, 0..1, in which an object must be matched to count as mostly tracked (default 0.8, inclusive as
    /// in py-motmetrics; the MOTChallenge devkit requires more than 0.8).
    /// </summary>
    public double MostlyTrackedRatio { get; init; } = 0.8;

    /// <summary>Share of its frames, 0..1, below which a matched object counts as mostly lost (default 0.2).</summary>
    public double MostlyLostRatio { get; init; } = 0.2;

    /// <summary>Throws <see cref="OptionsException"/> naming the first invalid field under <paramref name="path"/>; returns this.</summary>
    public MotEvaluationOptions Validate(string path = "evaluation")
    {
        if (!(IouThreshold > 0 && IouThreshold <= 1))
            throw new OptionsException($"{path}.iouThreshold", $"must be in (0, 1], got {IouThreshold}");
        if (double.IsNaN(GroundTruthMinConfidence))
            throw new OptionsException($"{path}.groundTruthMinConfidence", "must be a number");
        if (!(MostlyLostRatio >= 0 && MostlyLostRatio <= MostlyTrackedRatio && MostlyTrackedRatio <= 1))
            throw new OptionsException($"{path}.mostlyTrackedRatio", $"need 0 <= mostlyLostRatio ({MostlyLostRatio}) <= mostlyTrackedRatio ({MostlyTrackedRatio}) <= 1");
        return this;
    }
}
