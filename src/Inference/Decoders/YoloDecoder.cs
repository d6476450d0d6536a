using StreamVision.Core;

namespace StreamVision.Inference.Decoders;

/// <summary>
/// Ultralytics YOLO exports. v8/v11: one output [B, 4+C, N] (cx, cy, w, h in input pixels, then C class scores).
/// v5: one output [B, N, 5+C] (cx, cy, w, h, objectness, C class probabilities; score = objectness · class).
/// </summary>
public sealed class YoloDecoder : IDetectionDecoder
{
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
            for (int j = 0; j < n; j++)
            {
                int best = 0;
                float bestP = d[4 * n + j];
                for (int c = 1; c < classes; c++)
                {
                    float p = d[(4 + c) * n + j];
                    if (p > bestP) { bestP = p; best = c; }
                }
                if (bestP >= minScore)
                    candidates.Add(Box.FromCenter(d[j], d[n + j], d[2 * n + j], d[3 * n + j]), bestP, best);
            }
        }
    }
}
