using StreamVision.Tracking.Assignment;

namespace StreamVision.Tracking.Mot;

// HOTA (Luiten et al. 2020) as TrackEval computes it: per frame, a matching that prefers pairs whose ids align well over
// the whole sequence; then detection (DetA), association (AssA) and localisation (LocA) accuracy at each IoU threshold
// alpha = 0.05, 0.10, ..., 0.95.
public static partial class MotEvaluation
{
    /// <summary>The IoU thresholds HOTA averages over: 0.05 to 0.95 in steps of 0.05.</summary>
    public static IReadOnlyList<double> HotaAlphas { get; } = Enumerable.Range(0, 19).Select(k => 0.05 + k * 0.05).ToArray();

    /// <summary>Spacing of doubles at 1 (numpy's float eps), the tolerance TrackEval uses.</summary>
    private const double MachineEpsilon = 2.220446049250313e-16;

    private sealed record HotaCounts(double[] TruePositives, double[] FalseNegatives, double[] FalsePositives,
        double[] AssA, double[] AssRe, double[] AssPr, double[] LocA);

    private static HotaCounts ComputeHota(Sequence sequence)
    {
        int na = HotaAlphas.Count;
        var tp = new double[na];
        var fn = new double[na];
        var fp = new double[na];
        var assA = new double[na];
        var assRe = new double[na];
        var assPr = new double[na];
        var locA = new double[na];
        int g = sequence.GroundTruthIds, t = sequence.TrackIds;

        if (sequence.TrackBoxes == 0 || sequence.GroundTruthBoxes == 0)
        {
            Array.Fill(fn, sequence.GroundTruthBoxes);
            Array.Fill(fp, sequence.TrackBoxes);
            Array.Fill(locA, 1.0);
            return new HotaCounts(tp, fn, fp, assA, assRe, assPr, locA);
        }

        // Pass 1: how well each pair of ids aligns over the sequence (soft, IoU-weighted co-occurrence).
        var potential = new double[g * t];
        var gtCount = new double[g];
        var trCount = new double[t];
        foreach (Frame frame in sequence.Frames)
        {
            int ng = frame.Gt.Length, nt = frame.Tracks.Length;
            var rowSum = new double[ng];
            var colSum = new double[nt];
            for (int i = 0; i < ng; i++)
                for (int j = 0; j < nt; j++)
                {
                    rowSum[i] += frame.IoU[i * nt + j];
                    colSum[j] += frame.IoU[i * nt + j];
                }
            for (int i = 0; i < ng; i++)
                for (int j = 0; j < nt; j++)
                {
                    double s = frame.IoU[i * nt + j];
                    double denominator = rowSum[i] + colSum[j] - s;
                    if (denominator > MachineEpsilon)
                        potential[frame.Gt[i] * t + frame.Tracks[j]] += s / denominator;
                }
            foreach (int o in frame.Gt) gtCount[o]++;
            foreach (int h in frame.Tracks) trCount[h]++;
        }
        var alignment = new double[g * t];
        for (int i = 0; i < g; i++)
            for (int j = 0; j < t; j++)
            {
                double p = potential[i * t + j];
                alignment[i * t + j] = p / (gtCount[i] + trCount[j] - p);
            }

        // Pass 2: per frame, the matching maximising alignment x IoU; a matched pair counts at every alpha its IoU reaches.
        // Per matched id pair, how often it matched at each alpha (sparse: few pairs ever match).
        var matchCounts = new Dictionary<long, double[]>();
        double[] cost = [];
        int[] rowToCol = [];
        foreach (Frame frame in sequence.Frames)
        {
            int ng = frame.Gt.Length, nt = frame.Tracks.Length;
            if (ng == 0 || nt == 0)
            {
                for (int a = 0; a < na; a++)
                {
                    fp[a] += nt;
                    fn[a] += ng;
                }
                continue;
            }
            if (cost.Length < ng * nt) cost = new double[ng * nt];
            if (rowToCol.Length < ng) rowToCol = new int[ng];
            for (int i = 0; i < ng; i++)
                for (int j = 0; j < nt; j++)
                    cost[i * nt + j] = -alignment[frame.Gt[i] * t + frame.Tracks[j]] * frame.IoU[i * nt + j];
            LinearAssignment.SolveComplete(cost.AsSpan(0, ng * nt), ng, nt, rowToCol);

            for (int a = 0; a < na; a++)
            {
                double alpha = HotaAlphas[a] - MachineEpsilon; // TrackEval: similarity >= alpha - eps
                int matched = 0;
                for (int i = 0; i < ng; i++)
                {
                    int j = rowToCol[i];
                    if (j < 0) continue;
                    double s = frame.IoU[i * nt + j];
                    if (!(s >= alpha)) continue;
                    matched++;
                    locA[a] += s;
                    long pair = (long)frame.Gt[i] * t + frame.Tracks[j];
                    if (!matchCounts.TryGetValue(pair, out double[]? counts)) matchCounts[pair] = counts = new double[na];
                    counts[a]++;
                }
                tp[a] += matched;
                fn[a] += ng - matched;
                fp[a] += nt - matched;
            }
        }

        for (int a = 0; a < na; a++)
        {
            double sumA = 0, sumRe = 0, sumPr = 0;
            foreach (var (pair, counts) in matchCounts)
            {
                double c = counts[a];
                if (c == 0) continue;
                int i = (int)(pair / t), j = (int)(pair % t);
                sumA += c * c / Math.Max(1, gtCount[i] + trCount[j] - c);
                sumRe += c * c / Math.Max(1, gtCount[i]);
                sumPr += c * c / Math.Max(1, trCount[j]);
            }
            double denominator = Math.Max(1, tp[a]);
            assA[a] = sumA / denominator;
            assRe[a] = sumRe / denominator;
            assPr[a] = sumPr / denominator;
            locA[a] = Math.Max(1e-10, locA[a]) / Math.Max(1e-10, tp[a]);
        }
        return new HotaCounts(tp, fn, fp, assA, assRe, assPr, locA);
    }
}
