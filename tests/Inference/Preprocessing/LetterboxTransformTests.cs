using StreamVision.Core;
using StreamVision.Inference.Preprocessing;

namespace StreamVision.Inference.Tests.Preprocessing;

public class LetterboxTransformTests
{
    [Fact]
    public void WideFrameIsScaledAndPaddedTopAndBottom()
    {
        var t = LetterboxTransform.Compute(1280, 720, 640, 640, ResizeMode.Letterbox);
        Assert.Equal(new LetterboxTransform(0.5f, 0.5f, 0, 140, 1280, 720), t);
        Assert.Equal((640, 360), (t.ResizedWidth, t.ResizedHeight));
        // The image area of the input is exactly the frame; a box inside maps back exactly.
        Assert.Equal(new Box(0, 0, 1280, 720), t.ToFrame(new Box(0, 140, 640, 500)));
        Assert.Equal(new Box(200, 200, 600, 400), t.ToFrame(new Box(100, 240, 300, 340)));
    }

    [Fact]
    public void SmallModelInputOnA320x180Frame()
    {
        var t = LetterboxTransform.Compute(320, 180, 64, 64, ResizeMode.Letterbox);
        Assert.Equal((64, 36, 0f, 14f), (t.ResizedWidth, t.ResizedHeight, t.PadX, t.PadY));
        Assert.Equal(new Box(0, 0, 320, 180), t.ToFrame(new Box(0, 14, 64, 50)));
        Assert.Equal(new Box(60, 75, 100, 105), t.ToFrame(new Box(12, 29, 20, 35)));
    }

    [Fact]
    public void PortraitFrameIsPaddedLeftAndRight()
    {
        var t = LetterboxTransform.Compute(720, 1280, 640, 640, ResizeMode.Letterbox);
        Assert.Equal(new LetterboxTransform(0.5f, 0.5f, 140, 0, 720, 1280), t);
        Assert.Equal(new Box(0, 0, 720, 1280), t.ToFrame(new Box(140, 0, 500, 640)));
    }

    [Fact]
    public void OddSizesUseTheRoundedResizeOnEachAxis()
    {
        // 333x200 into 64x64: 64x38 (38.44 rounded), 13 rows of padding on top. Each axis maps with the size really written,
        // exactly as the resize does, so the image corners map to the frame corners.
        var t = LetterboxTransform.Compute(333, 200, 64, 64, ResizeMode.Letterbox);
        Assert.Equal((64, 38, 0f, 13f), (t.ResizedWidth, t.ResizedHeight, t.PadX, t.PadY));
        Assert.Equal(64f / 333, t.ScaleX);
        Assert.Equal(38f / 200, t.ScaleY);
        var b = t.ToFrame(new Box(0, 13, 64, 51));
        Assert.Equal(0, b.X1, 3);
        Assert.Equal(0, b.Y1, 3);
        Assert.Equal(333, b.X2, 3);
        Assert.Equal(200, b.Y2, 3);
    }

    [Fact]
    public void StretchScalesEachAxisWithoutPadding()
    {
        var t = LetterboxTransform.Compute(320, 180, 64, 64, ResizeMode.Stretch);
        Assert.Equal((0f, 0f), (t.PadX, t.PadY));
        Assert.Equal((64, 64), (t.ResizedWidth, t.ResizedHeight));
        var b = t.ToFrame(new Box(16, 32, 48, 64));
        Assert.Equal(new Box(80, 90, 240, 180), new Box(MathF.Round(b.X1, 3), MathF.Round(b.Y1, 3), MathF.Round(b.X2, 3), MathF.Round(b.Y2, 3)));
    }

    [Fact]
    public void ForwardThenBackIsTheIdentity()
    {
        var rng = new Random(7);
        foreach (var (fw, fh) in new[] { (1920, 1080), (1280, 720), (640, 480), (333, 200), (200, 333), (100, 100) })
        {
            foreach (var mode in new[] { ResizeMode.Letterbox, ResizeMode.Stretch })
            {
                var t = LetterboxTransform.Compute(fw, fh, 640, 384, mode);
                for (int i = 0; i < 50; i++)
                {
                    float x = rng.NextSingle() * fw, y = rng.NextSingle() * fh;
                    Assert.Equal(x, t.ToFrameX(x * t.ScaleX + t.PadX), 2);
                    Assert.Equal(y, t.ToFrameY(y * t.ScaleY + t.PadY), 2);
                }
            }
        }
    }

    [Fact]
    public void BoxesOutsideTheImageAreClippedToTheFrame()
    {
        var t = LetterboxTransform.Compute(1280, 720, 640, 640, ResizeMode.Letterbox);
        // A box reaching into the padding on both sides.
        Assert.Equal(new Box(0, 0, 1280, 720), t.ToFrame(new Box(-10, 100, 700, 600)));
    }

    [Fact]
    public void KeypointsMapWithoutClipping()
    {
        var t = LetterboxTransform.Compute(1280, 720, 640, 640, ResizeMode.Letterbox);
        Assert.Equal(-20f, t.ToFrameX(-10));
        Assert.Equal(-280f, t.ToFrameY(0));
    }
}
