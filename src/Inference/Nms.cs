using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>Greedy non-maximum suppression.</summary>
public static class Nms
{
    /// <summary>
    /// Rows of <paramref name="candidates"/> to keep, best score first (equal scores: lower row first): a box is dropped when
    /// it overlaps a kept box of the same class (or any class when <paramref name="classAware"/> is false) by more than
    /// <paramref name="iouThreshold"/>.
    /// </summary>
    public static List<int> Run(Detections candidates, float iouThreshold, int maxDetections, bool classAware = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDetections);
        int n = candidates.Count;
        var keep = new int[Math.Min(n, maxDetections)];
        int kept = Run(candidates.Boxes, candidates.Scores, candidates.ClassIds, iouThreshold, classAware, keep, new ulong[n]);
        return new List<int>(keep.AsSpan(0, kept).ToArray());
    }

    /// <summary>
    /// The allocation-free form: writes the kept rows, best score first, into <paramref name="keep"/> (its length is the
    /// most rows kept) and returns how many. <paramref name="scratch"/> needs one element per box.
    /// </summary>
    public static int Run(ReadOnlySpan<Box> boxes, ReadOnlySpan<float> scores, ReadOnlySpan<int> classIds, float iouThreshold, bool classAware,
                          Span<int> keep, Span<ulong> scratch)
    {
        int n = boxes.Length;
        if (scores.Length != n || classIds.Length != n) throw new ArgumentException($"boxes ({n}), scores ({scores.Length}) and classIds ({classIds.Length}) must have one row each");
        if (scratch.Length < n) throw new ArgumentException($"scratch holds {scratch.Length} elements, {n} needed", nameof(scratch));
        // Sort by (score descending, row ascending) with one primitive sort: the high half is the score's order-preserving
        // bit pattern, inverted so the best comes first; the low half is the row.
        var order = scratch[..n];
        for (int i = 0; i < n; i++) order[i] = ((ulong)~SortableBits(scores[i]) << 32) | (uint)i;
        order.Sort();
        int kept = 0;
        for (int j = 0; j < n && kept < keep.Length; j++)
        {
            int i = (int)(uint)order[j];
            bool suppressed = false;
            for (int k = 0; k < kept; k++)
            {
                int other = keep[k];
                if (classAware && classIds[other] != classIds[i]) continue;
                if (boxes[i].IoU(boxes[other]) > iouThreshold) { suppressed = true; break; }
            }
            if (!suppressed) keep[kept++] = i;
        }
        return kept;
    }

    /// <summary>Maps a float to a uint with the same order (negative numbers below positive ones; NaN last).</summary>
    private static uint SortableBits(float f)
    {
        if (float.IsNaN(f)) return 0; // inverted above: NaN sorts after everything
        uint u = BitConverter.SingleToUInt32Bits(f);
        return (u & 0x8000_0000u) != 0 ? ~u : u | 0x8000_0000u;
    }
}
