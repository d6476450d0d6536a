using System.Globalization;
using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Sinks;

/// <summary>What boxes are coloured by.</summary>
public enum ColorBy
{
    /// <summary>One colour per track id (tells objects apart).</summary>
    Track,
    /// <summary>One colour per class (tells kinds apart).</summary>
    Class,
}

/// <summary>How frames are drawn on. Sizes of 0 scale with the frame height (readable from 320x240 to 4K).</summary>
public sealed record AnnotatorOptions
{
    /// <summary>What box colours tell apart: <c>track</c> (one colour per track id, default) or <c>class</c>.</summary>
    public ColorBy ColorBy { get; init; } = ColorBy.Track;
    /// <summary>Label each box with class name, track id and score. Default true.</summary>
    public bool Labels { get; init; } = true;
    /// <summary>Centre positions kept per track for its trail; 0 = no trails. Default 30.</summary>
    [OptionRange(0, 10000, Unit = "points")]
    public int TrailLength { get; init; } = 30;
    /// <summary>Header line with stream id, UTC time and fps. Default true.</summary>
    public bool Header { get; init; } = true;
    /// <summary>Box line width in pixels; 0 (default) = scale with the frame.</summary>
    [OptionRange(0, 100, Unit = "pixels")]
    public int Thickness { get; init; }
    /// <summary>Text scale (1.0 ≈ 22 px high); 0 (default) = scale with the frame.</summary>
    [OptionRange(0, 20)]
    public double FontScale { get; init; }
    /// <summary>Classes (by name) that are blurred or pixelated instead of boxed, e.g. "face" for privacy. Null = none.</summary>
    [OptionIgnore("set from sinks.obscure")]
    public IReadOnlySet<string>? ObscureClasses { get; init; }
    /// <summary>How obscured classes are hidden: <c>pixelate</c> (default) or <c>blur</c>.</summary>
    public ObscureMode ObscureMode { get; init; } = ObscureMode.Pixelate;
    /// <summary>Class names by id for labels.</summary>
    [OptionIgnore("the detector's class names")]
    public IReadOnlyList<string> ClassNames { get; init; } = [];
    /// <summary>Opacity (0..1) of segmentation masks drawn over their objects (seg models); 0 = masks not drawn. Default 0.4.</summary>
    [OptionRange(0, 1)]
    public double MaskAlpha { get; init; } = 0.4;
    /// <summary>Most tracks whose trails are remembered (bounds memory). Default 512.</summary>
    [OptionRange(1, 1_000_000)]
    public int MaxTrails { get; init; } = 512;

}

/// <summary>
/// Draws detections and tracks on a frame: boxes, labels, trails, a header. Drawing only, no counting (zones and lines
/// are drawn from the overlays the analytics hand over). Keeps bounded per-track trail state; one instance per stream.
/// </summary>
public sealed class Annotator
{
    private static readonly uint[] s_palette =
    [
        0xE6194B, 0x3CB44B, 0xFFE119, 0x4363D8, 0xF58231, 0x911EB4, 0x46F0F0, 0xF032E6, 0xBCF60C, 0xFABEBE,
        0x008080, 0xE6BEFF, 0x9A6324, 0xFFFAC8, 0x800000, 0xAAFFC3, 0x808000, 0xFFD8B1, 0x000075, 0xA9A9A9,
    ];

    private readonly AnnotatorOptions _options;
    private readonly Dictionary<int, Queue<(int X, int Y)>> _trails = new();
    private TimeSpan _lastPts;
    private double _fps;

    public Annotator(AnnotatorOptions? options = null) => _options = options ?? new AnnotatorOptions();

    public AnnotatorOptions Options => _options;

    /// <summary>Remembered trails (bounded by <see cref="AnnotatorOptions.MaxTrails"/>).</summary>
    public int TrailCount => _trails.Count;

