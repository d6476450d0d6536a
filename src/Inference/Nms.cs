using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>Greedy non-maximum suppression.</summary>
public static class Nms
{
    /// <summary>
    /// Rows of <paramref name="candidates"/> to keep, best score first: a box is dropped when it overlaps a kept box of the
    /// same class (or any class when <paramref name="classAware"/> is false) by more than <paramref name="iouThreshold"/>.
    /// </summary>
    public static List<int> Run(Detections candidates, float iouThreshold, int maxDetections, bool classAware = true)
    {
        int n = candidates.Count;
        var order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        var scores = candidates.Scores.ToArray();
        Array.Sort(scores, order);
        Array.Reverse(order);
        var keep = new List<int>(Math.Min(n, maxDetections));
        var boxes = candidates.Boxes;
        var classes = candidates.ClassIds;
        foreach (int i in order)
        {
            if (keep.Count >= maxDetections) break;
            bool suppressed = false;
            foreach (int k in keep)
            {
                if (classAware && classes[k] != classes[i]) continue;
                if (boxes[i].IoU(boxes[k]) > iouThreshold) { suppressed = true; break; }
            }
            if (!suppressed) keep.Add(i);
        }
        return keep;
    }
}
