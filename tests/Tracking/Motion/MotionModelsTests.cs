using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking.Tests.Motion;

public class MotionModelsTests
{
    [Theory]
    [InlineData("kalman")]
    [InlineData("Kalman")]
    [InlineData(" KALMAN ")]
    [InlineData("")]
    [InlineData(null)]
    public void Kalman_IsTheDefault(string? spec)
    {
        var options = new KalmanMotionOptions { PositionNoise = 0.1 };
        var model = Assert.IsType<KalmanMotionModel>(MotionModels.Create(spec, options));
        Assert.Equal(0.1, model.Options.PositionNoise);
    }

    [Fact]
    public void Path_LoadsTheOnnxModel_WithTheSameKalmanFallback()
    {
        var options = new KalmanMotionOptions { VelocityNoise = 0.01 };
        var model = MotionModels.Create(MotionModelFiles.LearnedPath, options);
        try
        {
            var onnx = Assert.IsType<OnnxMotionModel>(model);
            Assert.Equal(0.01, onnx.Fallback.Options.VelocityNoise);
        }
        finally
        {
            MotionModels.DisposeIfNeeded(model);
        }
        MotionModels.DisposeIfNeeded(KalmanMotionModel.Default); // no-op
    }

    [Fact]
    public void UnknownSpec_SaysWhatIsExpected()
    {
        var ex = Assert.Throws<MotionModelException>(() => MotionModels.Create("models/nope.onnx"));
        Assert.Contains("kalman", ex.Message);
        Assert.Equal("models/nope.onnx", ex.Path);
    }
}
