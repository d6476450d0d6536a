using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking.Tests.Motion;

[Collection(MotionModelFiles.Collection)]
public partial class OnnxMotionModelTests
{
    private const double Dt = 1.0 / 25;
    private readonly OnnxMotionModel _model = MotionModelFiles.Learned;

    /// <summary>A pedestrian-sized box moving at (vx, vy) px/s from (x0, y0), growing by <paramref name="growth"/> px/s in height.</summary>
    private static Box CvBox(double t, double x0 = 300, double y0 = 200, double vx = 60, double vy = -25, double w = 50, double h = 120, double growth = 0) =>
        Box.FromCenter((float)(x0 + vx * t), (float)(y0 + vy * t), (float)(w * (1 + growth * t / h)), (float)(h + growth * t));

    /// <summary>A state that has seen <paramref name="observations"/> boxes from <paramref name="box"/>, one per <paramref name="dt"/>.</summary>
    private static MotionState Observe(IMotionModel model, Func<double, Box> box, int observations, double dt = Dt)
    {
        var s = model.Initiate(box(0), 0);
        for (int k = 1; k < observations; k++)
        {
            model.Predict(ref s, dt);
            model.Update(ref s, box(k * dt));
        }
        return s;
    }

    [Fact]
    public void Load_ReadsTheContractFromTheFile()
    {
        Assert.Equal(ObservationHistory.Capacity, _model.HistoryLength); // K = 16: all a track keeps
        Assert.Equal(0.04, _model.TimeUnitSeconds, 12);
        Assert.EndsWith("motion-gru.onnx", _model.Path);
        Assert.InRange(new FileInfo(MotionModelFiles.LearnedPath).Length, 10_000, 400_000); // "a few hundred KB at most"
    }

    [Theory]
    [InlineData(60, -25, 0)]   // walking sideways and away
    [InlineData(-120, 0, 0)]   // fast, leftwards
    [InlineData(0, 0, 0)]      // standing
    [InlineData(40, 10, 20)]   // coming closer: the box grows
    public void ConstantVelocity_NextBoxWithinAFewPercentOfItsSize(double vx, double vy, double growth)
    {
        Box Truth(double t) => CvBox(t, vx: vx, vy: vy, growth: growth);
        var s = Observe(_model, Truth, 12);
        _model.Predict(ref s, Dt);
        Box p = s.Box, t = Truth(12 * Dt);
        Assert.Equal(12 * Dt, s.Time, 9);
        // One frame ahead: centre within 3% of the box height (3.6 px), size within 3%.
        Assert.InRange(Math.Abs(p.CenterX - t.CenterX), 0, 0.03 * t.Height);
        Assert.InRange(Math.Abs(p.CenterY - t.CenterY), 0, 0.03 * t.Height);
        Assert.InRange(p.Width / t.Width, 0.97, 1.03);
        Assert.InRange(p.Height / t.Height, 0.97, 1.03);
        Assert.True(p.IoU(t) > 0.9, $"IoU {p.IoU(t):0.000}");
        // The rates follow the motion (px/s) and the covariance is the network's (positive variances).
        Assert.InRange(s.VelocityX, vx - 20, vx + 20);
        for (int i = 0; i < 8; i++) Assert.True(s.Covariance[i * 8 + i] > 0);
    }

    [Fact]
    public void ConstantVelocity_CoastingHalfASecond_StaysOnTheLine()
    {
        // A lost track: no updates for 12 frames; the tracker predicts it frame by frame.
        Box Truth(double t) => CvBox(t);
        var s = Observe(_model, Truth, 12);
        for (int k = 1; k <= 12; k++) _model.Predict(ref s, Dt);
        Box p = s.Box, t = Truth(23 * Dt);
        Assert.InRange(Math.Abs(p.CenterX - t.CenterX), 0, 0.12 * t.Height);
        Assert.InRange(Math.Abs(p.CenterY - t.CenterY), 0, 0.12 * t.Height);
        Assert.True(p.IoU(t) > 0.6, $"IoU {p.IoU(t):0.000}");
    }

    [Fact]
    public void Batch_OfHundredTracks_MatchesOneByOne()
    {
        var rng = new Random(42);
        var states = new MotionState[100];
        var dts = new double[100];
        for (int i = 0; i < states.Length; i++)
        {
            double vx = rng.Next(-150, 150), vy = rng.Next(-40, 40), w = rng.Next(20, 120), h = w * (1.5 + rng.NextDouble() * 1.5);
            double step = rng.Next(3) switch { 0 => 1 / 25.0, 1 => 1 / 10.0, _ => 1 / 30.0 };
            int observations = 1 + rng.Next(ObservationHistory.Capacity + 4); // 1 (Kalman fallback) .. more than the history holds
            var noise = new Random(i);
            states[i] = Observe(_model, t => Box.FromCenter((float)(500 + vx * t + noise.NextDouble() * 3), (float)(300 + vy * t + noise.NextDouble() * 3), (float)w, (float)h),
                observations, step);
            dts[i] = i % 17 == 0 ? 0 : step * (1 + rng.Next(3)); // some tracks not advanced, some coasting several frames
        }

        var batched = (MotionState[])states.Clone();
        long runs = _model.SessionRuns;
        _model.PredictMany(batched, dts);
        Assert.Equal(runs + 1, _model.SessionRuns); // one session run for the whole frame

        for (int i = 0; i < states.Length; i++)
        {
            var single = states[i];
            _model.Predict(ref single, dts[i]);
            Assert.Equal(single.Time, batched[i].Time);
            for (int k = 0; k < MotionVector.Length; k++)
                Assert.True(Math.Abs(single.Mean[k] - batched[i].Mean[k]) <= 1e-4 * (1 + Math.Abs(single.Mean[k])), $"track {i} mean[{k}]: {single.Mean[k]} vs {batched[i].Mean[k]}");
            for (int k = 0; k < MotionCovariance.Length; k++)
                Assert.True(Math.Abs(single.Covariance[k] - batched[i].Covariance[k]) <= 1e-3 * (1 + Math.Abs(single.Covariance[k])), $"track {i} cov[{k}]");
        }
    }

