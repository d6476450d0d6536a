using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Inference.Tests;

public partial class OnnxDetectorTests
{
    internal const string Megamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

    [Fact]
    public void BlazeFaceFindsOneFaceInNearlyEveryMegamindFrame()
    {
        // At 0.75 only the heroine's face passes; at 0.5 a blurred face in the background is found as well.
        using var detector = OnnxDetector.Load(ModelCatalog.Resolve("blazeface"),
            new OnnxDetectorOptions { Detection = new DetectorOptions { ConfidenceThreshold = 0.75f } });
        Assert.Equal("blazeface", detector.Family);
        Assert.Equal(1, detector.MaxBatch);
        Assert.Equal(["face"], detector.ClassNames);
        using var reader = MediaReader.Open(Megamind);
        using var frame = Frame.CreateUnpooled(reader.Info.Width, reader.Info.Height);
        int frames = 0, withOneFace = 0;
        while (reader.TryReadFrame(frame, out _))
        {
            var d = detector.Detect([frame])[0];
            frames++;
            if (d.Count == 1)
            {
                withOneFace++;
                var b = d.Boxes[0];
                Assert.InRange(b.Width, 40, 400);
                Assert.InRange(d.Scores[0], 0.75f, 1f);
                Assert.InRange(b.Width / b.Height, 0.9f, 1.1f); // letterboxing keeps faces square
                Assert.Equal(6, d.KeypointsPerBox);
                // Keypoints (eyes, nose, mouth, ears) lie around the box.
                var kp = d.GetKeypoints(0);
                Assert.InRange(kp[0], b.X1 - b.Width * 0.5f, b.X2 + b.Width * 0.5f);
            }
        }
        Assert.Equal(270, frames);
        Assert.True(withOneFace >= 265, $"one face in {withOneFace} of 270 frames");
    }

    [Fact]
    public void BlazeFaceBackModelLoadsAndDetects()
    {
        using var detector = OnnxDetector.Load(ModelCatalog.Resolve("blazeface-back"));
        Assert.Equal(256, detector.Spec.Width);
        using var reader = MediaReader.Open(Megamind);
        using var frame = Frame.CreateUnpooled(reader.Info.Width, reader.Info.Height);
        for (int i = 0; i < 30; i++) Assert.True(reader.TryReadFrame(frame, out _));
        Assert.NotEmpty(detector.Detect([frame])[0].Boxes.ToArray());
    }

    [Fact]
    public void MissingAndInvalidModelsAreNamed()
    {
        var ex = Assert.Throws<ModelException>(() => OnnxDetector.Load("/nonexistent/model.onnx"));
        Assert.Contains("/nonexistent/model.onnx", ex.Message);
        string bogus = Path.Combine(TestEnvironment.NewTempDir(), "bogus.onnx");
        File.WriteAllText(bogus, "not a model");
        var ex2 = Assert.Throws<ModelException>(() => OnnxDetector.Load(bogus));
        Assert.Contains("bogus.onnx", ex2.Message);
    }
}
