using Microsoft.ML.OnnxRuntime;
using StreamVision.Tracking.Motion;
using StreamVision.Tracking.Onnx;
using StreamVision.Tracking.Tests.Motion;

namespace StreamVision.Tracking.Tests.Onnx;

/// <summary>The one loader of small stage models (motion here; enhancement and camera tamper in Inference use it too).</summary>
public class SmallModelLoaderTests
{
    private sealed class StageException(string path, string message, Exception? inner) : Exception($"stage model {path}: {message}", inner)
    {
        public string Path { get; } = path;
    }

    private static Exception Stage(string path, string message, Exception? inner) => new StageException(path, message, inner);

    [Fact]
    public void AFileOnnxRuntimeCannotReadComesBackAsTheCallersOwnException()
    {
        string junk = Path.Combine(TestEnvironment.NewTempDir("svloader"), "junk.onnx");
        File.WriteAllText(junk, "not a model");
        var ex = Assert.Throws<StageException>(() => SmallModelLoader.Open<object>(junk, 1, _ => throw new InvalidOperationException("never reached"), Stage));
        Assert.Equal(junk, ex.Path);
        Assert.Contains("ONNX Runtime cannot load it", ex.Message);
        Assert.IsType<OnnxRuntimeException>(ex.InnerException);
    }

    [Fact]
    public void TheCheckReadsTheLoadedSession_AndItsErrorPassesThrough()
    {
        var (k, inputs) = SmallModelLoader.Open(MotionModelFiles.LearnedPath, 1, s => (s.InputMetadata["history"].Dimensions[1], SmallModelLoader.DescribeNodes(s.InputMetadata)), Stage);
        Assert.InRange(k, 2, ObservationHistory.Capacity);
        Assert.Equal($"history Float [?,{k},8], horizon Float [?,1]", inputs);

        InferenceSession? seen = null;
        var refused = Assert.Throws<StageException>(() => SmallModelLoader.Open<object>(MotionModelFiles.LearnedPath, 1, s =>
        {
            seen = s;
            throw new StageException(MotionModelFiles.LearnedPath, "not the model this stage wants", null);
        }, Stage));
        Assert.Contains("not the model this stage wants", refused.Message);
        Assert.NotNull(seen);
    }

    [Fact]
    public void TheMotionModelLoadsThroughIt_AndAForeignModelIsRefusedWithTheMotionModelsMessage()
    {
        string tamper = Path.Combine(TestEnvironment.RepoRoot, "models", "tamper-cnn-gru.onnx");
        var ex = Assert.Throws<MotionModelException>(() => OnnxMotionModel.Load(tamper));
        Assert.Equal(tamper, ex.Path);
        Assert.Contains("expected inputs history float", ex.Message);
        Assert.Contains("the model has inputs frames Float [?,2,64,64]", ex.Message);
    }
}