    [Fact]
    public void FewerThanTwoObservations_FallsBackToKalman()
    {
        var kalman = new KalmanMotionModel();
        Box box = CvBox(0);
        MotionState learned = _model.Initiate(box, 1.0), reference = kalman.Initiate(box, 1.0);
        long runs = _model.SessionRuns;

        // One observation: every prediction is the Kalman filter's, bit for bit, and the network is not run.
        Span<MotionState> one = [learned];
        _model.PredictMany(one, [Dt]);
        kalman.Predict(ref reference, Dt);
        Assert.Equal(runs, _model.SessionRuns);
        for (int k = 0; k < MotionVector.Length; k++) Assert.Equal(reference.Mean[k], one[0].Mean[k]);
        for (int k = 0; k < MotionCovariance.Length; k++) Assert.Equal(reference.Covariance[k], one[0].Covariance[k]);

        // Mixed with a track of two observations: the young one is still Kalman's, the other the network's.
        MotionState older = Observe(_model, t => CvBox(t), 2);
        Span<MotionState> mixed = [learned, older];
        var kalmanOlder = older;
        kalman.Predict(ref kalmanOlder, Dt);
        _model.PredictMany(mixed, [Dt, Dt]);
        kalman.Predict(ref learned, Dt);
        Assert.Equal(runs + 1, _model.SessionRuns);
        for (int k = 0; k < MotionVector.Length; k++) Assert.Equal(learned.Mean[k], mixed[0].Mean[k]);
        Assert.NotEqual(kalmanOlder.Covariance[0], mixed[1].Covariance[0]);
    }

    [Fact]
    public void ZeroStep_LeavesTheStateAlone_BadStepsThrowBeforeChangingAnything()
    {
        var s = Observe(_model, t => CvBox(t), 5);
        var copy = s;
        _model.Predict(ref s, 0);
        Assert.Equal(copy.Box, s.Box);
        Assert.Equal(copy.Time, s.Time);

        var states = new[] { s, s };
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.PredictMany(states, [Dt, -Dt]));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.PredictMany(states, [double.NaN, Dt]));
        Assert.Throws<ArgumentException>(() => _model.PredictMany(states, [Dt]));
        Assert.Equal(copy.Box, states[0].Box);
    }

    [Fact]
    public void ConcurrentCallers_GetTheSameAnswersAsOneCaller()
    {
        var states = Enumerable.Range(0, 40).Select(i => Observe(_model, t => CvBox(t, vx: 10 * i - 200, h: 60 + 5 * i), 3 + i % 10)).ToArray();
        var dts = Enumerable.Repeat(Dt, states.Length).ToArray();
        var expected = (MotionState[])states.Clone();
        _model.PredictMany(expected, dts);

        var results = new MotionState[8][];
        Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, r =>
        {
            for (int rep = 0; rep < 20; rep++)
            {
                var mine = (MotionState[])states.Clone();
                _model.PredictMany(mine, dts);
                results[r] = mine;
            }
        });
        foreach (var r in results)
            for (int i = 0; i < states.Length; i++)
                Assert.Equal(expected[i].Box, r[i].Box);
    }

    [Fact]
    public void Update_IsTheKalmanCorrection_AndRecordsTheBox()
    {
        var s = Observe(_model, t => CvBox(t), 6);
        _model.Predict(ref s, Dt);
        Box predicted = s.Box, measured = CvBox(6 * Dt + 0.2); // a detection ahead of the prediction
        _model.Update(ref s, measured);
        Assert.Equal(7, s.History.Count);
        Assert.Equal(measured, s.History.Latest.Box);
        // The corrected box lies between the prediction and the detection.
        Assert.InRange(s.Box.CenterX, Math.Min(predicted.CenterX, measured.CenterX) - 0.01, Math.Max(predicted.CenterX, measured.CenterX) + 0.01);
    }

    [Fact]
    public void Load_RejectsMissingAndForeignFiles()
    {
        var missing = Assert.Throws<MotionModelException>(() => OnnxMotionModel.Load("no-such-model.onnx"));
        Assert.Contains("not found", missing.Message);

        string dir = TestEnvironment.NewTempDir("svmotion");
        string junk = Path.Combine(dir, "junk.onnx");
        File.WriteAllText(junk, "not a model");
        var bad = Assert.Throws<MotionModelException>(() => OnnxMotionModel.Load(junk));
        Assert.Equal(junk, bad.Path);

        Assert.Throws<OptionsException>(() => OnnxMotionModel.Load(MotionModelFiles.LearnedPath, new OnnxMotionModelOptions { IntraOpThreads = -1 }));
    }

    [Fact]
    public void Dispose_IsIdempotent_AndLaterCallsThrow()
    {
        var model = OnnxMotionModel.Load(MotionModelFiles.LearnedPath);
        var s = model.Initiate(CvBox(0), 0);
        model.Dispose();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Predict(ref s, Dt));
    }
}
