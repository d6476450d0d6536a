using System.Globalization;
using StreamVision.Core;
using StreamVision.Tracking.Motion;
using Xunit.Abstractions;

namespace StreamVision.Tracking.Tests.Motion;

/// <summary>
/// Kalman, the learned model and their uncertainty-gated blend (<see cref="OnnxMotionModelOptions.Blend"/>) on synthetic
/// motion generated here: straight walks (where a constant-velocity filter is the right model) and non-linear motion,
/// tight turns and dancing, where learned models are known to help. Observed with detection-like noise, 25 fps.
/// </summary>
[Collection(MotionModelFiles.Collection)]
public class NonLinearMotionTests(ITestOutputHelper output)
{
    private const double Fps = 25;
    private const int Length = 60;

    /// <summary>Trajectories of one kind: the true box at each frame from (frame time, track index, random source).</summary>
    private static List<Trajectory> Make(string kind, int count, int seed, Func<double, Random, (double Cx, double Cy, double W, double H)> start,
        Func<double, (double Cx, double Cy, double W, double H), Random, object> parameters,
        Func<double, (double Cx, double Cy, double W, double H), object, (double Cx, double Cy)> at)
    {
        var rng = new Random(seed);
        double Gauss() => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
        var result = new List<Trajectory>();
        for (int i = 0; i < count; i++)
        {
            var s = start(i, rng);
            object p = parameters(i, s, rng);
            var observed = new List<Observation>();
            var truth = new List<Box>();
            for (int f = 0; f < Length; f++)
            {
                double t = f / Fps;
                var (cx, cy) = at(t, s, p);
                var box = Box.FromCenter((float)cx, (float)cy, (float)s.W, (float)s.H);
                truth.Add(box);
                // Detection-like noise: centre 5% of the width, 2% of the height; size 5% (log).
                observed.Add(new Observation(Box.FromCenter((float)(cx + Gauss() * 0.05 * s.W), (float)(cy + Gauss() * 0.02 * s.H),
                    (float)(s.W * Math.Exp(Gauss() * 0.05)), (float)(s.H * Math.Exp(Gauss() * 0.05))), t));
            }
            result.Add(new Trajectory($"{kind}/{i}", observed, truth));
        }
        return result;
    }

    private static (double, double, double, double) Person(double i, Random rng)
    {
        double h = 80 + 120 * rng.NextDouble();
        return (300 + 600 * rng.NextDouble(), 200 + 300 * rng.NextDouble(), 0.4 * h, h);
    }

    /// <summary>Straight walks at 0.3..1.5 heights a second in any direction.</summary>
    public static List<Trajectory> Linear(int seed = 1) => Make("linear", 40, seed, Person,
        (_, s, rng) => (Speed: (0.3 + 1.2 * rng.NextDouble()) * s.H, Angle: 2 * Math.PI * rng.NextDouble()),
        (t, s, p) =>
        {
            var (speed, angle) = ((double, double))p;
            return (s.Cx + speed * t * Math.Cos(angle), s.Cy + speed * t * Math.Sin(angle));
        });

    /// <summary>Tight turns: circles at 1.5..3 rad/s, 0.5..1.2 heights a second.</summary>
    public static List<Trajectory> Turning(int seed = 2) => Make("turning", 40, seed, Person,
        (_, s, rng) => (Speed: (0.5 + 0.7 * rng.NextDouble()) * s.H, Omega: (rng.Next(2) * 2 - 1) * (1.5 + 1.5 * rng.NextDouble()), Phase: 2 * Math.PI * rng.NextDouble()),
        (t, s, p) =>
        {
            var (speed, omega, phase) = ((double, double, double))p;
            double r = speed / Math.Abs(omega);
            return (s.Cx + r * (Math.Cos(omega * t + phase) - Math.Cos(phase)), s.Cy + r * (Math.Sin(omega * t + phase) - Math.Sin(phase)));
        });

