using StreamVision.Core;

namespace StreamVision.Imaging;

/// <summary>An OpenCV operation (drawing, resize, JPEG, background subtraction) failed; the message names it and keeps OpenCV's reason.</summary>
public sealed class ImagingException : StreamVisionException
{
    public ImagingException(string operation, string message, Exception? inner = null)
        : base($"{operation}: {message}", inner) => Operation = operation;

    /// <summary>What was being done, e.g. "resize" or "encode jpeg".</summary>
    public string Operation { get; }
}
