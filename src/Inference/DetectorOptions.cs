using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>Post-processing of a detector's raw output. Every threshold says its unit and trade-off.</summary>
public sealed record DetectorOptions
{
    /// <summary>Minimum score (0..1) to keep a detection. Lower finds more objects and more false ones. Default 0.5.</summary>
    [OptionKey("confidence"), OptionRange(0, 1)]
    public float ConfidenceThreshold { get; init; } = 0.5f;
    /// <summary>IoU (0..1) above which the weaker of two same-class boxes is suppressed. Lower merges more neighbours. Default 0.45.</summary>
    [OptionKey("nms_iou"), OptionRange(0.01, 1)]
    public float NmsIouThreshold { get; init; } = 0.45f;
    /// <summary>Most detections kept per frame (after NMS, highest scores first). Default 300.</summary>
    [OptionRange(1, 10000)]
    public int MaxDetections { get; init; } = 300;
    /// <summary>Only these class ids are kept; null keeps all.</summary>
    [OptionIgnore("set from detector.classes, resolved against the model's class names")]
    public IReadOnlySet<int>? ClassAllowList { get; init; }
    /// <summary>Suppress across classes too (one box per object whatever its class). Default false.</summary>
    public bool ClassAgnosticNms { get; init; }

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "detector")
    {
        if (ConfidenceThreshold is < 0 or > 1) throw new OptionsException($"{path}.confidence", $"must be 0..1, got {ConfidenceThreshold}");
        if (NmsIouThreshold is <= 0 or > 1) throw new OptionsException($"{path}.nms_iou", $"must be in (0, 1], got {NmsIouThreshold}");
        if (MaxDetections is < 1 or > 10000) throw new OptionsException($"{path}.max_detections", $"must be 1..10000, got {MaxDetections}");
    }
}
