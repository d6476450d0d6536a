namespace StreamVision.Tracking.Mot;

/// <summary>
/// Scores tracks against ground truth (MOTChallenge rows): CLEAR-MOT, identity (IDF1) and HOTA metrics, computed the way
/// py-motmetrics (CLEAR-MOT, identity) and TrackEval (HOTA) compute them. <see cref="MotMetrics.Combine"/> gives the
/// figures over several sequences.
/// </summary>
public static partial class MotEvaluation
{
    /// <summary>Reads both files and scores them; the name defaults to the ground truth's sequence folder.</summary>
    public static MotMetrics EvaluateFiles(string groundTruthPath, string tracksPath, string? name = null, MotEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(groundTruthPath);
        ArgumentNullException.ThrowIfNull(tracksPath);
        name ??= SequenceName(groundTruthPath);
        return Evaluate(MotFile.Read(groundTruthPath), MotFile.Read(tracksPath), name, options);
    }

    /// <summary>Scores <paramref name="tracks"/> against <paramref name="groundTruth"/> (rows of one sequence, any order).</summary>
    public static MotMetrics Evaluate(IEnumerable<MotRow> groundTruth, IEnumerable<MotRow> tracks, string name = "", MotEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(tracks);
        ArgumentNullException.ThrowIfNull(name);
        options = (options ?? new MotEvaluationOptions()).Validate();
        double minConfidence = options.GroundTruthMinConfidence;
        var sequence = Sequence.Build(groundTruth.Where(r => r.Confidence >= minConfidence), tracks);

        ClearCounts clear = ComputeClear(sequence, options);
        long idtp = ComputeIdentityTruePositives(sequence, options.IouThreshold);
        HotaCounts hota = ComputeHota(sequence);
        return new MotMetrics(name, sequence.Frames.Length, sequence.GroundTruthIds, sequence.TrackIds,
            sequence.GroundTruthBoxes, sequence.TrackBoxes, clear.Matches, clear.FalsePositives, clear.Misses, clear.Switches,
            clear.Fragmentations, clear.MostlyTracked, clear.PartiallyTracked, clear.MostlyLost, clear.DistanceSum, idtp,
            hota.TruePositives, hota.FalseNegatives, hota.FalsePositives, hota.AssA, hota.AssRe, hota.AssPr, hota.LocA);
    }

    private static string SequenceName(string groundTruthPath)
    {
        // .../TUD-Campus/gt/gt.txt -> TUD-Campus; .../TUD-Campus/gt.txt -> TUD-Campus
        string? dir = Path.GetDirectoryName(Path.GetFullPath(groundTruthPath));
        if (dir is not null && Path.GetFileName(dir).Equals("gt", StringComparison.OrdinalIgnoreCase)) dir = Path.GetDirectoryName(dir);
        return dir is null ? Path.GetFileNameWithoutExtension(groundTruthPath) : Path.GetFileName(dir);
    }

    /// <summary>One frame: dense ids of its ground-truth and track boxes and their IoU matrix (gt-major).</summary>
    private sealed record Frame(int Number, int[] Gt, int[] Tracks, double[] IoU);

    /// <summary>A sequence with ids mapped to dense indices (ascending id order) and frames in ascending order.</summary>
    private sealed class Sequence
    {
        public required Frame[] Frames { get; init; }
        public required int GroundTruthIds { get; init; }
        public required int TrackIds { get; init; }
        public required long GroundTruthBoxes { get; init; }
        public required long TrackBoxes { get; init; }

        public static Sequence Build(IEnumerable<MotRow> groundTruth, IEnumerable<MotRow> tracks)
        {
            var gt = groundTruth.ToList();
            var tr = tracks.ToList();
            var gtIndex = DenseIds(gt);
            var trIndex = DenseIds(tr);
            var gtByFrame = gt.ToLookup(r => r.Frame);
            var trByFrame = tr.ToLookup(r => r.Frame);
            var frames = gt.Select(r => r.Frame).Concat(tr.Select(r => r.Frame)).Distinct().Order().Select(f =>
            {
                var g = gtByFrame[f].ToArray();
                var t = trByFrame[f].ToArray();
                var iou = new double[g.Length * t.Length];
                for (int i = 0; i < g.Length; i++)
                    for (int j = 0; j < t.Length; j++)
                        iou[i * t.Length + j] = g[i].IoU(t[j]);
                return new Frame(f, g.Select(r => gtIndex[r.Id]).ToArray(), t.Select(r => trIndex[r.Id]).ToArray(), iou);
            }).ToArray();
            return new Sequence
            {
                Frames = frames,
                GroundTruthIds = gtIndex.Count,
                TrackIds = trIndex.Count,
                GroundTruthBoxes = gt.Count,
                TrackBoxes = tr.Count,
            };
        }

        private static Dictionary<int, int> DenseIds(List<MotRow> rows)
        {
            var ids = rows.Select(r => r.Id).Distinct().Order().ToArray();
            var map = new Dictionary<int, int>(ids.Length);
            for (int i = 0; i < ids.Length; i++) map[ids[i]] = i;
            return map;
        }
    }
}