    /// <summary>Dancing: side to side by 0.3..1 widths at 0.6..1.4 Hz, a smaller bounce, over a slow drift.</summary>
    public static List<Trajectory> Dancing(int seed = 3) => Make("dancing", 40, seed, Person,
        (_, s, rng) => (Amp: (0.3 + 0.7 * rng.NextDouble()) * s.W, Freq: 0.6 + 0.8 * rng.NextDouble(), Drift: (rng.NextDouble() - 0.5) * 0.4 * s.H, Phase: 2 * Math.PI * rng.NextDouble()),
        (t, s, p) =>
        {
            var (amp, freq, drift, phase) = ((double, double, double, double))p;
            return (s.Cx + drift * t + amp * Math.Sin(2 * Math.PI * freq * t + phase), s.Cy + 0.15 * amp * Math.Sin(4 * Math.PI * freq * t + phase));
        });

    private static string Row(string name, PredictionError e) =>
        string.Create(CultureInfo.InvariantCulture, $"{name,-28} {e.Steps,5} steps  centre {e.CentreErrorPixels,6:0.00} px  /height {e.CentreErrorHeights:0.0000}  IoU {e.MeanIoU:0.000}");

    [Fact]
    public void BlendGatesBetweenKalmanAndTheLearnedModel()
    {
        var kalman = new KalmanMotionModel();
        var learned = MotionModelFiles.Learned;
        using var blend = OnnxMotionModel.Load(MotionModelFiles.LearnedPath, new OnnxMotionModelOptions { Blend = true });
        Assert.True(blend.Blends);
        Assert.False(learned.Blends);
        foreach (var (name, set) in new[] { ("linear", Linear()), ("turning", Turning()), ("dancing", Dancing()) })
        {
            foreach (int ahead in new[] { 1, 5 })
            {
                var k = MotionEvaluation.Ahead(kalman, set, ahead);
                var l = MotionEvaluation.Ahead(learned, set, ahead);
                var b = MotionEvaluation.Ahead(blend, set, ahead);
                output.WriteLine(Row($"{name} +{ahead} Kalman", k));
                output.WriteLine(Row($"{name} +{ahead} learned", l));
                output.WriteLine(Row($"{name} +{ahead} blend", b));
                Assert.Equal(k.Steps, b.Steps);
                // The blend is a per-coordinate weighting of the two predictions: never clearly worse than the worse one.
                Assert.True(b.CentreErrorPixels <= 1.05 * Math.Max(k.CentreErrorPixels, l.CentreErrorPixels),
                    $"{name} +{ahead}: blend {b.CentreErrorPixels:0.00} px, Kalman {k.CentreErrorPixels:0.00}, learned {l.CentreErrorPixels:0.00}");
            }
        }
    }

    [Fact]
    public void BlendKeepsTheTrackerContract()
    {
        using var blend = OnnxMotionModel.Load(MotionModelFiles.LearnedPath, new OnnxMotionModelOptions { Blend = true });
        var set = Dancing(7);
        var tr = set[0];
        MotionState s = blend.Initiate(tr.Observed[0].Box, 0);
        for (int j = 1; j < 20; j++)
        {
            double before = s.Time;
            blend.Predict(ref s, tr.Observed[j].Time - tr.Observed[j - 1].Time);
            Assert.Equal(tr.Observed[j].Time, s.Time, 9);
            for (int k = 0; k < MotionVector.Length; k++) Assert.True(double.IsFinite(s.Mean[k]), $"mean[{k}] at {j}");
            for (int k = 0; k < 4; k++) Assert.True(s.Covariance[k * MotionVector.Length + k] > 0, $"variance {k} at {j}");
            Assert.True(s.Box.IoU(tr.Truth[j]) > 0.3f, $"step {j}: {s.Box} vs {tr.Truth[j]}");
            blend.Update(ref s, tr.Observed[j].Box);
            Assert.True(s.Time > before);
        }
    }
}
