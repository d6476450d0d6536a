using OpenCvSharp;
using StreamVision.Core;

namespace StreamVision.Imaging.Tests;

public class ImageOpsTests
{
    [Fact]
    public void ResizeInterpolatesBilinearly()
    {
        // Every channel holds 4x along a row; halving the width samples the source at 2x + 0.5 (pixel centres), so
        // destination column x must hold 4 * (2x + 0.5) = 8x + 2.
        using var src = Frame.CreateUnpooled(64, 8);
        for (int y = 0; y < 8; y++)
        {
            var row = src.GetRowSpan(y);
            for (int x = 0; x < 64; x++) row.Slice(3 * x, 3).Fill((byte)(4 * x));
        }
        using var dst = Frame.CreateUnpooled(32, 8);
        ImageOps.Resize(src.Data, 64, 8, src.Stride, 0, 0, 64, 8, dst.Data, 32, 8, dst.Stride);
        for (int y = 0; y < 8; y++)
        {
            var row = dst.GetRowSpan(y);
            for (int x = 1; x < 31; x++)
                for (int c = 0; c < 3; c++) Assert.InRange(row[3 * x + c], 8 * x + 2 - 1, 8 * x + 2 + 1);
        }
    }

    [Fact]
    public void ResizeReadsOnlyItsRegionAndWritesInPlaceWithinTheStride()
    {
        // Left half red, right half blue; the right half scaled into a pooled frame whose rows are padded.
        using var src = Frame.CreateUnpooled(100, 50);
        for (int y = 0; y < 50; y++)
        {
            var row = src.GetRowSpan(y);
            for (int x = 0; x < 100; x++)
            {
                row[3 * x] = (byte)(x < 50 ? 0 : 255);
                row[3 * x + 2] = (byte)(x < 50 ? 255 : 0);
                row[3 * x + 1] = 0;
            }
        }
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 1 << 20 });
        Assert.True(pool.TryRent(30, 20, out var dst));
        using (dst)
        {
            Assert.True(dst.Stride > 30 * 3); // rows are padded: the padding must stay untouched
            byte[] buffer = dst.DangerousGetBuffer();
            buffer.AsSpan().Fill(0x5A);
            ImageOps.Resize(src.Data, 100, 50, src.Stride, 50, 0, 50, 50, dst.Data, 30, 20, dst.Stride);
            Assert.Same(buffer, dst.DangerousGetBuffer());
            for (int y = 0; y < 20; y++)
            {
                var line = buffer.AsSpan(y * dst.Stride, dst.Stride);
                for (int x = 0; x < 30; x++) Assert.Equal([255, 0, 0], line.Slice(3 * x, 3).ToArray());
                Assert.All(line[(30 * 3)..].ToArray(), b => Assert.Equal(0x5A, b));
            }
        }
    }

    [Fact]
    public void ResizeRejectsARegionOutsideTheSourceAndShortBuffers()
    {
        using var src = Frame.CreateUnpooled(40, 30);
        using var dst = Frame.CreateUnpooled(10, 10);
        Assert.Throws<ArgumentException>(() => ImageOps.Resize(src.Data, 40, 30, src.Stride, 20, 0, 30, 30, dst.Data, 10, 10, dst.Stride));
        Assert.Throws<ArgumentException>(() => ImageOps.Resize(src.Data, 40, 30, src.Stride, 0, 0, 40, 30, dst.Data[..100], 10, 10, dst.Stride));
    }

    [Fact]
    public void JpegDecodesBackToThePicture()
    {
        using var f = Frame.CreateUnpooled(160, 90);
        Pixels.FillPicture(f);
        byte[] jpeg = ImageOps.EncodeJpeg(f, 90);
        Assert.Equal([0xFF, 0xD8], jpeg[..2]);
        Assert.Equal([0xFF, 0xD9], jpeg[^2..]);
        using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
        double psnr = Pixels.Psnr(decoded, f);
        Assert.True(psnr > 30, $"PSNR {psnr:0.0} dB");
    }

    [Fact]
    public void JpegQualityTradesSizeForFidelity()
    {
        using var f = Frame.CreateUnpooled(160, 90);
        Pixels.FillPicture(f);
        byte[] low = ImageOps.EncodeJpeg(f, 15), high = ImageOps.EncodeJpeg(f, 95);
        Assert.True(low.Length < high.Length, $"q15 {low.Length} B, q95 {high.Length} B");
        using var dl = Cv2.ImDecode(low, ImreadModes.Color);
        using var dh = Cv2.ImDecode(high, ImreadModes.Color);
        Assert.True(Pixels.Psnr(dl, f) < Pixels.Psnr(dh, f));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageOps.EncodeJpeg(f, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageOps.EncodeJpeg(f, 101));
    }

    [Fact]
    public void JpegOfACropReadsTheFrameInPlace()
    {
        // As the snapshot sink crops: a slice that starts at (x, y) and keeps the frame's stride.
        using var f = Frame.CreateUnpooled(160, 90);
        Pixels.FillPicture(f, seed: 1);
        int x = 40, y = 30, w = 64, h = 32;
        var slice = f.Data[(y * f.Stride + x * 3)..];
        byte[] jpeg = ImageOps.EncodeJpeg(slice, w, h, f.Stride, 95);
        using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
        double psnr = Pixels.Psnr(decoded, slice, w, h, f.Stride);
        Assert.True(psnr > 32, $"PSNR {psnr:0.0} dB");
    }
}