    /// <summary>Draws <paramref name="item"/>'s results onto <paramref name="target"/> (the same picture, possibly a copy).</summary>
    public void Draw(AnalyzedFrame item, Frame target, IReadOnlyList<IOverlay>? overlays = null)
    {
        var canvas = Canvas.Of(target);
        double s = Math.Max(0.35, target.Height / 720.0);
        int thick = _options.Thickness > 0 ? _options.Thickness : Math.Max(1, (int)Math.Round(2 * s));
        double font = _options.FontScale > 0 ? _options.FontScale : 0.55 * s;
        int textThick = Math.Max(1, (int)Math.Round(s));
        UpdateFps(item.Frame.Pts);

        if (overlays is not null)
            foreach (var o in overlays) o.Draw(canvas, s);

        if (item.Tracks.Count > 0 || item.Detections.Count == 0)
        {
            foreach (var t in item.Tracks)
            {
                if (t.State == TrackState.Removed)
                {
                    _trails.Remove(t.Id);
                    continue;
                }
                if (t.State != TrackState.Tracked) continue;
                uint color = _options.ColorBy == ColorBy.Track ? s_palette[(t.Id & 0x7FFFFFFF) % s_palette.Length] : s_palette[t.ClassId % s_palette.Length];
                var box = t.Box.Clip(target.Width, target.Height);
                string cls = ClassName(t.ClassId);
                if (DrawObscured(canvas, box, cls)) continue;
                DrawMask(canvas, t.Mask, color, thick);
                DrawTrail(canvas, t, color, thick);
                canvas.DrawRectangle(box, color, thick);
                if (_options.Labels)
                {
                    string label = $"#{t.Id} {cls} {t.Score.ToString("0.00", CultureInfo.InvariantCulture)}";
                    // The classifier's answer after the detector's class: "#3 car 0.91 | red 0.97".
                    if (t.Classification is { } c) label += $" | {c.Label} {c.Score.ToString("0.00", CultureInfo.InvariantCulture)}";
                    DrawLabel(canvas, box, label, color, font, textThick);
                }
            }
        }
        else
        {
            var d = item.Detections;
            for (int i = 0; i < d.Count; i++)
            {
                uint color = s_palette[d.ClassIds[i] % s_palette.Length];
                var box = d.Boxes[i].Clip(target.Width, target.Height);
                string cls = ClassName(d.ClassIds[i]);
                if (DrawObscured(canvas, box, cls)) continue;
                DrawMask(canvas, d.GetMask(i), color, thick);
                canvas.DrawRectangle(box, color, thick);
                if (_options.Labels) DrawLabel(canvas, box, $"{cls} {d.Scores[i].ToString("0.00", CultureInfo.InvariantCulture)}", color, font, textThick);
            }
        }

        if (_options.Header)
        {
            string header = string.Create(CultureInfo.InvariantCulture,
                $"{item.StreamId}  {item.Frame.CaptureTime.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z  {_fps:0.0} fps  {item.Tracks.Count(t => t.State == TrackState.Tracked)} tracked");
            var (w, h, b) = Canvas.MeasureText(header, font, textThick);
            int pad = Math.Max(2, (int)(4 * s));
            canvas.FillPolygon([0, 0, w + 2 * pad, 0, w + 2 * pad, h + b + 2 * pad, 0, h + b + 2 * pad], 0x000000, 0.55);
            canvas.DrawText(header, pad, pad + h, font, 0xFFFFFF, textThick);
        }
        DrawCameraState(canvas, item.CameraState, font, textThick, s);
    }

    /// <summary>A red banner at the top right while the camera-tamper stage sees the camera tampered ("CAMERA COVERED").</summary>
    private static void DrawCameraState(Canvas canvas, string? state, double font, int textThick, double s)
    {
        if (state is null || state == "normal") return;
        string text = "CAMERA " + state.ToUpperInvariant();
        var (w, h, b) = Canvas.MeasureText(text, font * 1.3, textThick + 1);
        int pad = Math.Max(3, (int)(6 * s));
        int x = Math.Max(0, canvas.Width - w - 2 * pad);
        canvas.DrawRectangle(x, 0, w + 2 * pad, h + b + 2 * pad, 0xD01010, -1);
        canvas.DrawText(text, x + pad, pad + h, font * 1.3, 0xFFFFFF, textThick + 1);
    }

