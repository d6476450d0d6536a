using StreamVision.Core;
using StreamVision.Tracking.Mot;

namespace StreamVision.Tracking.Motion;

/// <summary>Prediction error of a motion model over trajectories (means over the predictions scored).</summary>
/// <param name="Steps">Predictions scored.</param>
/// <param name="CentreErrorPixels">Mean distance between predicted and true box centres, pixels.</param>
/// <param name="CentreErrorHeights">Mean centre distance divided by the true box height.</param>
/// <param name="MeanIoU">Mean IoU of predicted and true boxes.</param>
public readonly record struct PredictionError(int Steps, double CentreErrorPixels, double CentreErrorHeights, double MeanIoU);

/// <summary>A trajectory to score: the boxes a model is given (<see cref="Observed"/>) and the true ones at the same times.</summary>
public sealed record Trajectory(string Name, IReadOnlyList<Observation> Observed, IReadOnlyList<Box> Truth);

/// <summary>Scores motion models the way a tracker uses them, so the learned model and the Kalman filter compare like for like.</summary>
public static class MotionEvaluation
{
    /// <summary>
    /// For each trajectory: <see cref="IMotionModel.Initiate"/> on the first observation, then per observation q:
    /// <see cref="IMotionModel.Predict"/> to its time, score the predicted box against the truth (from q = 2 on, where a
    /// learned model has two observations and stops deferring to the Kalman filter), <see cref="IMotionModel.Update"/>.
    /// </summary>
    public static PredictionError OneStep(IMotionModel model, IEnumerable<Trajectory> trajectories) => Ahead(model, trajectories, 1);

    /// <summary>
    /// Coasting error: from the state updated with observation j (j &gt;= 1), predict observation by observation without
    /// updates, as a tracker predicts a lost track frame by frame, and score the box at observation
    /// j + <paramref name="observationsAhead"/> against the truth. 1 is <see cref="OneStep"/>.
    /// </summary>
    public static PredictionError Ahead(IMotionModel model, IEnumerable<Trajectory> trajectories, int observationsAhead)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trajectories);
        ArgumentOutOfRangeException.ThrowIfLessThan(observationsAhead, 1);
        int steps = 0;
        double dist = 0, distH = 0, iou = 0;
        foreach (var tr in trajectories)
        {
            if (tr.Observed.Count != tr.Truth.Count) throw new ArgumentException($"trajectory {tr.Name}: {tr.Observed.Count} observations, {tr.Truth.Count} true boxes");
            int n = tr.Observed.Count;
            if (n < observationsAhead + 2) continue;
            MotionState s = model.Initiate(tr.Observed[0].Box, tr.Observed[0].Time);
            for (int j = 1; j + observationsAhead < n; j++)
            {
                model.Predict(ref s, tr.Observed[j].Time - tr.Observed[j - 1].Time);
                model.Update(ref s, tr.Observed[j].Box);
                MotionState coast = s;
                for (int q = j + 1; q <= j + observationsAhead; q++) model.Predict(ref coast, tr.Observed[q].Time - tr.Observed[q - 1].Time);
                Box p = coast.Box, t = tr.Truth[j + observationsAhead];
                double d = Math.Sqrt(Math.Pow(p.CenterX - t.CenterX, 2) + Math.Pow(p.CenterY - t.CenterY, 2));
                dist += d;
                distH += d / Math.Max(t.Height, 1f);
                iou += p.IoU(t);
                steps++;
            }
        }
        return steps == 0 ? new PredictionError(0, 0, 0, 0) : new PredictionError(steps, dist / steps, distH / steps, iou / steps);
    }

    /// <summary>
    /// The tracks of a MOTChallenge ground-truth file as trajectories observed without noise (frame n at
    /// <c>(n - first) / fps</c> seconds), optionally only the ids <paramref name="include"/> accepts.
    /// </summary>
    public static List<Trajectory> FromGroundTruth(IEnumerable<MotRow> groundTruth, double fps, Func<int, bool>? include = null, string name = "")
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        if (!(fps > 0) || !double.IsFinite(fps)) throw new ArgumentOutOfRangeException(nameof(fps), fps, "must be a positive frame rate");
        var result = new List<Trajectory>();
        foreach (var g in groundTruth.Where(r => include is null || include(r.Id)).GroupBy(r => r.Id).OrderBy(g => g.Key))
        {
            var rows = g.OrderBy(r => r.Frame).ToList();
            int first = rows[0].Frame;
            var boxes = rows.Select(r => r.Box).ToList();
            result.Add(new Trajectory($"{name}/{g.Key}", rows.Select(r => new Observation(r.Box, (r.Frame - first) / fps)).ToList(), boxes));
        }
        return result;
    }

    /// <summary>
    /// Ground-truth tracks observed through a real detector: per ground-truth box, the detection of the same frame with the
    /// highest IoU if that is at least <paramref name="minIoU"/>; frames without one are missed (absent from the
    /// trajectory). Tracks left with fewer than 3 observations are dropped.
    /// </summary>
    public static List<Trajectory> FromMatchedDetections(IEnumerable<MotRow> groundTruth, IEnumerable<MotRow> detections, double fps,
        Func<int, bool>? include = null, string name = "", double minIoU = 0.5)
    {
        ArgumentNullException.ThrowIfNull(groundTruth);
        ArgumentNullException.ThrowIfNull(detections);
        if (!(fps > 0) || !double.IsFinite(fps)) throw new ArgumentOutOfRangeException(nameof(fps), fps, "must be a positive frame rate");
        var byFrame = detections.ToLookup(d => d.Frame);
        var result = new List<Trajectory>();
        foreach (var g in groundTruth.Where(r => include is null || include(r.Id)).GroupBy(r => r.Id).OrderBy(g => g.Key))
        {
            var rows = g.OrderBy(r => r.Frame).ToList();
            int first = rows[0].Frame;
            var observed = new List<Observation>();
            var truth = new List<Box>();
            foreach (var row in rows)
            {
                Box t = row.Box, best = default;
                double bestIoU = -1;
                foreach (var d in byFrame[row.Frame])
                {
                    double iou = t.IoU(d.Box);
                    if (iou > bestIoU)
                    {
                        bestIoU = iou;
                        best = d.Box;
                    }
                }
                if (bestIoU < minIoU) continue;
                observed.Add(new Observation(best, (row.Frame - first) / fps));
                truth.Add(t);
            }
            if (observed.Count >= 3) result.Add(new Trajectory($"{name}/{g.Key}", observed, truth));
        }
        return result;
    }

    /// <summary>
    /// The same trajectories observed with Gaussian noise: centre x and y, log width and log height with standard deviations
    /// <paramref name="noise"/> (fractions of the true width, height; log units), seeded.
    /// </summary>
    public static List<Trajectory> WithNoise(IEnumerable<Trajectory> trajectories, (double X, double Y, double LogW, double LogH) noise, int seed)
    {
        var rng = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        return trajectories.Select(tr => tr with
        {
            Observed = tr.Observed.Select((o, i) =>
            {
                Box t = tr.Truth[i];
                float cx = (float)(t.CenterX + Gauss() * noise.X * t.Width), cy = (float)(t.CenterY + Gauss() * noise.Y * t.Height);
                float w = (float)(t.Width * Math.Exp(Gauss() * noise.LogW)), h = (float)(t.Height * Math.Exp(Gauss() * noise.LogH));
                return new Observation(Box.FromCenter(cx, cy, w, h), o.Time);
            }).ToList(),
        }).ToList();
    }
}
