using System.Runtime.InteropServices;
using StreamVision.Core;
using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>
/// Drawing on a borrowed BGR24 buffer through OpenCV (anti-aliased lines and text). The canvas does not own
/// the pixels; it must not outlive them. Colours are packed 0xRRGGBB.
/// </summary>
public readonly unsafe ref struct Canvas
{
    private readonly Span<byte> _pixels;

    public Canvas(Span<byte> pixels, int width, int height, int stride)
    {
        if (width <= 0 || height <= 0 || stride < width * 3 || pixels.Length < (long)stride * (height - 1) + width * 3)
            throw new ArgumentException($"buffer of {pixels.Length} bytes cannot hold {width}x{height} BGR24 with stride {stride}", nameof(pixels));
        _pixels = pixels;
        Width = width;
        Height = height;
        Stride = stride;
    }

    /// <summary>A canvas over a frame's pixels (the caller holds a reference to the frame).</summary>
    public static Canvas Of(Frame frame) => new(frame.Data, frame.Width, frame.Height, frame.Stride);

    public int Width { get; }
    public int Height { get; }
    public int Stride { get; }

    /// <summary>Rectangle outline (or filled when <paramref name="thickness"/> &lt; 0).</summary>
    public void DrawRectangle(int x, int y, int width, int height, uint rgb, int thickness = 2)
    {
        fixed (byte* p = _pixels) SvNative.Check(SvNative.DrawRect(p, Width, Height, Stride, x, y, width, height, rgb, thickness), "draw");
    }

    public void DrawRectangle(Box box, uint rgb, int thickness = 2) =>
        DrawRectangle((int)MathF.Round(box.X1), (int)MathF.Round(box.Y1), (int)MathF.Round(box.Width), (int)MathF.Round(box.Height), rgb, thickness);

    /// <summary>Polyline through (x0,y0,x1,y1,...); closed joins the last point to the first.</summary>
    public void DrawPolyline(ReadOnlySpan<int> xy, uint rgb, int thickness = 2, bool closed = false)
    {
        if (xy.Length < 4 || xy.Length % 2 != 0) throw new ArgumentException("need at least two (x, y) points", nameof(xy));
        fixed (byte* p = _pixels)
        fixed (int* q = xy)
            SvNative.Check(SvNative.DrawPolyline(p, Width, Height, Stride, q, xy.Length / 2, closed ? 1 : 0, rgb, thickness), "draw");
    }

    /// <summary>Fills a polygon blended with the pixels under it (alpha 0..1).</summary>
    public void FillPolygon(ReadOnlySpan<int> xy, uint rgb, double alpha)
    {
        if (xy.Length < 6 || xy.Length % 2 != 0) throw new ArgumentException("need at least three (x, y) points", nameof(xy));
        fixed (byte* p = _pixels)
        fixed (int* q = xy)
            SvNative.Check(SvNative.FillPolyBlend(p, Width, Height, Stride, q, xy.Length / 2, rgb, Math.Clamp(alpha, 0, 1)), "draw");
    }

    public void DrawLine(int x0, int y0, int x1, int y1, uint rgb, int thickness = 2)
    {
        fixed (byte* p = _pixels) SvNative.Check(SvNative.DrawLine(p, Width, Height, Stride, x0, y0, x1, y1, rgb, thickness), "draw");
    }

    public void DrawCircle(int cx, int cy, int radius, uint rgb, int thickness = -1)
    {
        fixed (byte* p = _pixels) SvNative.Check(SvNative.DrawCircle(p, Width, Height, Stride, cx, cy, radius, rgb, thickness), "draw");
    }

    /// <summary>Anti-aliased text with its baseline-left corner at (x, y).</summary>
    public void DrawText(string text, int x, int y, double scale, uint rgb, int thickness = 1)
    {
        fixed (byte* p = _pixels) SvNative.Check(SvNative.DrawText(p, Width, Height, Stride, text, x, y, scale, rgb, thickness), "draw");
    }

    /// <summary>Size of <paramref name="text"/> drawn at <paramref name="scale"/>: width, height above the baseline, and baseline depth.</summary>
    public static (int Width, int Height, int Baseline) MeasureText(string text, double scale, int thickness = 1)
    {
        SvNative.EnsureLoaded();
        SvNative.Check(SvNative.TextSize(text, scale, thickness, out int w, out int h, out int b), "measure text");
        return (w, h, b);
    }

    /// <summary>Blurs or pixelates a rectangle in place (privacy masking). Strength 0 picks a heavy default.</summary>
    public void Obscure(Box box, ObscureMode mode, int strength = 0)
    {
        fixed (byte* p = _pixels)
            SvNative.Check(SvNative.Obscure(p, Width, Height, Stride, (int)box.X1, (int)box.Y1, (int)MathF.Ceiling(box.Width), (int)MathF.Ceiling(box.Height),
                mode == ObscureMode.Pixelate ? 1 : 0, strength), "obscure");
    }
}

public enum ObscureMode
{
    Blur,
    Pixelate,
}

/// <summary>Image operations on borrowed BGR24 buffers: resize and JPEG encoding.</summary>
public static unsafe class Imaging
{
    /// <summary>Bilinear resize of the region (x, y, w, h) of <paramref name="src"/> into all of <paramref name="dst"/>.</summary>
    public static void Resize(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int srcStride, int x, int y, int w, int h,
                              Span<byte> dst, int dstWidth, int dstHeight, int dstStride)
    {
        SvNative.EnsureLoaded();
        fixed (byte* s = src)
        fixed (byte* d = dst)
            SvNative.Check(SvNative.Resize(s, srcWidth, srcHeight, srcStride, x, y, w, h, d, dstWidth, dstHeight, dstStride), "resize");
    }

    /// <summary>JPEG bytes of a BGR24 image (quality 1..100).</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<byte> bgr, int width, int height, int stride, int quality = 90)
    {
        if (quality is < 1 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "must be 1..100");
        if (width <= 0 || height <= 0 || stride < width * 3 || bgr.Length < (long)stride * (height - 1) + width * 3)
            throw new ArgumentException($"buffer of {bgr.Length} bytes cannot hold {width}x{height} BGR24 with stride {stride}", nameof(bgr));
        SvNative.EnsureLoaded();
        IntPtr output;
        int length;
        fixed (byte* p = bgr)
            SvNative.Check(SvNative.JpegEncode(p, width, height, stride, quality, out output, out length), "jpeg");
        try
        {
            return new ReadOnlySpan<byte>((void*)output, length).ToArray();
        }
        finally
        {
            SvNative.Free(output);
        }
    }

    public static byte[] EncodeJpeg(Frame frame, int quality = 90) => EncodeJpeg(frame.Data, frame.Width, frame.Height, frame.Stride, quality);
}
