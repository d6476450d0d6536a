using StreamVision.Core;

namespace StreamVision.Pipeline;

/// <summary>
/// A run ended but some of its outputs were not finalised (disk full, a write error, a sink abandoned at the deadline), or an
/// output could not be opened at all.
/// </summary>
public sealed class OutputException : StreamVisionException
{
    public OutputException(string streamId, IReadOnlyList<string> reasons)
        : base($"stream '{streamId}': {reasons.Count} output(s) not finalised: {string.Join("; ", reasons)}")
    {
        StreamId = streamId;
        Reasons = reasons;
    }

    /// <summary>An output that could not be opened at all (its folder cannot be made, the file cannot be created); <paramref name="message"/> names it.</summary>
    public OutputException(string streamId, string message, Exception inner) : base(message, inner)
    {
        StreamId = streamId;
        Reasons = [message];
    }

    public string StreamId { get; }
    /// <summary>One line per output: the sink and why.</summary>
    public IReadOnlyList<string> Reasons { get; }
}
