using StreamVision.Inference;

namespace StreamVision.Pipeline.Tests;

public class AnnotateJobTests
{
    [Fact]
    public void IntraOpThreads_AutoGivesASmallModelOneThread_AHeavyOneEveryCore_AndAGivenCountWins()
    {
        // BlazeFace (442 KB) is below the small-model size: one intra-op thread, leaving the cores to decoding and encoding.
        Assert.True(new FileInfo(ModelCatalog.Resolve(ModelCatalog.DefaultModel)).Length < AnnotateJob.SmallModelBytes);
        Assert.Equal(1, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4" }));
        string heavy = Path.Combine(TestEnvironment.NewTempDir(), "heavy.onnx");
        using (var f = File.Create(heavy)) f.SetLength(AnnotateJob.SmallModelBytes + 1);
        Assert.Equal(0, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4", Model = heavy }));
        Assert.Equal(2, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4", Threads = 2 }));
        // Not a model file: left to the detector factory, which names the problem.
        Assert.Equal(0, AnnotateJob.IntraOpThreads(new AnnotateOptions { Input = "in.mp4", Output = "out.mp4", Model = "none" }));
    }
}
