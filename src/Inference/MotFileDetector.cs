using StreamVision.Core;
using StreamVision.Tracking.Mot;

namespace StreamVision.Inference;

/// <summary>
/// A zero-cost detector that replays a MOTChallenge detection file (<c>frame,-1,x,y,w,h,score,...</c>): decoded frame n
/// (0-based <see cref="Frame.Sequence"/>) gets the rows of file frame n + 1. For evaluating the tracker on a video with
/// published detections, and for measuring pipeline overhead without inference.
/// </summary>
public sealed class MotFileDetector : IDetector
{
    private readonly Dictionary<int, Detections> _byFrame;

    public MotFileDetector(string path, float minScore = float.NegativeInfinity)
    {
        var rows = MotFile.Read(path);
        _byFrame = rows.Where(r => r.Confidence >= minScore).GroupBy(r => r.Frame).ToDictionary(
            g => g.Key,
            g => new Detections(g.Select(r => r.Box).ToArray(), g.Select(r => (float)r.Confidence).ToArray(), new int[g.Count()]));
        Name = Path.GetFileName(path);
        Frames = _byFrame.Count;
    }

    public string Name { get; }
    /// <summary>Frames that have detections in the file.</summary>
    public int Frames { get; }
    public IReadOnlyList<string> ClassNames { get; } = ["object"];
    public int MaxBatch => 64;

    public Detections[] Detect(IReadOnlyList<Frame> frames)
    {
        var result = new Detections[frames.Count];
        for (int i = 0; i < frames.Count; i++)
            result[i] = _byFrame.TryGetValue((int)frames[i].Sequence + 1, out var d) ? d : Detections.Empty;
        return result;
    }

    public void Dispose()
    {
    }
}