    private string ClassName(int id) =>
        id >= 0 && id < _options.ClassNames.Count ? _options.ClassNames[id] : id.ToString(CultureInfo.InvariantCulture);

    private bool DrawObscured(Canvas canvas, Box box, string cls)
    {
        if (_options.ObscureClasses is null || !_options.ObscureClasses.Contains(cls)) return false;
        canvas.Obscure(box, _options.ObscureMode);
        return true;
    }

    /// <summary>A segmentation mask: its pixels tinted (<see cref="AnnotatorOptions.MaskAlpha"/>) and its outline drawn.</summary>
    private void DrawMask(Canvas canvas, InstanceMask? mask, uint color, int thick)
    {
        if (mask is null || mask.Area == 0 || _options.MaskAlpha <= 0) return;
        canvas.BlendMask(mask, color, _options.MaskAlpha);
        if (mask.PolygonPoints < 2) return;
        var poly = mask.Polygon;
        Span<int> xy = poly.Length <= 512 ? stackalloc int[poly.Length] : new int[poly.Length];
        for (int i = 0; i < poly.Length; i++) xy[i] = (int)MathF.Round(poly[i]);
        canvas.DrawPolyline(xy, color, Math.Max(1, thick / 2), closed: true);
    }

    private void DrawTrail(Canvas canvas, in Track t, uint color, int thick)
    {
        if (_options.TrailLength <= 0) return;
        if (!_trails.TryGetValue(t.Id, out var q))
        {
            if (_trails.Count >= _options.MaxTrails) return;
            q = new Queue<(int, int)>(_options.TrailLength);
            _trails[t.Id] = q;
        }
        q.Enqueue(((int)t.Box.CenterX, (int)t.Box.Y2));
        while (q.Count > _options.TrailLength) q.Dequeue();
        if (q.Count < 2) return;
        Span<int> xy = q.Count <= 256 ? stackalloc int[2 * q.Count] : new int[2 * q.Count];
        int k = 0;
        foreach (var (x, y) in q)
        {
            xy[k++] = x;
            xy[k++] = y;
        }
        canvas.DrawPolyline(xy, color, Math.Max(1, thick / 2 + 1));
    }

    private static void DrawLabel(Canvas canvas, Box box, string text, uint color, double font, int textThick)
    {
        var (w, h, b) = Canvas.MeasureText(text, font, textThick);
        int pad = 3;
        int x = (int)box.X1;
        int y = (int)box.Y1 - h - b - 2 * pad;
        if (y < 0) y = (int)box.Y1; // no room above: inside the box
        x = Math.Clamp(x, 0, Math.Max(0, canvas.Width - w - 2 * pad));
        canvas.DrawRectangle(x, y, w + 2 * pad, h + b + 2 * pad, color, -1);
        uint textColor = Luma(color) > 140 ? 0x000000u : 0xFFFFFFu;
        canvas.DrawText(text, x + pad, y + pad + h, font, textColor, textThick);
    }

    private static int Luma(uint rgb) => (int)((((rgb >> 16) & 0xFF) * 299 + ((rgb >> 8) & 0xFF) * 587 + (rgb & 0xFF) * 114) / 1000);

    private void UpdateFps(TimeSpan pts)
    {
        var dt = pts - _lastPts;
        _lastPts = pts;
        if (dt <= TimeSpan.Zero || dt > TimeSpan.FromSeconds(5)) return;
        double inst = 1.0 / dt.TotalSeconds;
        _fps = _fps == 0 ? inst : 0.9 * _fps + 0.1 * inst;
    }
}

/// <summary>Something drawn under the boxes: a zone polygon, a counting line with its counts.</summary>
public interface IOverlay
{
    /// <param name="canvas">Where to draw.</param>
    /// <param name="scale">Frame height / 720, for line widths and text sizes.</param>
    void Draw(Canvas canvas, double scale);
}
