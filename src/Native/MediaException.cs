using StreamVision.Core;

namespace StreamVision.Native;

/// <summary>
/// A media operation (open, decode, encode) failed in the native shim. <see cref="Code"/> is FFmpeg's AVERROR
/// or one of the shim's codes (see <see cref="MediaErrorKind"/>); the message names the input and says what failed.
/// </summary>
public sealed class MediaException : StreamVisionException
{
    public MediaException(int code, string input, string message)
        : base(string.IsNullOrEmpty(message) ? $"'{input}': native error {code}" : message)
    {
        Code = code;
        Input = input;
    }

    /// <summary>Native error code (negative).</summary>
    public int Code { get; }

    /// <summary>The URL, path or operation the error is about.</summary>
    public string Input { get; }

    public MediaErrorKind Kind => Code switch
    {
        Interop.SvNative.EArgument => MediaErrorKind.Argument,
        Interop.SvNative.ENoStream => MediaErrorKind.NoVideoStream,
        Interop.SvNative.ENoCodec => MediaErrorKind.CodecUnavailable,
        Interop.SvNative.ETimeout => MediaErrorKind.Timeout,
        Interop.SvNative.EInterrupted => MediaErrorKind.Interrupted,
        Interop.SvNative.EUnknownOption => MediaErrorKind.UnknownOption,
        -2 => MediaErrorKind.NotFound,                 // AVERROR(ENOENT)
        -1094995529 => MediaErrorKind.InvalidData,     // AVERROR_INVALIDDATA
        _ => MediaErrorKind.Other,
    };
}

/// <summary>What kind of failure a <see cref="MediaException"/> is, for callers that decide whether to retry.</summary>
public enum MediaErrorKind
{
    Other,
    Argument,
    NotFound,
    InvalidData,
    NoVideoStream,
    CodecUnavailable,
    Timeout,
    Interrupted,
    UnknownOption,
}
