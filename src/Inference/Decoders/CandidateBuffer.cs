using StreamVision.Core;

namespace StreamVision.Inference.Decoders;

/// <summary>Reusable growable columns that decoders fill (boxes in model-input pixels). Cleared per image.</summary>
public sealed class CandidateBuffer
{
    private readonly List<Box> _boxes = new(256);
    private readonly List<float> _scores = new(256);
    private readonly List<int> _classes = new(256);
    private readonly List<float> _keypoints = new(256);
    private readonly List<float> _extras = new(256);

    public int Count => _boxes.Count;
    public int KeypointsPerBox { get; set; }
    /// <summary>Extra values each candidate carries through NMS (YOLO-seg: its mask coefficients); 0 = none.</summary>
    public int ExtrasPerBox { get; set; }

    public void Clear()
    {
        _boxes.Clear();
        _scores.Clear();
        _classes.Clear();
        _keypoints.Clear();
        _extras.Clear();
    }

    public void Add(Box box, float score, int classId, ReadOnlySpan<float> keypoints = default)
    {
        if (keypoints.Length != KeypointsPerBox * 2)
            throw new ArgumentException($"expected {KeypointsPerBox} keypoints, got {keypoints.Length / 2}", nameof(keypoints));
        _boxes.Add(box);
        _scores.Add(score);
        _classes.Add(classId);
        foreach (float k in keypoints) _keypoints.Add(k);
    }

    /// <summary>Adds a candidate with its <see cref="ExtrasPerBox"/> extra values.</summary>
    public void Add(Box box, float score, int classId, ReadOnlySpan<float> keypoints, ReadOnlySpan<float> extras)
    {
        if (extras.Length != ExtrasPerBox) throw new ArgumentException($"expected {ExtrasPerBox} extra values, got {extras.Length}", nameof(extras));
        Add(box, score, classId, keypoints);
        foreach (float e in extras) _extras.Add(e);
    }

    public float ExtraAt(int i, int k) => _extras[i * ExtrasPerBox + k];

    public Box BoxAt(int i) => _boxes[i];
    public float ScoreAt(int i) => _scores[i];
    public int ClassAt(int i) => _classes[i];
    public float KeypointAt(int i, int k) => _keypoints[i * KeypointsPerBox * 2 + k];
}
