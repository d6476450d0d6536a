using System.Globalization;
using StreamVision.Imaging;

using StreamVision.Analytics;

namespace StreamVision.Sinks;

/// <summary>The drawings of a stream's zones and lines with their live counts, for the picture sinks (thread-safe to draw).</summary>
public static class AnalyticsOverlays
{
    public static IReadOnlyList<IOverlay> Of(StreamAnalytics? analytics)
    {
        if (analytics is null) return [];
        var overlays = new List<IOverlay>();
        for (int i = 0; i < analytics.Zones.Count; i++) overlays.Add(new ZoneOverlay(analytics.Zones[i], analytics.ZoneColor(i)));
        for (int i = 0; i < analytics.Lines.Count; i++) overlays.Add(new LineOverlay(analytics.Lines[i], analytics.LineColor(i)));
        return overlays;
    }
}

/// <summary>
/// Draws a zone: a blended fill, its outline and a tag with its name and the tracks inside now. Reads the zone's live
/// count (safe while the stream's loop updates it); the count is the analytics' latest, which may be a few frames ahead
/// of the picture a queued sink draws.
/// </summary>
public sealed class ZoneOverlay : IOverlay
{
    private readonly PolygonZone _zone;
    private Cached? _cache;

    private sealed record Cached(int Width, int Height, int[] Xy);

    /// <param name="zone">The zone to draw.</param>
    /// <param name="color">0xRRGGBB.</param>
    /// <param name="fillAlpha">Opacity of the fill, 0..1 (0 = outline only). Default 0.2.</param>
    public ZoneOverlay(PolygonZone zone, uint color, double fillAlpha = 0.2)
    {
        _zone = zone ?? throw new ArgumentNullException(nameof(zone));
        Color = color;
        FillAlpha = Math.Clamp(fillAlpha, 0, 1);
    }

    public uint Color { get; }
    public double FillAlpha { get; }

    public void Draw(Canvas canvas, double scale)
    {
        // Several sinks may draw the same overlay at once: the cache is one immutable object, swapped whole.
        var c = _cache;
        if (c is null || c.Width != canvas.Width || c.Height != canvas.Height)
        {
            c = new Cached(canvas.Width, canvas.Height, Geometry.Round(Geometry.ToPixels(_zone.Options.Polygon, _zone.Options.Units, canvas.Width, canvas.Height)));
            _cache = c;
        }
        var xy = c.Xy;
        int thick = Math.Max(1, (int)Math.Round(2 * scale));
        if (FillAlpha > 0) canvas.FillPolygon(xy, Color, FillAlpha);
        canvas.DrawPolyline(xy, Color, thick, closed: true);
        int top = 0;
        for (int i = 1; i < xy.Length / 2; i++) if (xy[2 * i + 1] < xy[2 * top + 1]) top = i;
        OverlayText.Tag(canvas, string.Create(CultureInfo.InvariantCulture, $"{_zone.Name}: {_zone.InsideCount}"), xy[2 * top], xy[2 * top + 1], Color, scale, above: true);
    }
}

/// <summary>
/// Draws a counting line: the line, its end points, an arrow pointing to the <c>in</c> side, and a tag with its name and
/// the in/out totals (live, as <see cref="ZoneOverlay"/>).
/// </summary>
public sealed class LineOverlay : IOverlay
{
    private readonly CountingLine _line;

    /// <param name="line">The line to draw.</param>
    /// <param name="color">0xRRGGBB.</param>
    public LineOverlay(CountingLine line, uint color)
    {
        _line = line ?? throw new ArgumentNullException(nameof(line));
        Color = color;
    }

    public uint Color { get; }

    public void Draw(Canvas canvas, double scale)
    {
        var xy = Geometry.ToPixels([_line.Options.From, _line.Options.To], _line.Options.Units, canvas.Width, canvas.Height);
        float ax = xy[0], ay = xy[1], bx = xy[2], by = xy[3];
        int thick = Math.Max(1, (int)Math.Round(2 * scale));
        canvas.DrawLine((int)ax, (int)ay, (int)bx, (int)by, Color, thick);
        int r = Math.Max(2, (int)Math.Round(4 * scale));
        canvas.DrawCircle((int)ax, (int)ay, r, Color);
        canvas.DrawCircle((int)bx, (int)by, r, Color);

        // Arrow from the middle towards the "in" side (the right-hand side looking from From to To).
        float dx = bx - ax, dy = by - ay, len = MathF.Sqrt(dx * dx + dy * dy);
        if (len >= 1)
        {
            float nx = -dy / len, ny = dx / len;
            float arrow = (float)Math.Max(12, 28 * scale);
            float mx = 0.5f * (ax + bx), my = 0.5f * (ay + by);
            float tx = mx + nx * arrow, ty = my + ny * arrow;
            canvas.DrawLine((int)mx, (int)my, (int)tx, (int)ty, Color, thick);
            float head = arrow * 0.35f, ux = dx / len, uy = dy / len;
            canvas.DrawLine((int)tx, (int)ty, (int)(tx - nx * head + ux * head), (int)(ty - ny * head + uy * head), Color, thick);
            canvas.DrawLine((int)tx, (int)ty, (int)(tx - nx * head - ux * head), (int)(ty - ny * head - uy * head), Color, thick);
        }
        OverlayText.Tag(canvas, string.Create(CultureInfo.InvariantCulture, $"{_line.Name}  in {_line.InCount}  out {_line.OutCount}"),
            (int)Math.Min(ax, bx), (int)Math.Min(ay, by), Color, scale, above: true);
    }
}

internal static class OverlayText
{
    /// <summary>Text on a filled tag at (x, y): above that point when there is room, else below.</summary>
    public static void Tag(Canvas canvas, string text, int x, int y, uint color, double scale, bool above)
    {
        double font = 0.5 * scale;
        int textThick = Math.Max(1, (int)Math.Round(scale));
        var (w, h, b) = Canvas.MeasureText(text, font, textThick);
        int pad = Math.Max(2, (int)Math.Round(3 * scale));
        int tw = w + 2 * pad, th = h + b + 2 * pad;
        int ty = above && y - th >= 0 ? y - th : y;
        int tx = Math.Clamp(x, 0, Math.Max(0, canvas.Width - tw));
        ty = Math.Clamp(ty, 0, Math.Max(0, canvas.Height - th));
        canvas.DrawRectangle(tx, ty, tw, th, color, -1);
        uint luma = (((color >> 16) & 0xFF) * 299 + ((color >> 8) & 0xFF) * 587 + (color & 0xFF) * 114) / 1000;
        canvas.DrawText(text, tx + pad, ty + pad + h, font, luma > 140 ? 0x000000u : 0xFFFFFFu, textThick);
    }
}
