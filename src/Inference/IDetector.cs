using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>
/// Finds objects in frames. Implement this for a custom detector; the batcher calls it from one thread at a time.
/// Frames are borrowed for the duration of the call only (do not keep them).
/// </summary>
public interface IDetector : IDisposable
{
    /// <summary>Short name for logs and metrics (model file name, "motion", ...).</summary>
    string Name { get; }

    /// <summary>Class names by class id; ids beyond the list are shown as numbers.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>Most frames one <see cref="Detect"/> call takes (1 for models with a fixed batch of one).</summary>
    int MaxBatch { get; }

    /// <summary>Detections per frame, in each frame's own pixels, in the order of <paramref name="frames"/>.</summary>
    Detections[] Detect(IReadOnlyList<Frame> frames);
}
