namespace StreamVision.Inference.Tests;

public partial class OnnxDetectorTests
{
    [Fact]
    public void DynamicBatchRunsOneRealBatchWithTheSameResultsAsSingleRuns()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8);
        int[] ks = [0, 2, 4, 5];
        var frames = ks.Select(TestModels.ForS).ToArray();
        try
        {
            var batched = d.Detect(frames);
            Assert.Equal(1, d.SessionRuns);
            Assert.Equal([4], d.RunnerBatchSizes);
            for (int i = 0; i < frames.Length; i++)
            {
                var single = d.Detect([frames[i]])[0];
                Expect.Equal(Expect.Yolo(ks[i]), batched[i]);
                Assert.Equal(single.Boxes.ToArray(), batched[i].Boxes.ToArray());
                Assert.Equal(single.Scores.ToArray(), batched[i].Scores.ToArray());
                Assert.Equal(single.ClassIds.ToArray(), batched[i].ClassIds.ToArray());
            }
            Assert.Equal(5, d.SessionRuns);
            Assert.Equal([1, 4], d.RunnerBatchSizes.Order());
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    [Fact]
    public void MoreFramesThanMaxBatchAreSplitIntoSeveralRuns()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { MaxBatch = 3 });
        int[] ks = [5, 4, 3, 2, 1];
        var frames = ks.Select(TestModels.ForS).ToArray();
        try
        {
            var r = d.Detect(frames);
            Assert.Equal(2, d.SessionRuns); // 3 + 2
            for (int i = 0; i < frames.Length; i++) Expect.Equal(Expect.Yolo(ks[i]), r[i]);
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    [Fact]
    public void FixedBatchOfOneIsRunOncePerFrame()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8Batch1);
        int[] ks = [1, 5, 0, 3];
        var frames = ks.Select(TestModels.ForS).ToArray();
        try
        {
            var r = d.Detect(frames);
            Assert.Equal(4, d.SessionRuns);
            Assert.Equal([1], d.RunnerBatchSizes);
            for (int i = 0; i < frames.Length; i++) Expect.Equal(Expect.Yolo(ks[i]), r[i]);
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    [Fact]
    public void SsdWithoutBatchDimensionIsRunOncePerFrame()
    {
        using var d = OnnxDetector.Load(TestModels.Ssd);
        int[] ks = [0, 5, 1];
        var frames = ks.Select(TestModels.ForS).ToArray();
        try
        {
            var r = d.Detect(frames);
            Assert.Equal(3, d.SessionRuns);
            for (int i = 0; i < frames.Length; i++) Expect.Equal(Expect.Ssd(ks[i]), r[i]);
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    [Fact]
    public void FramesOfDifferentSizesShareABatch()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8);
        using var wide = TestModels.ForS(5);
        using var portrait = TestModels.Uniform(180, 320, 255);
        var r = d.Detect([wide, portrait]);
        Assert.Equal(1, d.SessionRuns);
        Expect.Equal(Expect.Yolo(5), r[0]);
        Expect.Equal([new(90, 145, 130, 175, 0.9f, 0), new(165, 160, 180, 180, 0.85f, 1), new(90, 150, 130, 180, 0.7f, 1)], r[1]);
    }

    [Fact]
    public void EmptyInputGivesNoResultsAndNoRun()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8);
        Assert.Empty(d.Detect([]));
        Assert.Equal(0, d.SessionRuns);
    }
}
