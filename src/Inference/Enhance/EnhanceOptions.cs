using StreamVision.Core;

namespace StreamVision.Inference.Enhance;

/// <summary>Which pictures the enhancement stage changes.</summary>
public enum EnhanceTarget
{
    /// <summary>The frame itself, before detection: the detector and every output see the enhanced picture.</summary>
    Both,
    /// <summary>Only what the detector sees (an enhanced copy); the outputs keep the camera's picture.</summary>
    Detect,
    /// <summary>Only the outputs (video, preview, snapshots), after detection on the camera's picture.</summary>
    Output,
}

/// <summary>
/// The enhancement stage of a stream: an image-to-image ONNX model (low light, noise; ours: models/enhance-lowlight.onnx)
/// run on every frame before detection and/or before the outputs. Its time per frame is
/// <c>sv_stage_seconds{stage="enhance"}</c>.
/// </summary>
public sealed record EnhanceOptions
{
    /// <summary>Our model, trained here (models/README.md).</summary>
    public const string DefaultModel = "models/enhance-lowlight.onnx";

    /// <summary>Run the stage on this stream. Default false.</summary>
    public bool Enabled { get; init; }
    /// <summary>
    /// The ONNX image-to-image model: one float input [1, 3, H, W] (H, W fixed or open), one output [1, 3, H', W'];
    /// RGB 0..1 unless its metadata says otherwise (models/README.md). Default models/enhance-lowlight.onnx.
    /// </summary>
    public string Model { get; init; } = DefaultModel;
    /// <summary>Which pictures it changes: <c>both</c> (default), <c>detect</c> (only the detector's copy) or <c>output</c> (only the outputs).</summary>
    public EnhanceTarget Apply { get; init; } = EnhanceTarget.Both;
    /// <summary>
    /// Largest side in pixels the model runs at: bigger frames are shrunk for it and its result is scaled back up (cost grows
    /// with the pixels: a 1080p frame is ~27 times a 320x180 one). 0 = the frame's own size. Ignored for models with a
    /// fixed input size (the frame is resized to it). Default 0.
    /// </summary>
    [OptionRange(0, 8192, Unit = "pixels")]
    public int MaxSide { get; init; }
    /// <summary>ONNX Runtime threads for one run; 0 = ONNX Runtime's choice (all cores). Default 1 (other stages share the cores).</summary>
    [OptionRange(0, 256)]
    public int Threads { get; init; } = 1;

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "enhance")
    {
        if (string.IsNullOrWhiteSpace(Model)) throw new OptionsException($"{path}.model", "must be the path of an ONNX image-to-image model, e.g. " + DefaultModel);
        if (!Enum.IsDefined(Apply)) throw new OptionsException($"{path}.apply", $"must be both, detect or output, got {Apply}");
        if (MaxSide is < 0 or > 8192 || MaxSide is > 0 and < 16) throw new OptionsException($"{path}.max_side", $"must be 0 (the frame's size) or 16..8192, got {MaxSide}");
        if (Threads is < 0 or > 256) throw new OptionsException($"{path}.threads", $"must be 0..256, got {Threads}");
    }
}
