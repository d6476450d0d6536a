using StreamVision.Core;

namespace StreamVision.Inference.Decoders;

/// <summary>
/// Ultralytics YOLOv8/v11-seg exports: <c>output0</c> [B, 4 + C + M, N] (cx, cy, w, h in input pixels, C class scores,
/// M mask coefficients) and <c>output1</c> [B, M, H/4, W/4] prototype masks. Candidates carry their M coefficients
/// (<see cref="CandidateBuffer.ExtrasPerBox"/>); a detection's mask is sigmoid(coefficients x prototypes), cropped to its
/// box (<see cref="Segmentation.MaskDecoder"/>).
/// </summary>
public sealed class YoloSegDecoder : IDetectionDecoder
{
    /// <param name="detections">Index of the [B, 4 + C + M, N] output among the model's outputs.</param>
    /// <param name="prototypes">Index of the [B, M, h, w] output.</param>
    /// <param name="maskChannels">M (32 for Ultralytics).</param>
    public YoloSegDecoder(int detections, int prototypes, int maskChannels)
    {
        DetectionsOutput = detections;
        PrototypesOutput = prototypes;
        MaskChannels = maskChannels;
    }

    // Per-anchor best score and class, reused across calls (the detector serialises them).
    private float[] _best = [];
    private int[] _cls = [];

    public int DetectionsOutput { get; }
    public int PrototypesOutput { get; }
    public int MaskChannels { get; }
    public string Family => "yolov8-seg";
    public int KeypointsPerBox => 0;

    /// <summary>Matches two outputs: one of rank 3 with more than 4 + M rows, one of rank 4 with M channels. Null when they do not.</summary>
    public static YoloSegDecoder? Match(IReadOnlyList<OutputTensor> outputs)
    {
        if (outputs.Count != 2) return null;
        int det = outputs[0].Rank == 3 ? 0 : outputs[1].Rank == 3 ? 1 : -1;
        if (det < 0 || outputs[1 - det].Rank != 4) return null;
        int m = outputs[1 - det].Shape[1];
        if (m <= 0 || outputs[det].Shape[1] > 0 && outputs[det].Shape[1] <= 4 + m) return null;
        return new YoloSegDecoder(det, 1 - det, m);
    }

    /// <summary>Classes the detections output holds (its rows minus 4 box values and the mask coefficients).</summary>
    public int Classes(IReadOnlyList<OutputTensor> outputs) => outputs[DetectionsOutput].Shape[1] - 4 - MaskChannels;

    public void Decode(IReadOnlyList<OutputTensor> outputs, int batchIndex, float minScore, CandidateBuffer candidates)
    {
        var o = outputs[DetectionsOutput];
        if (o.Rank != 3) throw new InvalidOperationException($"YOLO-seg detections output must be [B, 4 + C + M, N], got [{string.Join(",", o.Shape)}]");
        int a = o.Shape[1], n = o.Shape[2], classes = a - 4 - MaskChannels;
        var d = o.Data.AsSpan(batchIndex * a * n, a * n);
        Span<float> coeffs = MaskChannels <= 256 ? stackalloc float[MaskChannels] : new float[MaskChannels];
        if (classes < 1) return;
        // Best class per anchor, class rows outer (contiguous reads; see YoloDecoder).
        if (_best.Length < n)
        {
            _best = new float[n];
            _cls = new int[n];
        }
        var best = _best.AsSpan(0, n);
        var cls = _cls.AsSpan(0, n);
        d.Slice(4 * n, n).CopyTo(best);
        cls.Clear();
        for (int c = 1; c < classes; c++) YoloDecoder.RunningMax(d.Slice((4 + c) * n, n), best, cls, c);
        for (int j = 0; j < n; j++)
        {
            float bestP = best[j];
            if (bestP < minScore) continue;
            for (int k = 0; k < MaskChannels; k++) coeffs[k] = d[(4 + classes + k) * n + j];
            candidates.Add(Box.FromCenter(d[j], d[n + j], d[2 * n + j], d[3 * n + j]), bestP, cls[j], default, coeffs);
        }
    }
}
