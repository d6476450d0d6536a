using StreamVision.Core;

namespace StreamVision.Tracking.Motion;

/// <summary>A motion model file cannot be used: missing, unreadable by ONNX Runtime, or not shaped like a motion model. <see cref="Path"/> names the file.</summary>
public sealed class MotionModelException : StreamVisionException
{
    public MotionModelException(string path, string message, Exception? inner = null) : base($"motion model {path}: {message}", inner) => Path = path;

    /// <summary>The model file, as given.</summary>
    public string Path { get; }
}
