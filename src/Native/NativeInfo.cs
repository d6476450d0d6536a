using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>The FFmpeg the shim runs with, and its logging.</summary>
public static class NativeInfo
{
    /// <summary>FFmpeg's version string (e.g. 5.1.6-0+deb12u1).</summary>
    public static string FfmpegVersion => SvNative.Utf8(SvNative.FfmpegVersion());

    /// <summary>Shows (true) or hides FFmpeg's own error lines on stderr.</summary>
    public static void SetFfmpegLogging(bool on) => SvNative.SetLogLevel(on ? 1 : 0);
}
