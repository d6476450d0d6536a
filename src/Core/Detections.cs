namespace StreamVision.Core;

/// <summary>
/// Immutable, column-shaped detections of one frame: parallel columns of boxes (pixels of the original
/// frame), scores, class ids, optional keypoints, and <see cref="SourceIndex"/> — the row each came from in
/// the detector's output, kept through every operation so results map back to detections.
/// Every operation returns a new instance; columns are validated on construction.
/// </summary>
public sealed class Detections
{
    private readonly Box[] _boxes;
    private readonly float[] _scores;
    private readonly int[] _classIds;
    private readonly int[] _sourceIndex;
    private readonly float[]? _keypoints;
    private readonly float[]? _maskCoefficients;
    private readonly InstanceMask?[]? _masks;

    public static Detections Empty { get; } = new([], [], []);

    /// <param name="boxes">Boxes in pixels.</param>
    /// <param name="scores">Confidence per box (0..1 for most models).</param>
    /// <param name="classIds">Class id per box (index into the model's class names).</param>
    /// <param name="sourceIndex">Origin row per box; null means 0..n-1.</param>
    /// <param name="keypoints">Optional <c>KeypointsPerBox * 2</c> floats per box (x, y pixels).</param>
    /// <param name="keypointsPerBox">Keypoints per box when <paramref name="keypoints"/> is given.</param>
    public Detections(Box[] boxes, float[] scores, int[] classIds, int[]? sourceIndex = null, float[]? keypoints = null, int keypointsPerBox = 0)
        : this(boxes, scores, classIds, sourceIndex, keypoints, keypointsPerBox, null, null, null)
    {
    }

    /// <summary>Detections of a segmentation model: the columns above plus mask coefficients and/or masks.</summary>
    /// <param name="maskCoefficients">Optional <c>prototypes.Channels</c> floats per box (YOLO-seg mask coefficients).</param>
    /// <param name="prototypes">The image's prototype masks the coefficients combine (required with coefficients).</param>
    /// <param name="masks">Optional mask per box (null entries: none).</param>
    public Detections(Box[] boxes, float[] scores, int[] classIds, int[]? sourceIndex, float[]? keypoints, int keypointsPerBox,
        float[]? maskCoefficients, MaskPrototypes? prototypes, InstanceMask?[]? masks)
    {
        ArgumentNullException.ThrowIfNull(boxes);
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(classIds);
        int n = boxes.Length;
        if (scores.Length != n) throw new ArgumentException($"scores has {scores.Length} rows, boxes {n}", nameof(scores));
        if (classIds.Length != n) throw new ArgumentException($"classIds has {classIds.Length} rows, boxes {n}", nameof(classIds));
        if (sourceIndex is not null && sourceIndex.Length != n) throw new ArgumentException($"sourceIndex has {sourceIndex.Length} rows, boxes {n}", nameof(sourceIndex));
        if (keypoints is not null && (keypointsPerBox <= 0 || keypoints.Length != n * keypointsPerBox * 2))
            throw new ArgumentException($"keypoints must hold {keypointsPerBox} (x,y) pairs per box", nameof(keypoints));
        _boxes = boxes;
        _scores = scores;
        _classIds = classIds;
        _sourceIndex = sourceIndex ?? Enumerable.Range(0, n).ToArray();
        _keypoints = keypoints;
        KeypointsPerBox = keypoints is null ? 0 : keypointsPerBox;
        if (maskCoefficients is not null)
        {
            if (prototypes is null) throw new ArgumentException("mask coefficients need their prototypes", nameof(prototypes));
            if (maskCoefficients.Length != n * prototypes.Channels)
                throw new ArgumentException($"maskCoefficients must hold {prototypes.Channels} per box, got {maskCoefficients.Length} for {n} boxes", nameof(maskCoefficients));
        }
        if (masks is not null && masks.Length != n) throw new ArgumentException($"masks has {masks.Length} rows, boxes {n}", nameof(masks));
        _maskCoefficients = maskCoefficients;
        Prototypes = maskCoefficients is null ? null : prototypes;
        _masks = masks;
    }

