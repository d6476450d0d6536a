using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// An output of the pipeline. Called from one loop at a time (its <see cref="SinkRunner"/>). The item is borrowed for the
/// call: the runner disposes it afterwards, so keep a reference (<see cref="AnalyzedFrame.AddRef"/>) to use it later.
/// </summary>
public interface ISink : IAsyncDisposable
{
    /// <summary>Short name for logs and metrics ("video", "events", "mot", ...).</summary>
    string Name { get; }

    /// <summary>Writes one frame's results.</summary>
    ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct);

    /// <summary>End of the stream: flush and finalise (trailer, last line). Called at most once, before dispose.</summary>
    ValueTask CompleteAsync(CancellationToken ct);
}
