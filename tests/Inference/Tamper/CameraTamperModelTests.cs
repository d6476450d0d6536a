using StreamVision.Core;
using StreamVision.Inference.Tamper;

namespace StreamVision.Inference.Tests.Tamper;

public class CameraTamperModelTests
{
    private static string Shipped => Path.Combine(TestEnvironment.RepoRoot, "models", "tamper-cnn-gru.onnx");

    [Fact]
    public void TheShippedModelStatesItsContract()
    {
        using var model = CameraTamperModel.Load(Shipped);
        Assert.Equal(["normal", "covered", "defocused", "moved", "frozen"], model.Classes);
        Assert.Equal(64, model.Size);
        Assert.Equal(15, model.HistoryLength);
        Assert.Equal(0.2, model.SampleSeconds, 6);
        Assert.Equal(0, model.NormalIndex);
    }

    [Fact]
    public void AMissingFileOrAnotherKindOfModelIsRefusedByName()
    {
        var missing = Assert.Throws<ModelException>(() => CameraTamperModel.Load("no-such-tamper.onnx"));
        Assert.Contains("no-such-tamper.onnx", missing.Message);
        Assert.Contains("file not found", missing.Message);
        // The learned motion model is a valid ONNX file, but not a tamper model.
        var wrong = Assert.Throws<ModelException>(() => CameraTamperModel.Load(Path.Combine(TestEnvironment.RepoRoot, "models", "motion-gru.onnx")));
        Assert.Contains("not a camera-tamper model", wrong.Message);
    }

    [Fact]
    public void BadOptionsNameTheirKey()
    {
        Assert.Equal("tamper.states", Assert.Throws<OptionsException>(() => new CameraTamperOptions { States = ["smudged"] }.Validate()).Path);
        Assert.Equal("tamper.threshold", Assert.Throws<OptionsException>(() => new CameraTamperOptions { Threshold = 0.1 }.Validate()).Path);
        Assert.Equal("tamper.confirm_samples", Assert.Throws<OptionsException>(() => new CameraTamperOptions { ConfirmSamples = 0 }.Validate()).Path);
    }

    [Fact]
    public void TheMonitorSamplesByStreamTimeAndStartsOverWhenTimeJumpsBack()
    {
        using var model = CameraTamperModel.Load(Shipped);
        var monitor = new CameraTamperMonitor(model);
        using var frame = Frame.CreateUnpooled(160, 120);
        // 25 fps for 2 s: a sample every 0.2 s (10), the first only remembered (it has no previous picture).
        int sampled = 0;
        for (int i = 0; i < 50; i++)
        {
            frame.Pts = TimeSpan.FromSeconds(i / 25.0);
            frame.Data.Fill((byte)(i * 5));
            if (monitor.Process(frame, out _)) sampled++;
        }
        Assert.Equal(9, sampled);
        Assert.Equal(9, monitor.Samples);
        Assert.Equal(1f, monitor.LatestProbabilities.Sum(), 3);
        // A looped file: back to 0 s. The history is dropped; the next sample is only remembered again.
        frame.Pts = TimeSpan.Zero;
        Assert.False(monitor.Process(frame, out _));
        frame.Pts = TimeSpan.FromSeconds(0.2);
        Assert.True(monitor.Process(frame, out _));
    }
}