    public int Count => _boxes.Length;
    public ReadOnlySpan<Box> Boxes => _boxes;
    public ReadOnlySpan<float> Scores => _scores;
    public ReadOnlySpan<int> ClassIds => _classIds;
    public ReadOnlySpan<int> SourceIndex => _sourceIndex;
    public int KeypointsPerBox { get; }
    public bool HasKeypoints => _keypoints is not null;

    /// <summary>The image's prototype masks when the rows carry mask coefficients (segmentation models), else null.</summary>
    public MaskPrototypes? Prototypes { get; }
    public bool HasMaskCoefficients => _maskCoefficients is not null;
    public bool HasMasks => _masks is not null;

    /// <summary>Mask coefficients of row <paramref name="i"/>; empty when the model gives none.</summary>
    public ReadOnlySpan<float> GetMaskCoefficients(int i) =>
        _maskCoefficients is null ? ReadOnlySpan<float>.Empty : _maskCoefficients.AsSpan(i * Prototypes!.Channels, Prototypes.Channels);

    /// <summary>Mask of row <paramref name="i"/>, or null.</summary>
    public InstanceMask? GetMask(int i) => _masks is null ? null : _masks[i];

    /// <summary>The same rows with a mask per row (one entry per row, null = none).</summary>
    public Detections WithMasks(InstanceMask?[] masks) =>
        new(_boxes, _scores, _classIds, _sourceIndex, _keypoints, KeypointsPerBox, _maskCoefficients, Prototypes, masks);

    /// <summary>Keypoints of row <paramref name="i"/> as x0,y0,x1,y1,...; empty when the model gives none.</summary>
    public ReadOnlySpan<float> GetKeypoints(int i) =>
        _keypoints is null ? ReadOnlySpan<float>.Empty : _keypoints.AsSpan(i * KeypointsPerBox * 2, KeypointsPerBox * 2);

    /// <summary>Rows for which <paramref name="keep"/> returns true (it receives the row index).</summary>
    public Detections Where(Func<int, bool> keep)
    {
        var rows = new List<int>(Count);
        for (int i = 0; i < Count; i++) if (keep(i)) rows.Add(i);
        return Select(rows);
    }

    /// <summary>Rows with score at least <paramref name="minScore"/>.</summary>
    public Detections WithMinScore(float minScore) => Where(i => _scores[i] >= minScore);

    /// <summary>The given rows, in the given order.</summary>
    public Detections Select(IReadOnlyList<int> rows)
    {
        if (rows.Count == Count)
        {
            bool identity = true;
            for (int i = 0; i < rows.Count && identity; i++) identity = rows[i] == i;
            if (identity) return this;
        }
        var b = new Box[rows.Count];
        var s = new float[rows.Count];
        var c = new int[rows.Count];
        var src = new int[rows.Count];
        float[]? k = _keypoints is null ? null : new float[rows.Count * KeypointsPerBox * 2];
        int mc = Prototypes?.Channels ?? 0;
        float[]? coeffs = _maskCoefficients is null ? null : new float[rows.Count * mc];
        InstanceMask?[]? masks = _masks is null ? null : new InstanceMask?[rows.Count];
        for (int j = 0; j < rows.Count; j++)
        {
            int i = rows[j];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rows), i, $"row must be 0..{Count - 1}");
            b[j] = _boxes[i];
            s[j] = _scores[i];
            c[j] = _classIds[i];
            src[j] = _sourceIndex[i];
            if (k is not null) GetKeypoints(i).CopyTo(k.AsSpan(j * KeypointsPerBox * 2));
            if (coeffs is not null) GetMaskCoefficients(i).CopyTo(coeffs.AsSpan(j * mc));
            if (masks is not null) masks[j] = _masks![i];
        }
        return new Detections(b, s, c, src, k, KeypointsPerBox, coeffs, Prototypes, masks);
    }

    public override string ToString() => $"Detections({Count})";
}
