using StreamVision.Tracking.Assignment;

namespace StreamVision.Tracking.Mot;

// CLEAR-MOT (MOTA, MOTP, FP, FN, IDSW, Frag, MT/PT/ML), frame by frame as py-motmetrics' accumulator does it.
public static partial class MotEvaluation
{
    private readonly record struct ClearCounts(
        long Matches, long FalsePositives, long Misses, long Switches, long Fragmentations,
        int MostlyTracked, int PartiallyTracked, int MostlyLost, double DistanceSum);

    private static ClearCounts ComputeClear(Sequence sequence, MotEvaluationOptions options)
    {
        // A pair may match when its distance 1 - IoU is at most 1 - threshold (py-motmetrics masks dist > max_iou).
        double maxDistance = 1 - options.IouThreshold;
        int objects = sequence.GroundTruthIds;
        var lastTrack = new int[objects]; // track index of the object's last match, -1 before any
        var present = new int[objects]; // frames the object is in
        var tracked = new int[objects]; // frames it was matched
        var wasTracked = new bool[objects]; // matched in its previous frame (for fragmentation)
        Array.Fill(lastTrack, -1);
        long matches = 0, falsePositives = 0, misses = 0, switches = 0, fragmentations = 0;
        double distanceSum = 0;

        double[] cost = [];
        int[] rowToCol = [], colToRow = [];
        foreach (Frame frame in sequence.Frames)
        {
            int ng = frame.Gt.Length, nt = frame.Tracks.Length;
            var gtDone = new bool[ng];
            var trDone = new bool[nt];

            if (ng > 0 && nt > 0)
            {
                // 1. An object keeps the track it had at its last match if that pair is still close enough.
                for (int i = 0; i < ng; i++)
                {
                    int previous = lastTrack[frame.Gt[i]];
                    if (previous < 0) continue;
                    int j = Array.IndexOf(frame.Tracks, previous);
                    while (j >= 0 && trDone[j]) j = Array.IndexOf(frame.Tracks, previous, j + 1);
                    if (j < 0) continue;
                    double distance = 1 - frame.IoU[i * nt + j];
                    if (!(distance <= maxDistance)) continue;
                    gtDone[i] = trDone[j] = true;
                    Count(frame.Gt[i], frame.Tracks[j], distance, isSwitch: false);
                }

                // 2. The rest: the most pairs, then the least total distance (Hungarian).
                if (cost.Length < ng * nt) cost = new double[ng * nt];
                if (rowToCol.Length < ng) rowToCol = new int[ng];
                if (colToRow.Length < nt) colToRow = new int[nt];
                for (int i = 0; i < ng; i++)
                    for (int j = 0; j < nt; j++)
                        cost[i * nt + j] = gtDone[i] || trDone[j] ? double.NaN : 1 - frame.IoU[i * nt + j];
                LinearAssignment.Solve(cost.AsSpan(0, ng * nt), ng, nt, maxDistance, rowToCol, colToRow, AssignmentObjective.MaxCardinality);
                for (int i = 0; i < ng; i++)
                {
                    int j = rowToCol[i];
                    if (j < 0) continue;
                    int o = frame.Gt[i], h = frame.Tracks[j];
                    bool isSwitch = lastTrack[o] >= 0 && lastTrack[o] != h;
                    gtDone[i] = trDone[j] = true;
                    Count(o, h, cost[i * nt + j], isSwitch);
                }
            }

            // 3. Objects left are misses, 4. tracks left are false positives.
            for (int i = 0; i < ng; i++)
            {
                int o = frame.Gt[i];
                present[o]++;
                if (gtDone[i]) continue;
                misses++;
                wasTracked[o] = false;
            }
            for (int j = 0; j < nt; j++)
                if (!trDone[j]) falsePositives++;
        }

        int mt = 0, pt = 0, ml = 0;
        for (int o = 0; o < objects; o++)
        {
            if (present[o] == 0) continue;
            double ratio = (double)tracked[o] / present[o];
            if (ratio >= options.MostlyTrackedRatio) mt++;
            else if (ratio < options.MostlyLostRatio) ml++;
            else pt++;
        }
        return new ClearCounts(matches, falsePositives, misses, switches, fragmentations, mt, pt, ml, distanceSum);

        void Count(int o, int h, double distance, bool isSwitch)
        {
            matches++;
            if (isSwitch) switches++;
            distanceSum += distance;
            // A fragmentation is a run of misses between two matched frames of the same object.
            if (tracked[o] > 0 && !wasTracked[o]) fragmentations++;
            tracked[o]++;
            wasTracked[o] = true;
            lastTrack[o] = h;
        }
    }
}
