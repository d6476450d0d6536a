using StreamVision.Core;

namespace StreamVision.Inference.Classification;

/// <summary>How a classifier's output is turned into scores.</summary>
public enum ClassifierOutput
{
    /// <summary>Probabilities when the values are already 0..1 and sum to 1 (a softmax inside the model), else logits.</summary>
    Auto,
    /// <summary>Raw scores: a softmax turns them into probabilities.</summary>
    Logits,
    /// <summary>Already probabilities (taken as they are).</summary>
    Probabilities,
}

/// <summary>Memory order of the classifier's image input; auto reads it from the input's shape (the dimension of 3 channels).</summary>
public enum ClassifierLayout
{
    /// <summary>From the input's shape: NHWC when its last dimension is 3 and the second is not.</summary>
    Auto,
    /// <summary>[batch, channels, height, width] (PyTorch, Ultralytics exports).</summary>
    Nchw,
    /// <summary>[batch, height, width, channels] (TensorFlow, Keras exports).</summary>
    Nhwc,
}

/// <summary>
/// The classifier on track crops: a second ONNX model run on the crops of confirmed tracks (one model for all streams,
/// batched across them). Input size, layout, scaling and labels come from the model (its input shape and metadata keys
/// <c>names</c>, <c>imgsz</c>, <c>mean</c>, <c>std</c>, <c>scale</c>, <c>color_order</c>, <c>output</c>) unless set here.
/// </summary>
public sealed record ClassifierOptions
{
    /// <summary>The ONNX image classifier (path); empty (default) = no classifier. Output [batch, classes] scores.</summary>
    public string Model { get; init; } = "";
    /// <summary>Detector classes (names or ids) whose tracks are classified, e.g. <c>[car]</c>; empty (default) = every class.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];
    /// <summary>A new track is classified on each of its first N frames in which it is confirmed and matched (the latest answer wins). 1..100. Default 1.</summary>
    [OptionRange(1, 100, Unit = "frames")]
    public int FirstFrames { get; init; } = 1;
    /// <summary>Classified again every N frames of the track (counted in matched frames); 0 = never again. Default 30.</summary>
    [OptionRange(0, 1_000_000, Unit = "frames")]
    public int EveryFrames { get; init; } = 30;
    /// <summary>
    /// Classified again when its box area has grown by this factor since the last time (an approaching object shows more
    /// detail); 0 = off. Default 1.5 (must be above 1 when set).
    /// </summary>
    [OptionRange(0, 100)]
    public double Growth { get; init; } = 1.5;
    /// <summary>
    /// Most crops classified per second across all streams (wall clock); crops over the budget wait for a later frame and
    /// are counted in <c>sv_classifier_deferred_total</c>. 0 (default) = no limit.
    /// </summary>
    [OptionRange(0, 100_000)]
    public double MaxPerSecond { get; init; }
    /// <summary>Labels with their scores kept per answer (events' <c>top_k</c>), 1..20. Default 3.</summary>
    [OptionRange(1, 20)]
    public int TopK { get; init; } = 3;
    /// <summary>Boxes smaller than this many pixels on a side are not classified (too little to see). Default 8.</summary>
    [OptionRange(1, 4096, Unit = "pixels")]
    public int MinSize { get; init; } = 8;
    /// <summary>Fraction of the box's width and height added on each side of the crop (context), 0..1. Default 0.</summary>
    [OptionRange(0, 1)]
    public double Padding { get; init; }
    /// <summary>How scores are read: <c>auto</c> (default), <c>logits</c> (softmax applied) or <c>probabilities</c>. Metadata key <c>output</c>.</summary>
    public ClassifierOutput Output { get; init; } = ClassifierOutput.Auto;
    /// <summary>Input layout: <c>auto</c> (from the input shape, default), <c>nchw</c> or <c>nhwc</c>.</summary>
    public ClassifierLayout Layout { get; init; } = ClassifierLayout.Auto;
    /// <summary>Input width and height in pixels when the model's are dynamic (metadata <c>imgsz</c> otherwise); 0 = the model's, else 224. Default 0.</summary>
    [OptionRange(0, 4096, Unit = "pixels")]
    public int Size { get; init; }
    /// <summary>Pixel scale: a pixel value v (0..255) becomes <c>(v * scale - mean) / std</c>; 0 = metadata <c>scale</c>, else 1/255. Default 0.</summary>
    [OptionRange(0, 1)]
    public double Scale { get; init; }
    /// <summary>Per-channel mean, in the model's channel order and scaled units (ImageNet: <c>[0.485, 0.456, 0.406]</c>); empty = metadata <c>mean</c>, else 0.</summary>
    public IReadOnlyList<float> Mean { get; init; } = [];
    /// <summary>Per-channel standard deviation (ImageNet: <c>[0.229, 0.224, 0.225]</c>); empty = metadata <c>std</c>, else 1.</summary>
    public IReadOnlyList<float> Std { get; init; } = [];
    /// <summary>Channel order the model expects: <c>rgb</c> or <c>bgr</c>; empty = metadata <c>color_order</c>, else rgb.</summary>
    public string ColorOrder { get; init; } = "";
    /// <summary>Label per output class, overriding the model's metadata <c>names</c>; empty = the model's (or class ids).</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>Most crops per model run (1..256; fixed-batch models run their own size). Default 16.</summary>
    [OptionRange(1, 256)]
    public int MaxBatch { get; init; } = 16;
    /// <summary>Longest a stream's crops wait for other streams' crops to join the batch, milliseconds (0..1000). Default 2.</summary>
    [OptionKey("max_wait_ms"), OptionRange(0, 1000)]
    public TimeSpan MaxWait { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary>The classifier's ONNX Runtime session: execution providers, threads.</summary>
    [OptionInline]
    public ModelSessionOptions Session { get; init; } = new();

    /// <summary>True when a model is set.</summary>
    public bool Enabled => !string.IsNullOrWhiteSpace(Model);

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "classifier")
    {
        if (FirstFrames is < 1 or > 100) throw new OptionsException($"{path}.first_frames", $"must be 1..100, got {FirstFrames}");
        if (EveryFrames is < 0 or > 1_000_000) throw new OptionsException($"{path}.every_frames", $"must be 0 (never again) or up to 1000000, got {EveryFrames}");
        if (!(Growth == 0 || Growth > 1 && Growth <= 100)) throw new OptionsException($"{path}.growth", $"must be 0 (off) or a factor above 1 (up to 100), got {Growth}");
        if (!(MaxPerSecond >= 0) || MaxPerSecond > 100_000) throw new OptionsException($"{path}.max_per_second", $"must be 0 (no limit) .. 100000, got {MaxPerSecond}");
        if (TopK is < 1 or > 20) throw new OptionsException($"{path}.top_k", $"must be 1..20, got {TopK}");
        if (MinSize is < 1 or > 4096) throw new OptionsException($"{path}.min_size", $"must be 1..4096 pixels, got {MinSize}");
        if (!(Padding >= 0) || Padding > 1) throw new OptionsException($"{path}.padding", $"must be 0..1, got {Padding}");
        if (Size is < 0 or > 4096) throw new OptionsException($"{path}.size", $"must be 0..4096, got {Size}");
        if (!(Scale >= 0) || Scale > 1) throw new OptionsException($"{path}.scale", $"must be 0..1, got {Scale}");
        if (Mean.Count is not (0 or 1 or 3)) throw new OptionsException($"{path}.mean", $"must hold 1 or 3 numbers, got {Mean.Count}");
        if (Std.Count is not (0 or 1 or 3)) throw new OptionsException($"{path}.std", $"must hold 1 or 3 numbers, got {Std.Count}");
        if (Std.Any(s => !(s > 0))) throw new OptionsException($"{path}.std", "must be positive numbers");
        if (ColorOrder is not ("" or "rgb" or "bgr")) throw new OptionsException($"{path}.color_order", $"must be rgb or bgr, got '{ColorOrder}'");
        if (MaxBatch is < 1 or > 256) throw new OptionsException($"{path}.max_batch", $"must be 1..256, got {MaxBatch}");
        if (MaxWait < TimeSpan.Zero || MaxWait > TimeSpan.FromSeconds(1)) throw new OptionsException($"{path}.max_wait_ms", $"must be 0..1000, got {MaxWait.TotalMilliseconds}");
        Session.Validate(path);
    }
}
