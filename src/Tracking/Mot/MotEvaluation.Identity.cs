using StreamVision.Tracking.Assignment;

namespace StreamVision.Tracking.Mot;

// Identity metrics (IDF1, IDP, IDR): one global one-to-one matching of ground-truth ids to track ids that maximises the
// number of frames in which matched ids overlap enough (IDTP).
public static partial class MotEvaluation
{
    private static long ComputeIdentityTruePositives(Sequence sequence, double iouThreshold)
    {
        int g = sequence.GroundTruthIds, t = sequence.TrackIds;
        if (g == 0 || t == 0) return 0;
        double maxDistance = 1 - iouThreshold;
        var overlap = new long[g * t];
        foreach (Frame frame in sequence.Frames)
        {
            int nt = frame.Tracks.Length;
            for (int i = 0; i < frame.Gt.Length; i++)
                for (int j = 0; j < nt; j++)
                    if (1 - frame.IoU[i * nt + j] <= maxDistance) overlap[frame.Gt[i] * t + frame.Tracks[j]]++;
        }

        // Maximum-weight matching: a complete assignment on -overlap (pairs with no overlap add nothing).
        var cost = new double[g * t];
        for (int k = 0; k < cost.Length; k++) cost[k] = -overlap[k];
        var rowToCol = new int[g];
        LinearAssignment.SolveComplete(cost, g, t, rowToCol);
        long idtp = 0;
        for (int i = 0; i < g; i++)
            if (rowToCol[i] >= 0) idtp += overlap[i * t + rowToCol[i]];
        return idtp;
    }
}
