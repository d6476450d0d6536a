using StreamVision.Core;

namespace StreamVision.Inference.Decoders;

/// <summary>
/// MediaPipe BlazeFace (front 128x128 and back 256x256). Outputs: score logits [1,N1,1] and [1,N2,1] and
/// regressors [1,N1,16] and [1,N2,16] (box + 6 keypoints, in input pixels relative to the anchor centre).
/// Anchors: a fine grid with 2 anchors per cell (N1 = 2·g1²), then a coarse grid with 6 per cell (N2 = 6·g2²),
/// centres at (i + 0.5) / grid.
/// </summary>
public sealed class BlazeFaceDecoder : IDetectionDecoder
{
    private readonly float[] _anchors; // cx, cy (0..1) per anchor, in output order
    private readonly int _inputSize;

    public BlazeFaceDecoder(int inputSize, int fineAnchors, int coarseAnchors)
    {
        _inputSize = inputSize;
        _anchors = new float[2 * (fineAnchors + coarseAnchors)];
        int k = 0;
        foreach (var (count, perCell) in new[] { (fineAnchors, 2), (coarseAnchors, 6) })
        {
            int grid = (int)Math.Round(Math.Sqrt(count / (double)perCell));
            if (grid * grid * perCell != count) throw new ArgumentException($"{count} anchors do not form a square grid with {perCell} per cell");
            for (int y = 0; y < grid; y++)
                for (int x = 0; x < grid; x++)
                    for (int a = 0; a < perCell; a++)
                    {
                        _anchors[k++] = (x + 0.5f) / grid;
                        _anchors[k++] = (y + 0.5f) / grid;
                    }
        }
    }

    public string Family => "blazeface";
    public int KeypointsPerBox => 6;
    public static readonly IReadOnlyList<string> ClassNames = ["face"];

    /// <summary>Finds the four outputs by shape; null when the model is not BlazeFace-shaped.</summary>
    public static (int ScoresFine, int ScoresCoarse, int RegFine, int RegCoarse)? Match(IReadOnlyList<OutputTensor> outputs)
    {
        if (outputs.Count != 4) return null;
        int sf = -1, sc = -1, rf = -1, rc = -1;
        for (int i = 0; i < 4; i++)
        {
            var s = outputs[i].Shape;
            if (s.Length != 3) return null;
            if (s[2] == 1) { if (sf < 0) sf = i; else sc = i; }
            else if (s[2] == 16) { if (rf < 0) rf = i; else rc = i; }
        }
        if (sf < 0 || sc < 0 || rf < 0 || rc < 0) return null;
        // The fine grid has more anchors.
        if (outputs[sf].Shape[1] < outputs[sc].Shape[1]) (sf, sc) = (sc, sf);
        if (outputs[rf].Shape[1] < outputs[rc].Shape[1]) (rf, rc) = (rc, rf);
        if (outputs[sf].Shape[1] != outputs[rf].Shape[1] || outputs[sc].Shape[1] != outputs[rc].Shape[1]) return null;
        return (sf, sc, rf, rc);
    }

    public void Decode(IReadOnlyList<OutputTensor> outputs, int batchIndex, float minScore, CandidateBuffer candidates)
    {
        var m = Match(outputs) ?? throw new InvalidOperationException("outputs are not BlazeFace-shaped");
        float minLogit = MathF.Log(Math.Max(minScore, 1e-6f) / Math.Max(1 - minScore, 1e-6f));
        int fine = outputs[m.ScoresFine].Shape[1];
        DecodeGrid(outputs[m.ScoresFine], outputs[m.RegFine], 0, batchIndex, minLogit, candidates);
        DecodeGrid(outputs[m.ScoresCoarse], outputs[m.RegCoarse], fine, batchIndex, minLogit, candidates);
    }

    private void DecodeGrid(OutputTensor scores, OutputTensor regs, int anchorBase, int batchIndex, float minLogit, CandidateBuffer candidates)
    {
        Span<float> kp = stackalloc float[12];
        int n = scores.Shape[1];
        int sOff = batchIndex * n, rOff = batchIndex * n * 16;
        for (int i = 0; i < n; i++)
        {
            float logit = scores.Data[sOff + i];
            if (logit < minLogit) continue;
            float score = 1f / (1f + MathF.Exp(-Math.Clamp(logit, -100f, 100f)));
            var r = regs.Data.AsSpan(rOff + i * 16, 16);
            float ax = _anchors[2 * (anchorBase + i)] * _inputSize;
            float ay = _anchors[2 * (anchorBase + i) + 1] * _inputSize;
            var box = Box.FromCenter(ax + r[0], ay + r[1], r[2], r[3]);
            for (int k = 0; k < 6; k++)
            {
                kp[2 * k] = ax + r[4 + 2 * k];
                kp[2 * k + 1] = ay + r[5 + 2 * k];
            }
            candidates.Add(box, score, 0, kp);
        }
    }
}
