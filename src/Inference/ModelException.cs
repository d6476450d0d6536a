using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>A model cannot be loaded or run: missing file, not ONNX, inputs/outputs no decoder understands.</summary>
public sealed class ModelException : StreamVisionException
{
    public ModelException(string model, string message, Exception? inner = null) : base($"model '{model}': {message}", inner) => Model = model;

    public string Model { get; }
}
