using OpenCvSharp;
using StreamVision.Core;
using StreamVision.Imaging.Interop;

namespace StreamVision.Imaging;

/// <summary>
/// Image operations on borrowed BGR24 buffers through OpenCV: resize and JPEG encoding. Both read (and resize writes)
/// the caller's memory in place through <c>Mat</c> headers with the buffers' strides; only the JPEG bytes are new.
/// </summary>
/// <remarks>Was <c>StreamVision.Native.Imaging</c>; renamed because a class named like its namespace
/// (<c>StreamVision.Imaging</c>) cannot be referred to by its simple name from other StreamVision namespaces.</remarks>
public static class ImageOps
{
    /// <summary>Bilinear resize of the region (x, y, w, h) of <paramref name="src"/> into all of <paramref name="dst"/>.</summary>
    public static void Resize(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int srcStride, int x, int y, int w, int h,
                              Span<byte> dst, int dstWidth, int dstHeight, int dstStride)
    {
        BgrMat.Check(src.Length, srcWidth, srcHeight, srcStride, nameof(src));
        BgrMat.Check(dst.Length, dstWidth, dstHeight, dstStride, nameof(dst));
        if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > srcWidth || y + h > srcHeight)
            throw new ArgumentException($"region ({x}, {y}, {w}x{h}) is not inside the {srcWidth}x{srcHeight} source", nameof(src));
        BgrMat.Resize(src, srcWidth, srcHeight, srcStride, new Rect(x, y, w, h), dst, dstWidth, dstHeight, dstStride);
    }

    /// <summary>JPEG bytes of a BGR24 image (quality 1..100).</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<byte> bgr, int width, int height, int stride, int quality = 90)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "must be 1..100");
        BgrMat.Check(bgr.Length, width, height, stride, nameof(bgr));
        return BgrMat.EncodeJpeg(bgr, width, height, stride, quality);
    }

    public static byte[] EncodeJpeg(Frame frame, int quality = 90) => EncodeJpeg(frame.Data, frame.Width, frame.Height, frame.Stride, quality);
}
