using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Ingest;

/// <summary>
/// A source failed for good: a file that cannot be opened or read, a live source out of reconnect attempts, a
/// configuration FFmpeg rejects. It completes that stream's channel (other streams go on); the message names the
/// stream and the input, <see cref="Exception.InnerException"/> holds the <see cref="MediaException"/> when there is one.
/// </summary>
public sealed class SourceException : StreamVisionException
{
    public SourceException(string streamId, string message, Exception? inner = null)
        : base($"stream '{streamId}': {message}", inner) => StreamId = streamId;

    /// <summary>The stream that failed.</summary>
    public string StreamId { get; }

    /// <summary>The native failure kind when the cause is a <see cref="MediaException"/>; null otherwise.</summary>
    public MediaErrorKind? Kind => (InnerException as MediaException)?.Kind;
}
