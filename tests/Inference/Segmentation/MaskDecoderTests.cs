using StreamVision.Core;
using StreamVision.Inference.Segmentation;

namespace StreamVision.Inference.Tests.Segmentation;

public class MaskDecoderTests
{
    // The seg model's input is 64x64; a 320x180 frame is letterboxed at scale 0.2 with 14 rows of padding on top:
    // frame x = 5 x, frame y = 5 (y - 14).
    [Fact]
    public void AYoloSegExportIsRecognisedAndItsMasksAreTheKnownShapes()
    {
        using var detector = OnnxDetector.Load(TaskModels.Seg);
        Assert.Equal("yolov8-seg", detector.Family);
        Assert.True(detector.Segments);
        Assert.Equal(["person", "car"], detector.ClassNames);
        using var frame = TestModels.Uniform(320, 180, 0, 0, 0);
        var dets = detector.Detect([frame])[0];
        Assert.Equal(2, dets.Count);
        Assert.True(dets.HasMaskCoefficients);
        Assert.Equal(new Box(80, 50, 160, 130), dets.Boxes[0]);
        Assert.Equal(new Box(220, 10, 260, 50), dets.Boxes[1]);
        Assert.Equal(32, dets.Prototypes!.Channels);

        var masked = MaskDecoder.Decode(dets, new MaskOptions { PolygonTolerancePixels = 2 });
        var person = masked.GetMask(0)!;
        // Prototype 0 is positive over input x 16..28 (frame 80..140): the left three quarters of the 80..160 box, its
        // corners rounded by the bilinear upsampling (4648 pixels of the 60 x 80 rectangle, as a numpy reference computes).
        Assert.Equal((80, 50, 80, 80), (person.X, person.Y, person.Width, person.Height));
        Assert.InRange(person.Area, 4640, 4656);
        Assert.True(person.Contains(85, 55) && person.Contains(135, 125) && person.Contains(110, 90));
        Assert.False(person.Contains(145, 90));
        Assert.False(person.Contains(155, 90));
        // Its outline, simplified: the rectangle with its four corners cut (a few points each), not every contour pixel.
        Assert.InRange(person.PolygonPoints, 4, 16);
        var xs = Enumerable.Range(0, person.PolygonPoints).Select(i => person.Polygon[2 * i]).ToArray();
        var ys = Enumerable.Range(0, person.PolygonPoints).Select(i => person.Polygon[2 * i + 1]).ToArray();
        Assert.InRange(xs.Min(), 79, 81);
        Assert.InRange(xs.Max(), 138, 141);
        Assert.InRange(ys.Min(), 49, 51);
        Assert.InRange(ys.Max(), 128, 131);
        // Prototype 1 is positive everywhere: the car's mask is its whole box.
        var car = masked.GetMask(1)!;
        Assert.Equal(40 * 40, car.Area);

        // Rows selected later keep their masks and coefficients.
        var onlyCar = masked.Select([1]);
        Assert.Same(car, onlyCar.GetMask(0));
        Assert.Equal(dets.GetMaskCoefficients(1).ToArray(), onlyCar.GetMaskCoefficients(0).ToArray());
    }

    [Fact]
    public void AHigherThresholdShrinksTheMaskAndBadOptionsAreNamed()
    {
        using var detector = OnnxDetector.Load(TaskModels.Seg, new OnnxDetectorOptions { Family = ModelFamily.YoloV8Seg });
        using var frame = TestModels.Uniform(320, 180, 0, 0, 0);
        var dets = detector.Detect([frame])[0];
        var strict = MaskDecoder.Decode(dets, new MaskOptions { Threshold = 0.9f });
        Assert.InRange(strict.GetMask(0)!.Area, 3500, 4600);
        Assert.Equal("masks.threshold", Assert.Throws<OptionsException>(() => new MaskOptions { Threshold = 1 }.Validate()).Path);
        Assert.Equal("masks.polygon_tolerance", Assert.Throws<OptionsException>(() => new MaskOptions { PolygonTolerancePixels = -1 }.Validate()).Path);
        // A plain detector's family forced onto the seg model is refused with its outputs named.
        var wrong = Assert.Throws<ModelException>(() => OnnxDetector.Load(TaskModels.Seg, new OnnxDetectorOptions { Family = ModelFamily.YoloV8 }));
        Assert.Contains("output1", wrong.Message);
    }
}
