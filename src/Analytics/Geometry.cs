using StreamVision.Core;

namespace StreamVision.Analytics;

/// <summary>Small geometry helpers shared by zones, lines and their overlays.</summary>
public static class Geometry
{
    /// <summary>The anchor point of <paramref name="box"/> (pixels).</summary>
    public static (float X, float Y) Anchor(in Box box, AnchorPoint anchor) => anchor switch
    {
        AnchorPoint.BottomCenter => (box.CenterX, box.Y2),
        AnchorPoint.Center => (box.CenterX, box.CenterY),
        AnchorPoint.TopCenter => (box.CenterX, box.Y1),
        AnchorPoint.CenterLeft => (box.X1, box.CenterY),
        AnchorPoint.CenterRight => (box.X2, box.CenterY),
        AnchorPoint.BottomLeft => (box.X1, box.Y2),
        AnchorPoint.BottomRight => (box.X2, box.Y2),
        AnchorPoint.TopLeft => (box.X1, box.Y1),
        AnchorPoint.TopRight => (box.X2, box.Y1),
        _ => (box.CenterX, box.Y2),
    };

    /// <summary>Points in pixels of a <paramref name="width"/> x <paramref name="height"/> frame, as x0,y0,x1,y1,...</summary>
    public static float[] ToPixels(IReadOnlyList<(float X, float Y)> points, CoordinateUnits units, int width, int height)
    {
        var xy = new float[points.Count * 2];
        float sx = units == CoordinateUnits.Fraction ? width : 1f, sy = units == CoordinateUnits.Fraction ? height : 1f;
        for (int i = 0; i < points.Count; i++)
        {
            xy[2 * i] = points[i].X * sx;
            xy[2 * i + 1] = points[i].Y * sy;
        }
        return xy;
    }

    /// <summary>Even-odd test of (x, y) against the polygon x0,y0,x1,y1,... (a point exactly on an edge may go either way).</summary>
    public static bool InPolygon(ReadOnlySpan<float> xy, float x, float y)
    {
        bool inside = false;
        int n = xy.Length / 2;
        for (int i = 0, j = n - 1; i < n; j = i++)
        {
            float xi = xy[2 * i], yi = xy[2 * i + 1], xj = xy[2 * j], yj = xy[2 * j + 1];
            if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
        }
        return inside;
    }

    /// <summary>
    /// Fraction (0..1) of a mask's pixels whose centres lie inside the polygon x0,y0,x1,y1,... (pixels). Large masks are
    /// sampled on a regular grid of at most about 4096 pixels, so the cost stays bounded; 0 for an empty mask.
    /// </summary>
    public static double MaskFractionInPolygon(InstanceMask mask, ReadOnlySpan<float> xy)
    {
        if (mask.Area == 0) return 0;
        int step = Math.Max(1, (int)Math.Sqrt(mask.Area / 4096.0));
        var data = mask.Data;
        int total = 0, inside = 0;
        for (int y = step / 2; y < mask.Height; y += step)
        {
            var row = data.Slice(y * mask.Width, mask.Width);
            for (int x = step / 2; x < mask.Width; x += step)
            {
                if (row[x] == 0) continue;
                total++;
                if (InPolygon(xy, mask.X + x + 0.5f, mask.Y + y + 0.5f)) inside++;
            }
        }
        return total == 0 ? 0 : (double)inside / total;
    }

    /// <summary>
    /// Signed distance (pixels) of (x, y) from the line through a and b: positive on the right-hand side when standing at a
    /// looking at b on screen (y grows downwards).
    /// </summary>
    public static float SignedDistance(float ax, float ay, float bx, float by, float x, float y)
    {
        float dx = bx - ax, dy = by - ay;
        float len = MathF.Sqrt(dx * dx + dy * dy);
        return len > 0 ? (dx * (y - ay) - dy * (x - ax)) / len : 0f;
    }

    public static int[] Round(float[] xy)
    {
        var r = new int[xy.Length];
        for (int i = 0; i < xy.Length; i++) r[i] = (int)MathF.Round(xy[i]);
        return r;
    }
}
