using StreamVision.Core;

namespace StreamVision.Inference.Decoders;

/// <summary>
/// SSD-style models with separate outputs: boxes [B?, N, 4] (x1, y1, x2, y2 in input pixels, or normalised 0..1),
/// scores [B?, N] and labels [B?, N] (e.g. torchvision SSDLite exports, which have no batch dimension).
/// </summary>
public sealed class SsdDecoder : IDetectionDecoder
{
    private readonly int _boxes, _scores, _labels, _inputWidth, _inputHeight;

    public SsdDecoder(int boxes, int scores, int labels, int inputWidth, int inputHeight)
    {
        (_boxes, _scores, _labels, _inputWidth, _inputHeight) = (boxes, scores, labels, inputWidth, inputHeight);
    }

    public string Family => "ssd";
    public int KeypointsPerBox => 0;

    /// <summary>Indices of the boxes, scores and labels outputs by name, then by shape; null when not SSD-shaped.</summary>
    public static (int Boxes, int Scores, int Labels)? Match(IReadOnlyList<(string Name, int[] Shape)> outputs)
    {
        if (outputs.Count != 3) return null;
        int Find(string key) => outputs.ToList().FindIndex(o => o.Name.Contains(key, StringComparison.OrdinalIgnoreCase));
        int b = Find("box"), s = Find("score"), l = Find("label");
        if (b < 0 || s < 0 || l < 0 || b == s || s == l || b == l)
        {
            b = outputs.ToList().FindIndex(o => o.Shape.Length >= 2 && o.Shape[^1] == 4);
            if (b < 0) return null;
            var rest = Enumerable.Range(0, 3).Where(i => i != b).ToArray();
            (s, l) = (rest[0], rest[1]);
        }
        return (b, s, l);
    }

    public void Decode(IReadOnlyList<OutputTensor> outputs, int batchIndex, float minScore, CandidateBuffer candidates)
    {
        var boxes = outputs[_boxes];
        var scores = outputs[_scores];
        var labels = outputs[_labels];
        bool batched = boxes.Rank == 3;
        int n = batched ? boxes.Shape[1] : boxes.Shape[0];
        if (!batched && batchIndex != 0) throw new InvalidOperationException("SSD model without a batch dimension decodes one image per run");
        int bo = batched ? batchIndex * n * 4 : 0, so = batched ? batchIndex * n : 0;
        bool normalised = true;
        for (int i = 0; i < n * 4 && normalised; i++) normalised = boxes.Data[bo + i] <= 1.5f;
        float sx = normalised ? _inputWidth : 1, sy = normalised ? _inputHeight : 1;
        for (int i = 0; i < n; i++)
        {
            float score = scores.Data[so + i];
            if (score < minScore) continue;
            var r = boxes.Data.AsSpan(bo + 4 * i, 4);
            candidates.Add(new Box(r[0] * sx, r[1] * sy, r[2] * sx, r[3] * sy), score, (int)labels.Data[so + i]);
        }
    }
}
