using System.Runtime.Intrinsics;
using StreamVision.Core;

namespace StreamVision.Inference.Decoders;

/// <summary>
/// Ultralytics YOLO exports. v8/v11: one output [B, 4+C, N] (cx, cy, w, h in input pixels, then C class scores).
/// v5: one output [B, N, 5+C] (cx, cy, w, h, objectness, C class probabilities; score = objectness · class).
/// </summary>
public sealed class YoloDecoder : IDetectionDecoder
{
    // Per-anchor best score and class (v8 layout), grown to the anchor count and reused: one decoder per detector, whose
    // calls are serialised.
    private float[] _best = [];
    private int[] _cls = [];

    public YoloDecoder(bool v5) => IsV5 = v5;

    public bool IsV5 { get; }
    public string Family => IsV5 ? "yolov5" : "yolov8";
    public int KeypointsPerBox => 0;

    public void Decode(IReadOnlyList<OutputTensor> outputs, int batchIndex, float minScore, CandidateBuffer candidates)
    {
        var o = outputs[0];
        if (o.Rank != 3) throw new InvalidOperationException($"YOLO output must be [B, a, b], got [{string.Join(",", o.Shape)}]");
        int a = o.Shape[1], b = o.Shape[2];
        var d = o.Data.AsSpan(batchIndex * a * b, a * b);
        if (IsV5)
        {
            int classes = b - 5;
            for (int i = 0; i < a; i++)
            {
                var row = d.Slice(i * b, b);
                float obj = row[4];
                if (obj < minScore) continue;
                int best = 0;
                float bestP = classes > 0 ? row[5] : 1f;
                for (int c = 1; c < classes; c++) if (row[5 + c] > bestP) { bestP = row[5 + c]; best = c; }
                float score = obj * bestP;
                if (score >= minScore) candidates.Add(Box.FromCenter(row[0], row[1], row[2], row[3]), score, best);
            }
        }
        else
        {
            int classes = a - 4, n = b;
            if (classes < 1) return;
            // Class-outer: one pass per class row over a running best score and class per anchor. Each pass reads a
            // contiguous row of n floats (the anchor-outer loop strides 4n..(4+C)n floats per anchor, a cache miss per
            // class). Strict "greater than" keeps the first class of a tie, and NaN never wins: the same result as
            // scanning each anchor's classes in order.
            EnsureScratch(n);
            var best = _best.AsSpan(0, n);
            var cls = _cls.AsSpan(0, n);
            d.Slice(4 * n, n).CopyTo(best);
            cls.Clear();
            for (int c = 1; c < classes; c++) RunningMax(d.Slice((4 + c) * n, n), best, cls, c);
            for (int j = 0; j < n; j++)
            {
                float bestP = best[j];
                if (bestP >= minScore)
                    candidates.Add(Box.FromCenter(d[j], d[n + j], d[2 * n + j], d[3 * n + j]), bestP, cls[j]);
            }
        }
    }

    private void EnsureScratch(int n)
    {
        if (_best.Length >= n) return;
        _best = new float[n];
        _cls = new int[n];
    }

    /// <summary>Where <paramref name="row"/>[j] &gt; <paramref name="best"/>[j]: best[j] = row[j], cls[j] = <paramref name="classId"/>.</summary>
    internal static void RunningMax(ReadOnlySpan<float> row, Span<float> best, Span<int> cls, int classId)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated && row.Length >= Vector256<float>.Count)
        {
            var id = Vector256.Create(classId);
            for (; j <= row.Length - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var p = Vector256.Create(row.Slice(j, Vector256<float>.Count));
                var b = Vector256.Create((ReadOnlySpan<float>)best.Slice(j, Vector256<float>.Count));
                var more = Vector256.GreaterThan(p, b);
                if (more == Vector256<float>.Zero) continue;
                Vector256.ConditionalSelect(more, p, b).CopyTo(best.Slice(j, Vector256<float>.Count));
                var k = Vector256.Create((ReadOnlySpan<int>)cls.Slice(j, Vector256<int>.Count));
                Vector256.ConditionalSelect(more.AsInt32(), id, k).CopyTo(cls.Slice(j, Vector256<int>.Count));
            }
        }
        for (; j < row.Length; j++)
        {
            if (row[j] > best[j])
            {
                best[j] = row[j];
                cls[j] = classId;
            }
        }
    }
}
