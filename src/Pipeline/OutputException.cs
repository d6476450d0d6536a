using StreamVision.Core;

namespace StreamVision.Pipeline;

/// <summary>A run ended but some of its outputs were not finalised (disk full, a write error, a sink abandoned at the deadline).</summary>
public sealed class OutputException : StreamVisionException
{
    public OutputException(string streamId, IReadOnlyList<string> reasons)
        : base($"stream '{streamId}': {reasons.Count} output(s) not finalised: {string.Join("; ", reasons)}")
    {
        StreamId = streamId;
        Reasons = reasons;
    }

    public string StreamId { get; }
    /// <summary>One line per output: the sink and why.</summary>
    public IReadOnlyList<string> Reasons { get; }
}
