using OpenCvSharp;
using StreamVision.Core;

namespace StreamVision.Imaging.Tests;

/// <summary>Pixel comparisons for the tests: decoded images against frames, computed here (not by OpenCV).</summary>
internal static class Pixels
{
    /// <summary>Peak signal-to-noise ratio (dB) between a decoded 8-bit BGR image and a frame of the same size.</summary>
    public static double Psnr(Mat decoded, Frame frame) => Psnr(decoded, frame.Data, frame.Width, frame.Height, frame.Stride);

    public static double Psnr(Mat decoded, ReadOnlySpan<byte> bgr, int width, int height, int stride)
    {
        Assert.Equal(MatType.CV_8UC3, decoded.Type());
        Assert.Equal(width, decoded.Width);
        Assert.Equal(height, decoded.Height);
        Assert.True(decoded.IsContinuous());
        var got = decoded.AsSpan<byte>();
        double se = 0;
        for (int y = 0; y < height; y++)
        {
            var a = got.Slice(y * width * 3, width * 3);
            var b = bgr.Slice(y * stride, width * 3);
            for (int i = 0; i < a.Length; i++)
            {
                int d = a[i] - b[i];
                se += d * d;
            }
        }
        double mse = se / (3.0 * width * height);
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>A smooth test picture (what JPEG is made for): a gradient in each channel, in different directions.</summary>
    public static void FillPicture(Frame f, int seed = 0)
    {
        for (int y = 0; y < f.Height; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < f.Width; x++)
            {
                row[3 * x] = (byte)(255 * x / Math.Max(1, f.Width - 1));
                row[3 * x + 1] = (byte)(255 * y / Math.Max(1, f.Height - 1));
                row[3 * x + 2] = (byte)((128 + 100 * Math.Sin((x + y + 8 * seed) / 20.0)));
            }
        }
    }
}
