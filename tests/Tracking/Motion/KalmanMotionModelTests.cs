using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking.Tests.Motion;

public class KalmanMotionModelTests
{
    private const double Dt = 1.0 / 25;
    private readonly KalmanMotionModel _model = KalmanMotionModel.Default;

    [Fact]
    public void Initiate_StartsAtTheBoxWithZeroVelocity()
    {
        var s = _model.Initiate(new Box(10, 20, 50, 120), 3.0);
        Assert.Equal(30, s.Mean[0], 9);
        Assert.Equal(70, s.Mean[1], 9);
        Assert.Equal(40, s.Mean[2], 9);
        Assert.Equal(100, s.Mean[3], 9);
        Assert.Equal(0, s.VelocityX);
        Assert.Equal(3.0, s.Time);
        Assert.Equal(new Box(10, 20, 50, 120), s.Box);
        Assert.Equal(1, s.History.Count);
        for (int i = 0; i < 8; i++) Assert.True(s.Covariance[i * 8 + i] > 0);
    }

    [Fact]
    public void ConstantVelocity_EstimateConverges()
    {
        // 60 px/s right, 25 px/s up, growing 5 px/s: a tracker sees the box each frame.
        var s = _model.Initiate(BoxAt(0), 0);
        for (int k = 1; k <= 50; k++)
        {
            _model.Predict(ref s, Dt);
            _model.Update(ref s, BoxAt(k * Dt));
        }
        Assert.Equal(60, s.VelocityX, 1.0);
        Assert.Equal(-25, s.VelocityY, 1.0);
        Assert.Equal(5, s.Mean[7], 1.0);
        Box truth = BoxAt(50 * Dt);
        Assert.Equal(truth.CenterX, s.Mean[0], 0.5);
        Assert.Equal(truth.CenterY, s.Mean[1], 0.5);
    }

    [Fact]
    public void NoisyMeasurements_VelocityStillConverges()
    {
        var rng = new Random(7);
        var s = _model.Initiate(BoxAt(0), 0);
        for (int k = 1; k <= 150; k++)
        {
            _model.Predict(ref s, Dt);
            Box b = BoxAt(k * Dt);
            float nx = (float)(rng.NextDouble() - 0.5) * 4, ny = (float)(rng.NextDouble() - 0.5) * 4;
            _model.Update(ref s, new Box(b.X1 + nx, b.Y1 + ny, b.X2 + nx, b.Y2 + ny));
        }
        Assert.Equal(60, s.VelocityX, 8.0);
        Assert.Equal(-25, s.VelocityY, 8.0);
    }

    [Fact]
    public void SkippedFrames_PredictWithTheRealTimeStep()
    {
        var s = _model.Initiate(BoxAt(0), 0);
        for (int k = 1; k <= 50; k++)
        {
            _model.Predict(ref s, Dt);
            _model.Update(ref s, BoxAt(k * Dt));
        }

        // Ten frames are skipped: one prediction over 0.44 s lands where the object is.
        _model.Predict(ref s, 11 * Dt);
        Box truth = BoxAt(61 * Dt);
        Assert.Equal(truth.CenterX, s.Mean[0], 1.0);
        Assert.Equal(truth.CenterY, s.Mean[1], 1.0);
        Assert.Equal(61 * Dt, s.Time, 9);
        Assert.True(s.Box.IoU(truth) > 0.9f);
    }

    [Fact]
    public void VariableFrameRate_FollowsTimestamps()
    {
        double[] steps = [0.04, 0.1, 0.02, 0.25, 0.033, 0.066, 0.5, 0.04];
        var s = _model.Initiate(BoxAt(0), 0);
        double t = 0;
        for (int round = 0; round < 6; round++)
            foreach (double dt in steps)
            {
                t += dt;
                _model.Predict(ref s, dt);
                Assert.True(s.Box.IoU(BoxAt(t)) > 0.5f || round == 0, $"prediction at t={t} is off");
                _model.Update(ref s, BoxAt(t));
            }
        Assert.Equal(60, s.VelocityX, 1.0);
    }

