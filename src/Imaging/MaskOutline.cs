using OpenCvSharp;

namespace StreamVision.Imaging;

/// <summary>Outlines of binary masks through OpenCV: <c>findContours</c> (outer contours) and <c>approxPolyDP</c>.</summary>
public static class MaskOutline
{
    /// <summary>
    /// The outer outline of the largest blob of a binary mask (<paramref name="width"/> x <paramref name="height"/> bytes,
    /// non-zero = inside), simplified so that no point of the true outline is further than <paramref name="tolerance"/>
    /// pixels from the polygon, shifted by (<paramref name="offsetX"/>, <paramref name="offsetY"/>). Returns x0,y0,x1,y1,...;
    /// empty when the mask is empty.
    /// </summary>
    public static float[] Largest(ReadOnlySpan<byte> mask, int width, int height, double tolerance, int offsetX = 0, int offsetY = 0)
    {
        if (width <= 0 || height <= 0) return [];
        if (mask.Length < width * height) throw new ArgumentException($"mask holds {mask.Length} bytes, {width}x{height} needs {width * height}", nameof(mask));
        if (!(tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(tolerance), tolerance, "must be >= 0");
        // Copied into a Mat of its own, one pixel of border so blobs touching the edge still close.
        using var m = new Mat(height + 2, width + 2, MatType.CV_8UC1, Scalar.All(0));
        var row = new byte[width];
        for (int y = 0; y < height; y++)
        {
            var src = mask.Slice(y * width, width);
            for (int x = 0; x < width; x++) row[x] = src[x] != 0 ? (byte)255 : (byte)0;
            using var r = m.SubMat(y + 1, y + 2, 1, width + 1);
            r.SetArray(row);
        }
        Cv2.FindContours(m, out Point[][] contours, out _, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
        if (contours.Length == 0) return [];
        var best = contours.MaxBy(c => Math.Abs(Cv2.ContourArea(c)))!;
        var poly = tolerance > 0 ? Cv2.ApproxPolyDP(best, tolerance, closed: true) : best;
        var xy = new float[poly.Length * 2];
        for (int i = 0; i < poly.Length; i++)
        {
            xy[2 * i] = poly[i].X - 1 + offsetX;
            xy[2 * i + 1] = poly[i].Y - 1 + offsetY;
        }
        return xy;
    }
}
