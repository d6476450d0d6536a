using StreamVision.Core;
using StreamVision.Inference.Enhance;

namespace StreamVision.Inference.Tests.Enhance;

/// <summary>The enhancement stage's model contract and pixel path, with tiny models whose output is known per pixel.</summary>
public class ImageEnhancerTests
{
    private static (byte B, byte G, byte R) Pixel(Frame f, int x, int y)
    {
        var row = f.GetRowSpan(y);
        return (row[3 * x], row[3 * x + 1], row[3 * x + 2]);
    }

    [Fact]
    public void AnAnySizeModelRunsAtTheFramesSizeAndItsResultReplacesThePicture()
    {
        using var model = ImageEnhancerModel.Load(TestModels.Enhance("enhance_gain2.onnx"));
        Assert.Equal(0, model.InputWidth);
        Assert.False(model.Bgr);
        Assert.Equal(1f, model.Range);
        var enhancer = new FrameEnhancer(model);
        // Odd size, a gradient in x so that every column differs: 2x brighter, saturating at 255.
        using var frame = Frame.CreateUnpooled(37, 21);
        for (int y = 0; y < frame.Height; y++)
        {
            var row = frame.GetRowSpan(y);
            for (int x = 0; x < frame.Width; x++) (row[3 * x], row[3 * x + 1], row[3 * x + 2]) = ((byte)(x * 7), (byte)(y * 3), 100);
        }
        enhancer.Enhance(frame, frame);
        for (int y = 0; y < frame.Height; y++)
            for (int x = 0; x < frame.Width; x++)
                Assert.Equal(((byte)Math.Min(255, x * 14), (byte)(y * 6), (byte)200), Pixel(frame, x, y));
        Assert.Equal(1, enhancer.Frames);
    }

    [Fact]
    public void IntoAnotherFrameTheSourceStaysUntouched()
    {
        using var model = ImageEnhancerModel.Load(TestModels.Enhance("enhance_gain2.onnx"));
        using var source = TestModels.Uniform(40, 30, red: 30, green: 40, blue: 50);
        using var copy = Frame.CreateUnpooled(40, 30);
        new FrameEnhancer(model).Enhance(source, copy);
        Assert.Equal(((byte)50, (byte)40, (byte)30), Pixel(source, 5, 5));
        Assert.Equal(((byte)100, (byte)80, (byte)60), Pixel(copy, 5, 5));
        using var other = Frame.CreateUnpooled(41, 30);
        Assert.Throws<ArgumentException>(() => new FrameEnhancer(model).Enhance(source, other));
    }

    [Fact]
    public void MetadataSetsTheChannelOrderAndRange()
    {
        using var model = ImageEnhancerModel.Load(TestModels.Enhance("enhance_first255.onnx"));
        Assert.True(model.Bgr);
        Assert.Equal(255f, model.Range);
        // The model copies its first plane (blue, for a BGR model) into all three.
        using var frame = TestModels.Uniform(16, 16, red: 200, green: 120, blue: 33);
        new FrameEnhancer(model).Enhance(frame, frame);
        Assert.Equal(((byte)33, (byte)33, (byte)33), Pixel(frame, 7, 9));
    }

    [Fact]
    public void FixedSizeAndUpscalingModelsAreResizedToAndFromTheFrame()
    {
        using var fixedModel = ImageEnhancerModel.Load(TestModels.Enhance("enhance_fixed64.onnx"));
        Assert.Equal((64, 64), (fixedModel.InputWidth, fixedModel.InputHeight));
        using var frame = TestModels.Uniform(160, 90, red: 60, green: 20, blue: 10);
        new FrameEnhancer(fixedModel).Enhance(frame, frame);
        Assert.Equal(((byte)20, (byte)40, (byte)120), Pixel(frame, 0, 0));
        Assert.Equal(((byte)20, (byte)40, (byte)120), Pixel(frame, 159, 89));

        // A x2 model's result (2w x 2h) is scaled back to the frame; a uniform picture stays what it was.
        using var x2 = ImageEnhancerModel.Load(TestModels.Enhance("enhance_x2.onnx"));
        using var f2 = TestModels.Uniform(50, 30, red: 90, green: 91, blue: 92);
        new FrameEnhancer(x2).Enhance(f2, f2);
        Assert.Equal(((byte)92, (byte)91, (byte)90), Pixel(f2, 25, 15));
    }

    [Fact]
    public void MaxSideShrinksWhatTheModelSeesAndTheResultFillsTheFrame()
    {
        using var model = ImageEnhancerModel.Load(TestModels.Enhance("enhance_gain2.onnx"));
        var enhancer = new FrameEnhancer(model, new EnhanceOptions { MaxSide = 64 });
        using var frame = TestModels.Uniform(320, 180, red: 70, green: 10, blue: 0);
        enhancer.Enhance(frame, frame);
        Assert.Equal(((byte)0, (byte)20, (byte)140), Pixel(frame, 0, 0));
        Assert.Equal(((byte)0, (byte)20, (byte)140), Pixel(frame, 319, 179));
    }

    [Fact]
    public void AMissingFileOrAnotherKindOfModelIsRefusedByName()
    {
        var missing = Assert.Throws<ModelException>(() => ImageEnhancerModel.Load("no-such-enhancer.onnx"));
        Assert.Contains("no-such-enhancer.onnx", missing.Message);
        Assert.Contains("file not found", missing.Message);
        var detector = Assert.Throws<ModelException>(() => ImageEnhancerModel.Load(TestModels.YoloV8));
        Assert.Contains("not an image-to-image model", detector.Message);
    }

    [Fact]
    public void BadOptionsNameTheirKey()
    {
        Assert.Equal("enhance.max_side", Assert.Throws<OptionsException>(() => new EnhanceOptions { MaxSide = 8 }.Validate()).Path);
        Assert.Equal("enhance.apply", Assert.Throws<OptionsException>(() => new EnhanceOptions { Apply = (EnhanceTarget)7 }.Validate()).Path);
        Assert.Equal("enhance.model", Assert.Throws<OptionsException>(() => new EnhanceOptions { Model = " " }.Validate()).Path);
    }
}
