using Microsoft.Extensions.Logging;

namespace StreamVision.Ingest;

/// <summary>Ingest's log messages (source-generated, no allocation when the level is off).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Stream {Stream}: opened {Url} ({Format}, {Codec} {Width}x{Height} @ {Fps:0.##} fps, {Mode}) in {Milliseconds:0} ms")]
    public static partial void Opened(ILogger logger, string stream, string url, string format, string codec, int width, int height, double fps, string mode, double milliseconds);

    [LoggerMessage(2, LogLevel.Warning, "Stream {Stream}: hardware decode '{HwAccel}' not used: {Reason}")]
    public static partial void HardwareFallback(ILogger logger, string stream, string hwAccel, string reason);

    [LoggerMessage(3, LogLevel.Information, "Stream {Stream}: end of file after {Frames} frames ({Corrupt} corrupt packets skipped)")]
    public static partial void FileEnded(ILogger logger, string stream, long frames, long corrupt);

    [LoggerMessage(4, LogLevel.Error, "Stream {Stream}: {Message}")]
    public static partial void Failed(ILogger logger, string stream, string message, Exception? exception);

    [LoggerMessage(5, LogLevel.Information, "Stream {Stream}: reconnect attempt {Attempt} to {Url}")]
    public static partial void ReconnectAttempt(ILogger logger, string stream, int attempt, string url);

    [LoggerMessage(6, LogLevel.Information, "Stream {Stream}: reconnected to {Url} on attempt {Attempt}")]
    public static partial void Reconnected(ILogger logger, string stream, string url, int attempt);

    [LoggerMessage(7, LogLevel.Warning, "Stream {Stream}: {Reason}; reconnecting in {DelayMs:0} ms (failure {Failures})")]
    public static partial void WillReconnect(ILogger logger, string stream, string reason, double delayMs, int failures);

    [LoggerMessage(8, LogLevel.Information, "Stream {Stream}: stopped after {Frames} frames")]
    public static partial void Stopped(ILogger logger, string stream, long frames);

    [LoggerMessage(9, LogLevel.Debug, "Stream {Stream}: looping {Url}")]
    public static partial void Looping(ILogger logger, string stream, string url);

    [LoggerMessage(10, LogLevel.Warning, "Stream {Stream}: {Count} corrupt packets skipped so far")]
    public static partial void CorruptSkipped(ILogger logger, string stream, long count);
}
