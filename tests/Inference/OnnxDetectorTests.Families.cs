using StreamVision.Inference.Preprocessing;

namespace StreamVision.Inference.Tests;

public partial class OnnxDetectorTests
{
    [Fact]
    public void YoloV8IsRecognisedWithClassNamesFromMetadata()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8);
        Assert.Equal("yolov8", d.Family);
        Assert.Equal(["person", "car"], d.ClassNames);
        Assert.Equal(new InputSpec { Name = "images", Width = 64, Height = 64, Layout = TensorLayout.Nchw, FixedBatch = 0, Resize = ResizeMode.Letterbox }, d.Spec);
        Assert.Equal(8, d.MaxBatch);
        Assert.Equal(["cpu"], d.ActiveProviders);
    }

    [Fact]
    public void YoloV5IsRecognisedWithClassNamesFromMetadata()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV5);
        Assert.Equal("yolov5", d.Family);
        Assert.Equal(["person", "car"], d.ClassNames);
        Assert.Equal(0, d.Spec.FixedBatch);
    }

    [Fact]
    public void SsdIsRecognisedByItsOutputNames()
    {
        using var d = OnnxDetector.Load(TestModels.Ssd);
        Assert.Equal("ssd", d.Family);
        Assert.Empty(d.ClassNames);
        Assert.Equal(ResizeMode.Stretch, d.Spec.Resize);
        Assert.Equal(1, d.MaxBatch); // outputs without a batch dimension: one image per run
    }

    [Fact]
    public void FixedBatchModelWithoutMetadataIsRecognisedByShape()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8Batch1, new OnnxDetectorOptions { MaxBatch = 8 });
        Assert.Equal("yolov8", d.Family);
        Assert.Equal(1, d.Spec.FixedBatch);
        Assert.Equal(1, d.MaxBatch);
        Assert.Empty(d.ClassNames); // two classes: not COCO, and no names in the model
    }

    [Fact]
    public void ConfiguredClassNamesWinOverMetadata()
    {
        using var d = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { ClassNames = ["pedestrian", "vehicle"] });
        Assert.Equal(["pedestrian", "vehicle"], d.ClassNames);
    }

    [Fact]
    public void ExplicitFamilyThatMatchesIsUsed()
    {
        using var v8 = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Family = ModelFamily.YoloV8 });
        Assert.Equal("yolov8", v8.Family);
        using var ssd = OnnxDetector.Load(TestModels.Ssd, new OnnxDetectorOptions { Family = ModelFamily.Ssd });
        Assert.Equal("ssd", ssd.Family);
    }

    [Theory]
    [InlineData("yolov8.onnx", ModelFamily.YoloV5, "family yolov5 expects one output [batch, anchors, 5 + classes] with the 2 classes its metadata names; the model has output0 [?,6,8]")]
    [InlineData("yolov5.onnx", ModelFamily.YoloV8, "family yolov8 expects one output [batch, 4 + classes, anchors] with the 2 classes its metadata names; the model has output0 [?,8,7]")]
    [InlineData("yolov8.onnx", ModelFamily.Ssd, "family ssd expects three outputs boxes [N, 4], scores [N] and labels [N]")]
    [InlineData("yolov8.onnx", ModelFamily.BlazeFace, "family blazeface expects two score [1, N, 1] and two regressor [1, N, 16] outputs")]
    [InlineData("ssd.onnx", ModelFamily.YoloV8, "family yolov8 expects one output [batch, 4 + classes, anchors]; the model has boxes [?,4], scores [?], labels [?]")]
    public void ExplicitFamilyThatDoesNotMatchIsAClearError(string model, ModelFamily family, string message)
    {
        var path = TestModels.Get(model);
        var ex = Assert.Throws<ModelException>(() => OnnxDetector.Load(path, new OnnxDetectorOptions { Family = family }));
        Assert.Equal(path, ex.Model);
        Assert.Contains(model, ex.Message);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void ModelWithTwoInputsIsRejected()
    {
        var ex = Assert.Throws<ModelException>(() => OnnxDetector.Load(TestModels.TwoInputs));
        Assert.Contains("two_inputs.onnx", ex.Message);
        Assert.Contains("expected one image input, found 2 (images, gain)", ex.Message);
    }

    [Fact]
    public void ModelWithANonFloatInputIsRejected()
    {
        var ex = Assert.Throws<ModelException>(() => OnnxDetector.Load(TestModels.Uint8Input));
        Assert.Contains("uint8_input.onnx", ex.Message);
        Assert.Contains("input 'images' is UInt8; only float32 image inputs are supported", ex.Message);
    }

    [Fact]
    public void ModelWhoseOutputsMatchNoDecoderIsRejected()
    {
        var ex = Assert.Throws<ModelException>(() => OnnxDetector.Load(TestModels.UnknownOutputs));
        Assert.Contains("unknown_outputs.onnx", ex.Message);
        Assert.Contains("cannot tell the model family from its outputs (logits [?,10])", ex.Message);
        Assert.Contains("set detector.family", ex.Message);
    }

    [Fact]
    public void InvalidOptionsAreRejectedBeforeLoading()
    {
        Assert.Throws<Core.OptionsException>(() => OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { MaxBatch = 0 }));
        Assert.Throws<Core.OptionsException>(() => OnnxDetector.Load(TestModels.YoloV8,
            new OnnxDetectorOptions { Detection = new DetectorOptions { ConfidenceThreshold = 1.5f } }));
    }
}
