namespace StreamVision.Inference.Preprocessing;

/// <summary>Memory order of the model's image input.</summary>
public enum TensorLayout
{
    /// <summary>[batch, channels, height, width] (YOLO, SSD exports).</summary>
    Nchw,
    /// <summary>[batch, height, width, channels] (BlazeFace, TensorFlow exports).</summary>
    Nhwc,
}

/// <summary>How a frame is fitted into the model's input size.</summary>
public enum ResizeMode
{
    /// <summary>Keep the aspect ratio, centre, pad the rest (YOLO's training setup).</summary>
    Letterbox,
    /// <summary>Stretch to the input size (models trained on squashed images, e.g. BlazeFace).</summary>
    Stretch,
}

/// <summary>
/// What the model's image input expects. A pixel value v (0..255) becomes <c>v * Scale + Offset</c>
/// (e.g. [0,1]: Scale 1/255, Offset 0; [-1,1]: Scale 1/127.5, Offset -1).
/// </summary>
public sealed record InputSpec
{
    public required string Name { get; init; }
    public required int Width { get; init; }
    public required int Height { get; init; }
    public TensorLayout Layout { get; init; } = TensorLayout.Nchw;
    /// <summary>Fixed batch size of the model, or 0 when the batch dimension is dynamic.</summary>
    public int FixedBatch { get; init; }
    public ResizeMode Resize { get; init; } = ResizeMode.Letterbox;
    /// <summary>Channel order: true RGB (most models), false BGR.</summary>
    public bool Rgb { get; init; } = true;
    public float Scale { get; init; } = 1f / 255f;
    public float Offset { get; init; }
    /// <summary>Grey level (0..255) of letterbox padding; 114 as in Ultralytics.</summary>
    public byte PadValue { get; init; } = 114;

    public int ElementsPerImage => Width * Height * 3;
}
