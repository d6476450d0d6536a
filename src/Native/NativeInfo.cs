using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>Versions of the native libraries the shim was built against and runs with.</summary>
public static class NativeInfo
{
    /// <summary>FFmpeg's version string (e.g. 5.1.6-0+deb12u1).</summary>
    public static string FfmpegVersion => SvNative.Utf8(SvNative.FfmpegVersion());

    /// <summary>OpenCV's version (e.g. 4.6.0).</summary>
    public static string OpenCvVersion => SvNative.Utf8(SvNative.OpenCvVersion());

    /// <summary>Shows (true) or hides FFmpeg's own error lines on stderr.</summary>
    public static void SetFfmpegLogging(bool on) => SvNative.SetLogLevel(on ? 1 : 0);
}