    [Fact]
    public void Predict_LongerStepsGrowUncertaintyMore()
    {
        var a = _model.Initiate(BoxAt(0), 0);
        var b = a;
        _model.Predict(ref a, 0.04);
        _model.Predict(ref b, 0.4);
        Assert.True(b.Covariance[0] > a.Covariance[0]);
        Assert.True(b.Covariance[4 * 8 + 4] > a.Covariance[4 * 8 + 4]);
    }

    [Fact]
    public void Predict_ZeroStepChangesNothing_NegativeStepThrows()
    {
        var s = _model.Initiate(BoxAt(0), 1);
        var before = s;
        _model.Predict(ref s, 0);
        Assert.Equal(before.Time, s.Time);
        Assert.Equal(before.Mean[0], s.Mean[0]);
        Assert.Equal(before.Covariance[0], s.Covariance[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.Predict(ref s, -0.1));
        Assert.Throws<ArgumentOutOfRangeException>(() => _model.Predict(ref s, double.NaN));
    }

    [Fact]
    public void Covariance_StaysSymmetricWithPositiveDiagonal()
    {
        var rng = new Random(3);
        var s = _model.Initiate(BoxAt(0), 0);
        double t = 0;
        for (int k = 0; k < 200; k++)
        {
            double dt = 0.01 + rng.NextDouble() * 0.3;
            t += dt;
            _model.Predict(ref s, dt);
            if (rng.NextDouble() < 0.7) _model.Update(ref s, BoxAt(t));
        }
        for (int i = 0; i < 8; i++)
        {
            Assert.True(s.Covariance[i * 8 + i] > 0);
            for (int j = 0; j < 8; j++) Assert.Equal(s.Covariance[i * 8 + j], s.Covariance[j * 8 + i], 9);
        }
    }

    [Fact]
    public void Update_RecordsABoundedHistory()
    {
        var s = _model.Initiate(BoxAt(0), 0);
        for (int k = 1; k <= 40; k++)
        {
            _model.Predict(ref s, Dt);
            _model.Update(ref s, BoxAt(k * Dt));
        }
        Assert.Equal(ObservationHistory.Capacity, s.History.Count);
        Assert.Equal(BoxAt(40 * Dt), s.History.Latest.Box);
        Assert.Equal(40 * Dt, s.History.Latest.Time, 9);
        Assert.Equal((40 - ObservationHistory.Capacity + 1) * Dt, s.History[0].Time, 9);
    }

    [Fact]
    public void PredictMany_MatchesPredictOneByOne()
    {
        var states = new MotionState[3];
        for (int i = 0; i < 3; i++)
        {
            states[i] = _model.Initiate(BoxAt(i), 0);
            _model.Predict(ref states[i], Dt);
            _model.Update(ref states[i], BoxAt(i + 0.1));
        }
        var copy = (MotionState[])states.Clone();
        double[] dts = [0.04, 0.2, 0];
        ((IMotionModel)_model).PredictMany(states, dts);
        for (int i = 0; i < 3; i++)
        {
            _model.Predict(ref copy[i], dts[i]);
            Assert.Equal(copy[i].Mean[0], states[i].Mean[0]);
            Assert.Equal(copy[i].Covariance[9], states[i].Covariance[9]);
        }
        Assert.Throws<ArgumentException>(() => ((IMotionModel)_model).PredictMany(states, [0.1]));
    }

    [Fact]
    public void Options_AreValidated()
    {
        var e = Assert.Throws<OptionsException>(() => new KalmanMotionModel(new KalmanMotionOptions { PositionNoise = 0 }));
        Assert.Equal("kalman.positionNoise", e.Path);
        Assert.Throws<OptionsException>(() => new KalmanMotionModel(new KalmanMotionOptions { VelocityNoise = double.NaN }));
        Assert.Throws<OptionsException>(() => new KalmanMotionModel(new KalmanMotionOptions { ReferenceFps = -1 }));
    }

    /// <summary>The true box at time t: centre (100 + 60 t, 200 - 25 t), 40 x (100 + 5 t).</summary>
    private static Box BoxAt(double t) => Box.FromCenter((float)(100 + 60 * t), (float)(200 - 25 * t), 40, (float)(100 + 5 * t));
}
