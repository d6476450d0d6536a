using StreamVision.Core;
using StreamVision.Inference.Classification;

namespace StreamVision.Inference.Tests.Classification;

public class OnnxClassifierTests
{
    private static float[] Softmax(params float[] x)
    {
        var p = new float[x.Length];
        OnnxClassifier.Softmax(x, p);
        return p;
    }

    /// <summary>A 200x100 frame: left half red, right half blue (BGR in memory).</summary>
    private static Frame Halves()
    {
        var f = Frame.CreateUnpooled(200, 100);
        for (int y = 0; y < 100; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < 200; x++)
            {
                row[3 * x] = (byte)(x < 100 ? 0 : 255);
                row[3 * x + 1] = 0;
                row[3 * x + 2] = (byte)(x < 100 ? 255 : 0);
            }
        }
        return f;
    }

    [Fact]
    public void TheCropsMeanColourDecidesTheLabelWithSoftmaxOfTheLogits()
    {
        using var c = OnnxClassifier.Load(new ClassifierOptions { Model = TaskModels.Classifier, TopK = 3 });
        Assert.Equal((32, 32, false), (c.Width, c.Height, c.Nhwc));
        Assert.Equal(["red", "green", "blue"], c.Labels);
        Assert.Equal(ClassifierOutput.Logits, c.Output); // from the metadata
        using var frame = Halves();
        var answers = c.Classify([new CropRequest(frame, new Box(10, 10, 90, 90)), new CropRequest(frame, new Box(110, 10, 190, 90))]);
        var red = Softmax(10, 0, 0);
        Assert.Equal("red", answers[0].Label);
        Assert.Equal(red[0], answers[0].Score, 4);
        Assert.Equal(["red", "green", "blue"], answers[0].TopK.Select(t => t.Label).Take(1).Concat(answers[0].TopK.Skip(1).Select(t => t.Label).Order().Reverse()));
        Assert.Equal("blue", answers[1].Label);
        Assert.Equal(red[0], answers[1].Score, 4);
        Assert.Equal(3, answers[1].TopK.Count);
        Assert.Equal("classifier.onnx", answers[0].Model);
        // A crop across the border: half red, half blue -> logits (5, 0, 5): red and blue tie at 0.4966.
        var mixed = c.Classify([new CropRequest(frame, new Box(50, 0, 150, 100))])[0];
        var tie = Softmax(5, 0, 5);
        Assert.Equal(tie[0], mixed.TopK[0].Score, 2);
        Assert.Equal(tie[2], mixed.TopK[1].Score, 2);
        Assert.Equal("green", mixed.TopK[2].Label);
    }

    [Fact]
    public void NhwcLayoutMeanAndStdComeFromTheMetadataAndProbabilitiesAreTakenAsTheyAre()
    {
        using var c = OnnxClassifier.Load(new ClassifierOptions { Model = TaskModels.ClassifierNhwc, TopK = 2 });
        Assert.Equal((16, 16, true), (c.Width, c.Height, c.Nhwc));
        Assert.Equal(ClassifierOutput.Probabilities, c.Output);
        using var frame = Halves();
        // Red (255, 0, 0) -> (1, -1, -1) after mean/std 0.5 -> softmax(4, -4, -4) inside the model.
        var a = c.Classify([new CropRequest(frame, new Box(0, 0, 100, 100))])[0];
        var p = Softmax(4, -4, -4);
        Assert.Equal("red", a.Label);
        Assert.Equal(p[0], a.Score, 4);
        Assert.Equal(2, a.TopK.Count);
        // Told the model wants BGR, the same crop reads as blue.
        using var bgr = OnnxClassifier.Load(new ClassifierOptions { Model = TaskModels.ClassifierNhwc, ColorOrder = "bgr" });
        Assert.Equal("blue", bgr.Classify([new CropRequest(frame, new Box(0, 0, 100, 100))])[0].Label);
    }

    [Fact]
    public void TinyCropsAreRefusedAndPaddingWidensTheCrop()
    {
        using var c = OnnxClassifier.Load(new ClassifierOptions { Model = TaskModels.Classifier, MinSize = 20, Padding = 0.5 });
        Assert.Null(c.CropRegion(new Box(10, 10, 15, 50), 200, 100));
        Assert.Equal((90, 0, 20, 100), c.CropRegion(new Box(95, 10, 105, 90), 200, 100)!.Value);
        using var frame = Halves();
        Assert.Throws<ArgumentException>(() => c.Classify([new CropRequest(frame, new Box(10, 10, 15, 50))]));
    }

    [Fact]
    public void BadModelsAndOptionsAreNamed()
    {
        var missing = Assert.Throws<OptionsException>(() => OnnxClassifier.Load(new ClassifierOptions { Model = "no/such/model.onnx" }));
        Assert.Equal("classifier.model", missing.Path);
        // A detector is not a classifier: its output [batch, 6, 8] is named.
        var detector = Assert.Throws<ModelException>(() => OnnxClassifier.Load(new ClassifierOptions { Model = TestModels.YoloV8 }));
        Assert.Contains("[batch, classes]", detector.Message);
        var labels = Assert.Throws<ModelException>(() => OnnxClassifier.Load(new ClassifierOptions { Model = TaskModels.Classifier, Labels = ["a", "b"] }));
        Assert.Contains("3 classes", labels.Message);
        Assert.Equal("classifier.growth", Assert.Throws<OptionsException>(() => new ClassifierOptions { Growth = 0.5 }.Validate()).Path);
        Assert.Equal("classifier.std", Assert.Throws<OptionsException>(() => new ClassifierOptions { Std = [0.5f, 0, 1] }.Validate()).Path);
        Assert.Equal("classifier.color_order", Assert.Throws<OptionsException>(() => new ClassifierOptions { ColorOrder = "rbg" }.Validate()).Path);
    }

    [Fact]
    public async Task TheBatcherMergesRequestsOfSeveralStreamsAndKeepsTheBudget()
    {
        var metrics = new PipelineMetrics();
        var options = new ClassifierOptions { Model = TaskModels.Classifier, MaxWait = TimeSpan.FromSeconds(1), MaxPerSecond = 2 };
        using var c = OnnxClassifier.Load(options);
        await using var batcher = new ClassifierBatcher(c, options, null, metrics);
        batcher.Register();
        batcher.Register();
        using var frame = Halves();
        // Two registered streams: the batch closes as soon as both have asked (well before the 1 s wait).
        var a = batcher.ClassifyAsync([new CropRequest(frame, new Box(0, 0, 100, 100))]);
        var b = batcher.ClassifyAsync([new CropRequest(frame, new Box(100, 0, 200, 100)), new CropRequest(frame, new Box(0, 0, 100, 100))]);
        var ra = await a.WaitAsync(TimeSpan.FromSeconds(30));
        var rb = await b.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("red", ra[0].Label);
        Assert.Equal(["blue", "red"], rb.Select(r => r.Label));
        Assert.Equal(1, batcher.Runs);
        Assert.Equal(3, batcher.Crops);
        Assert.Equal(3, metrics.ClassifierBatchSize.Histogram.WithLabels().Sum);
        // Budget 2 per second (burst 2): of 5 wanted, 2 now.
        Assert.Equal(2, batcher.TryTake(5));
        Assert.Equal(0, batcher.TryTake(5));
        batcher.Unregister();
        batcher.Unregister();
    }
}
