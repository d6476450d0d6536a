using StreamVision.Core;
using StreamVision.Tracking.Mot;

namespace StreamVision.Tracking.Motion;

/// <summary>One-step prediction error of a motion model over trajectories (mean over the steps predicted).</summary>
/// <param name="Steps">Predictions scored.</param>
/// <param name="CentreErrorPixels">Mean distance between predicted and true box centres, pixels.</param>
/// <param name="CentreErrorHeights">Mean centre distance divided by the true box height.</param>
/// <param name="MeanIoU">Mean IoU of predicted and true boxes.</param>
public readonly record struct OneStepError(int Steps, double CentreErrorPixels, double CentreErrorHeights, double MeanIoU);

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
    public static OneStepError OneStep(IMotionModel model, IEnumerable<Trajectory> trajectories)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trajectories);
        int steps = 0;
        double dist = 0, distH = 0, iou = 0;
        foreach (var tr in trajectories)
        {
            if (tr.Observed.Count != tr.Truth.Count) throw new ArgumentException($"trajectory {tr.Name}: {tr.Observed.Count} observations, {tr.Truth.Count} true boxes");
            if (tr.Observed.Count < 3) continue;
            MotionState s = model.Initiate(tr.Observed[0].Box, tr.Observed[0].Time);
            for (int q = 1; q < tr.Observed.Count; q++)
            {
                model.Predict(ref s, tr.Observed[q].Time - tr.Observed[q - 1].Time);
                if (q >= 2)
                {
                    Box p = s.Box, t = tr.Truth[q];
                    double d = Math.Sqrt(Math.Pow(p.CenterX - t.CenterX, 2) + Math.Pow(p.CenterY - t.CenterY, 2));
                    dist += d;
                    distH += d / Math.Max(t.Height, 1f);
                    iou += p.IoU(t);
                    steps++;
                }
                model.Update(ref s, tr.Observed[q].Box);
            }
        }
        return steps == 0 ? new OneStepError(0, 0, 0, 0) : new OneStepError(steps, dist / steps, distH / steps, iou / steps);
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
