using OpenCvSharp;
using StreamVision.Core;
using StreamVision.Imaging.Interop;

namespace StreamVision.Imaging;

/// <summary>
/// Drawing on a borrowed BGR24 buffer through OpenCV (anti-aliased lines and text), in place: every call wraps the
/// pixels in a <c>Mat</c> header with their stride, nothing is copied. The canvas does not own the pixels; it must not
/// outlive them. Colours are packed 0xRRGGBB.
/// </summary>
public readonly ref struct Canvas
{
    private readonly Span<byte> _pixels;

    public Canvas(Span<byte> pixels, int width, int height, int stride)
    {
        BgrMat.Check(pixels.Length, width, height, stride, nameof(pixels));
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
    public void DrawRectangle(int x, int y, int width, int height, uint rgb, int thickness = 2) =>
        BgrMat.Rectangle(_pixels, Width, Height, Stride, new Rect(x, y, width, height), Bgr(rgb), thickness < 0 ? -1 : thickness);

    public void DrawRectangle(Box box, uint rgb, int thickness = 2) =>
        DrawRectangle((int)MathF.Round(box.X1), (int)MathF.Round(box.Y1), (int)MathF.Round(box.Width), (int)MathF.Round(box.Height), rgb, thickness);

    /// <summary>Polyline through (x0,y0,x1,y1,...); closed joins the last point to the first.</summary>
    public void DrawPolyline(ReadOnlySpan<int> xy, uint rgb, int thickness = 2, bool closed = false)
    {
        if (xy.Length < 4 || xy.Length % 2 != 0) throw new ArgumentException("need at least two (x, y) points", nameof(xy));
        BgrMat.Polyline(_pixels, Width, Height, Stride, xy, closed, Bgr(rgb), thickness);
    }

    /// <summary>Fills a polygon blended with the pixels under it (alpha 0..1).</summary>
    public void FillPolygon(ReadOnlySpan<int> xy, uint rgb, double alpha)
    {
        if (xy.Length < 6 || xy.Length % 2 != 0) throw new ArgumentException("need at least three (x, y) points", nameof(xy));
        int x0 = int.MaxValue, y0 = int.MaxValue, x1 = int.MinValue, y1 = int.MinValue;
        for (int i = 0; i < xy.Length; i += 2)
        {
            x0 = Math.Min(x0, xy[i]);
            x1 = Math.Max(x1, xy[i]);
            y0 = Math.Min(y0, xy[i + 1]);
            y1 = Math.Max(y1, xy[i + 1]);
        }
        // The polygon's bounding box (inclusive, as cv::boundingRect) inside the image: only these pixels change.
        var bounds = Rect.Intersect(new Rect(x0, y0, x1 - x0 + 1, y1 - y0 + 1), new Rect(0, 0, Width, Height));
        if (bounds.Width <= 0 || bounds.Height <= 0) return;
        BgrMat.FillPolyBlend(_pixels, Width, Height, Stride, xy, bounds, Bgr(rgb), Math.Clamp(alpha, 0, 1));
    }

    /// <summary>Blends <paramref name="rgb"/> into the pixels a mask covers (alpha 0..1); parts outside the image are skipped.</summary>
    public void BlendMask(Core.InstanceMask mask, uint rgb, double alpha)
    {
        ArgumentNullException.ThrowIfNull(mask);
        float a = (float)Math.Clamp(alpha, 0, 1);
        float b = (rgb & 0xFF) * a, g = ((rgb >> 8) & 0xFF) * a, r = ((rgb >> 16) & 0xFF) * a, keep = 1 - a;
        var data = mask.Data;
        int y0 = Math.Max(0, mask.Y), y1 = Math.Min(Height, mask.Y + mask.Height);
        int x0 = Math.Max(0, mask.X), x1 = Math.Min(Width, mask.X + mask.Width);
        for (int y = y0; y < y1; y++)
        {
            var line = _pixels.Slice(y * Stride, Width * 3);
            var m = data.Slice((y - mask.Y) * mask.Width, mask.Width);
            for (int x = x0; x < x1; x++)
            {
                if (m[x - mask.X] == 0) continue;
                int p = 3 * x;
                line[p] = (byte)(line[p] * keep + b + 0.5f);
                line[p + 1] = (byte)(line[p + 1] * keep + g + 0.5f);
                line[p + 2] = (byte)(line[p + 2] * keep + r + 0.5f);
            }
        }
    }

    public void DrawLine(int x0, int y0, int x1, int y1, uint rgb, int thickness = 2) =>
        BgrMat.Line(_pixels, Width, Height, Stride, new Point(x0, y0), new Point(x1, y1), Bgr(rgb), thickness);

    public void DrawCircle(int cx, int cy, int radius, uint rgb, int thickness = -1) =>
        BgrMat.Circle(_pixels, Width, Height, Stride, new Point(cx, cy), radius, Bgr(rgb), thickness < 0 ? -1 : thickness);

    /// <summary>Anti-aliased text (Hershey simplex) with its baseline-left corner at (x, y).</summary>
    public void DrawText(string text, int x, int y, double scale, uint rgb, int thickness = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        BgrMat.Text(_pixels, Width, Height, Stride, text, new Point(x, y), scale, Bgr(rgb), thickness);
    }

    /// <summary>Size of <paramref name="text"/> drawn at <paramref name="scale"/>: width, height above the baseline, and baseline depth.</summary>
    public static (int Width, int Height, int Baseline) MeasureText(string text, double scale, int thickness = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        var size = Cv2.GetTextSize(text, HersheyFonts.HersheySimplex, scale, thickness, out int baseline);
        return (size.Width, size.Height, baseline);
    }

    /// <summary>Blurs or pixelates a rectangle in place (privacy masking). Strength 0 picks a heavy default.</summary>
    /// <param name="box">The rectangle (clipped to the image).</param>
    /// <param name="mode">Blur or pixelate.</param>
    /// <param name="strength">Pixelate: block size in pixels (0: an eighth of the smaller side, at least 4). Blur: divisor of
    /// the smaller side giving the kernel (0: 3, a heavy blur).</param>
    public void Obscure(Box box, ObscureMode mode, int strength = 0)
    {
        var region = Rect.Intersect(new Rect((int)box.X1, (int)box.Y1, (int)MathF.Ceiling(box.Width), (int)MathF.Ceiling(box.Height)),
            new Rect(0, 0, Width, Height));
        if (region.Width <= 0 || region.Height <= 0) return;
        int smallSide = Math.Min(region.Width, region.Height);
        if (mode == ObscureMode.Pixelate)
        {
            BgrMat.Pixelate(_pixels, Width, Height, Stride, region, strength > 0 ? strength : Math.Max(4, smallSide / 8));
        }
        else
        {
            BgrMat.Blur(_pixels, Width, Height, Stride, region, Math.Max(3, (smallSide / (strength > 0 ? strength : 3)) | 1));
        }
    }

    private static Scalar Bgr(uint rgb) => new(rgb & 0xFF, (rgb >> 8) & 0xFF, (rgb >> 16) & 0xFF);
}

public enum ObscureMode
{
    /// <summary>Gaussian blur over the box.</summary>
    Blur,
    /// <summary>Coarse blocks over the box (nothing of the original detail survives).</summary>
    Pixelate,
}
