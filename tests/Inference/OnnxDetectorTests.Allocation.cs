using StreamVision.Core;

namespace StreamVision.Inference.Tests;

public partial class OnnxDetectorTests
{
    // The returned Detections of a frame with three detections: the result array, the Detections object and its five
    // columns (boxes, scores, classes, source rows, optional keypoints) take a few hundred bytes. Anything per-frame
    // beyond that (lists, NMS buffers, preprocess or output tensors) would show up as kilobytes: a 320x180 frame is
    // 173 KB, its 64x64 float tensor 49 KB.
    private const long MaxBytesPerFrame = 1024;

    [Theory]
    [InlineData("yolov8_batch1.onnx", 1)]
    [InlineData("yolov8.onnx", 1)]
    [InlineData("yolov8.onnx", 4)]
    [InlineData("yolov5.onnx", 2)]
    public void SteadyStateDetectAllocatesOnlyTheResults(string model, int batch)
    {
        using var d = OnnxDetector.Load(TestModels.Get(model));
        var frames = Enumerable.Range(0, batch).Select(i => TestModels.ForS(5 - i % 2)).ToArray();
        try
        {
            long perFrame = MeasureBytesPerFrame(d, frames, out var last);
            Assert.Equal(3, last[0].Count);
            Assert.True(perFrame <= MaxBytesPerFrame, $"{model}, batch {batch}: {perFrame} bytes allocated per frame in steady state");
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    [Fact]
    public void SteadyStateBlazeFaceAllocatesOnlyTheResults()
    {
        using var d = OnnxDetector.Load(ModelCatalog.Resolve("blazeface"));
        using var reader = Native.MediaReader.Open(Megamind);
        using var frame = Frame.CreateUnpooled(reader.Info.Width, reader.Info.Height);
        for (int i = 0; i < 30; i++) Assert.True(reader.TryReadFrame(frame, out _));
        long perFrame = MeasureBytesPerFrame(d, [frame], out var last);
        Assert.NotEqual(0, last[0].Count);
        // One face with six keypoints adds 48 bytes of keypoints.
        Assert.True(perFrame <= MaxBytesPerFrame, $"blazeface: {perFrame} bytes allocated per frame in steady state");
    }

    private static long MeasureBytesPerFrame(OnnxDetector d, Frame[] frames, out Detections[] last)
    {
        const int Calls = 50;
        IReadOnlyList<Frame> list = frames;
        last = [];
        for (int i = 0; i < 5; i++) last = d.Detect(list); // warm-up: runners, scratch buffers, JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < Calls; i++) last = d.Detect(list);
        long after = GC.GetAllocatedBytesForCurrentThread();
        return (after - before) / (Calls * frames.Length);
    }
}
