using OpenCvSharp;

namespace StreamVision.Imaging;

/// <summary>The OpenCV that OpenCvSharp's native library carries.</summary>
public static class ImagingInfo
{
    /// <summary>OpenCV's version (e.g. 4.13.0). Throws <see cref="DllNotFoundException"/> (possibly inside a
    /// <see cref="TypeInitializationException"/>) when the native library or one of its dependencies cannot be loaded.</summary>
    public static string OpenCvVersion => Cv2.GetVersionString() ?? "";
}
