using StreamVision.Core;
using StreamVision.Inference.Preprocessing;

namespace StreamVision.Inference.Tests.Preprocessing;

public class PreprocessorTests
{
    // A 4x2 frame whose every byte is different: pixel (x, y) is B = 1 + i, G = 100 + i, R = 200 + i with i = x + 4 y.
    private static Frame SmallFrame()
    {
        var f = Frame.CreateUnpooled(4, 2); // stride 32: rows are padded, as in real frames
        f.Data.Fill(0xEE);
        for (int y = 0; y < 2; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < 4; x++)
            {
                int i = x + 4 * y;
                row[3 * x] = (byte)(1 + i);
                row[3 * x + 1] = (byte)(100 + i);
                row[3 * x + 2] = (byte)(200 + i);
            }
        }
        return f;
    }

    private static InputSpec Spec(TensorLayout layout, bool rgb, float scale = 1f / 255f, float offset = 0f) => new()
    {
        Name = "x",
        Width = 4,
        Height = 4,
        Layout = layout,
        Rgb = rgb,
        Scale = scale,
        Offset = offset,
        PadValue = 114,
    };

    /// <summary>
    /// The 4x4 input by hand: the frame fits at scale 1 (no resampling), one row of padding (114) above and below.
    /// <paramref name="channel"/> 0..2 in the model's order.
    /// </summary>
    private static int Expected(int channel, int x, int y, bool rgb)
    {
        if (y == 0 || y == 3) return 114;
        int i = x + 4 * (y - 1);
        int bgr = rgb ? 2 - channel : channel; // 0 = B, 1 = G, 2 = R
        return bgr switch { 0 => 1 + i, 1 => 100 + i, _ => 200 + i };
    }

    [Theory]
    [InlineData(TensorLayout.Nchw, true)]
    [InlineData(TensorLayout.Nchw, false)]
    [InlineData(TensorLayout.Nhwc, true)]
    [InlineData(TensorLayout.Nhwc, false)]
    public void SmallFrameMatchesAHandComputedTensor(TensorLayout layout, bool rgb)
    {
        foreach (var (scale, offset) in new[] { (1f / 255f, 0f), (1f / 127.5f, -1f), (1f, 0f) })
        {
            var pre = new Preprocessor(Spec(layout, rgb, scale, offset));
            using var frame = SmallFrame();
            var dst = new float[4 * 4 * 3 + 1];
            dst[^1] = 42; // guard: nothing written beyond the image
            var t = pre.Prepare(frame, dst);
            Assert.Equal(new LetterboxTransform(1, 1, 0, 1, 4, 2), t);
            var expected = new float[4 * 4 * 3 + 1];
            expected[^1] = 42;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 4; x++)
                    {
                        int index = layout == TensorLayout.Nchw ? c * 16 + y * 4 + x : (y * 4 + x) * 3 + c;
                        expected[index] = Expected(c, x, y, rgb) * scale + offset;
                    }
            Assert.Equal(expected, dst);
        }
    }

    [Fact]
    public void LetterboxDownscaleAveragesExactly()
    {
        // 8x4 frame of 2x2 blocks, each one colour, into a 4x4 letterbox: scale 0.5 (4x2), one pad row above and below.
        // Bilinear 2:1 samples the middle of each block, so every input pixel is exactly its block's colour.
        using var frame = Frame.CreateUnpooled(8, 4);
        for (int y = 0; y < 4; y++)
        {
            var row = frame.GetRowSpan(y);
            for (int x = 0; x < 8; x++)
            {
                int block = x / 2 + 4 * (y / 2);
                row[3 * x] = (byte)(10 * block);
                row[3 * x + 1] = (byte)(10 * block + 1);
                row[3 * x + 2] = (byte)(10 * block + 2);
            }
        }
        var pre = new Preprocessor(Spec(TensorLayout.Nchw, rgb: true, scale: 1f, offset: 0f));
        var dst = new float[48];
        var t = pre.Prepare(frame, dst);
        Assert.Equal(new LetterboxTransform(0.5f, 0.5f, 0, 1, 8, 4), t);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
            {
                int block = x + 4 * (y - 1);
                bool pad = y == 0 || y == 3;
                Assert.Equal(pad ? 114 : 10 * block + 2, dst[0 * 16 + y * 4 + x]); // R
                Assert.Equal(pad ? 114 : 10 * block + 1, dst[1 * 16 + y * 4 + x]); // G
                Assert.Equal(pad ? 114 : 10 * block, dst[2 * 16 + y * 4 + x]);     // B
            }
    }

    [Theory]
    [InlineData(64, 64, TensorLayout.Nchw, true)]
    [InlineData(64, 64, TensorLayout.Nchw, false)]
    [InlineData(64, 64, TensorLayout.Nhwc, true)]
    [InlineData(64, 64, TensorLayout.Nhwc, false)]
    [InlineData(7, 5, TensorLayout.Nchw, true)]
    [InlineData(7, 5, TensorLayout.Nhwc, true)]
    [InlineData(33, 3, TensorLayout.Nchw, false)]
    [InlineData(33, 3, TensorLayout.Nhwc, false)]
    public void EveryPixelIsConvertedLikeTheScalarFormula(int width, int height, TensorLayout layout, bool rgb)
    {
        // Frame and input of one size: the resize is a copy, so the tensor is the formula applied to the frame's bytes
        // (covers vector bodies and scalar tails of any conversion loop).
        var rng = new Random(width * 31 + height);
        using var frame = Frame.CreateUnpooled(width, height);
        rng.NextBytes(frame.Data);
        var spec = new InputSpec { Name = "x", Width = width, Height = height, Layout = layout, Rgb = rgb, Scale = 1f / 127.5f, Offset = -1f };
        var dst = new float[width * height * 3];
        new Preprocessor(spec).Prepare(frame, dst);
        for (int y = 0; y < height; y++)
        {
            var row = frame.GetRowSpan(y);
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                {
                    int source = rgb ? 2 - c : c;
                    float want = row[3 * x + source] * spec.Scale + spec.Offset;
                    int index = layout == TensorLayout.Nchw ? c * width * height + y * width + x : (y * width + x) * 3 + c;
                    Assert.Equal(want, dst[index]);
                }
        }
    }

    [Fact]
    public void PortraitFrameIsPaddedLeftAndRightAndNothingOfAnEarlierFrameRemains()
    {
        var pre = new Preprocessor(Spec(TensorLayout.Nhwc, rgb: false, scale: 1f, offset: 0f));
        var dst = new float[48];
        // First a wide frame of 255s fills rows 1..2 of the scratch image...
        using var wide = Frame.CreateUnpooled(4, 2);
        wide.Data.Fill(255);
        pre.Prepare(wide, dst);
        // ...then a 2x4 portrait frame of 7s: scale 1, one column of padding left and right.
        using var tall = Frame.CreateUnpooled(2, 4);
        tall.Data.Fill(7);
        var t = pre.Prepare(tall, dst);
        Assert.Equal(new LetterboxTransform(1, 1, 1, 0, 2, 4), t);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 4; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(x is 0 or 3 ? 114 : 7, dst[(y * 4 + x) * 3 + c]);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw, true)]
    [InlineData(TensorLayout.Nchw, false)]
    [InlineData(TensorLayout.Nhwc, true)]
    [InlineData(TensorLayout.Nhwc, false)]
    public void VectorAndTablePathsGiveIdenticalTensors(TensorLayout layout, bool rgb)
    {
        // 1000 pixels: 62 blocks of 16 and a tail of 8. Whatever the CPU, every path (256-bit, 128-bit, table) runs here.
        var rng = new Random(3);
        var bgr = new byte[3000];
        rng.NextBytes(bgr);
        float scale = 1f / 58.4f, offset = -2.1f;
        var lut = Enumerable.Range(0, 256).Select(v => v * scale + offset).ToArray();
        var results = new[] { 0, 128, 256 }.Select(bits =>
        {
            var dst = new float[3000];
            Preprocessor.Convert(bgr, dst, layout, rgb, scale, offset, lut, bits);
            return dst;
        }).ToArray();
        for (int i = 0; i < 1000; i++)
            for (int c = 0; c < 3; c++)
            {
                int index = layout == TensorLayout.Nchw ? c * 1000 + i : 3 * i + c;
                Assert.Equal(lut[bgr[3 * i + (rgb ? 2 - c : c)]], results[0][index]);
            }
        Assert.Equal(results[0], results[1]);
        Assert.Equal(results[0], results[2]);
    }

    [Fact]
    public void TooSmallADestinationIsRejected()
    {
        var pre = new Preprocessor(Spec(TensorLayout.Nchw, true));
        using var frame = SmallFrame();
        Assert.Throws<ArgumentException>(() => pre.Prepare(frame, new float[47]));
    }
}
