namespace StreamVision.Inference;

/// <summary>Post-processing of a detector's raw output. Every threshold says its unit and trade-off.</summary>
public sealed record DetectorOptions
{
    /// <summary>Minimum score (0..1) to keep a detection. Lower finds more objects and more false ones. Default 0.5.</summary>
    public float ConfidenceThreshold { get; init; } = 0.5f;
    /// <summary>IoU (0..1) above which the weaker of two same-class boxes is suppressed. Lower merges more neighbours. Default 0.45.</summary>
    public float NmsIouThreshold { get; init; } = 0.45f;
    /// <summary>Most detections kept per frame (after NMS). Default 300.</summary>
    public int MaxDetections { get; init; } = 300;
    /// <summary>Only these class ids are kept; null keeps all.</summary>
    public IReadOnlySet<int>? ClassAllowList { get; init; }
    /// <summary>Suppress across classes too (one box per object whatever its class). Default false.</summary>
    public bool ClassAgnosticNms { get; init; }

    public void Validate()
    {
        if (ConfidenceThreshold is < 0 or > 1) throw new Core.OptionsException("detector.confidence", $"must be 0..1, got {ConfidenceThreshold}");
        if (NmsIouThreshold is <= 0 or > 1) throw new Core.OptionsException("detector.nms_iou", $"must be in (0, 1], got {NmsIouThreshold}");
        if (MaxDetections is < 1 or > 10000) throw new Core.OptionsException("detector.max_detections", $"must be 1..10000, got {MaxDetections}");
    }
}
