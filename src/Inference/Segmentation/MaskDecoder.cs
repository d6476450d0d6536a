using System.Diagnostics;
using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Inference.Segmentation;

/// <summary>How segmentation masks are made from a seg model's coefficients and prototypes.</summary>
public sealed record MaskOptions
{
    /// <summary>Make masks when the detector is a segmentation model (false: boxes only, no mask cost). Default true.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Probability (0..1) above which a pixel belongs to the object (sigmoid of the mask logit). Default 0.5.</summary>
    [OptionRange(0.01, 0.99)]
    public float Threshold { get; init; } = 0.5f;
    /// <summary>
    /// Pixels the simplified outline may stray from the mask's true edge (approxPolyDP epsilon); bigger gives fewer polygon
    /// points in events, 0 keeps every contour point. Default 2.
    /// </summary>
    [OptionKey("polygon_tolerance"), OptionRange(0, 100, Unit = "pixels")]
    public double PolygonTolerancePixels { get; init; } = 2;

    public void Validate(string path = "masks")
    {
        if (Threshold is < 0.01f or > 0.99f) throw new OptionsException($"{path}.threshold", $"must be 0.01..0.99, got {Threshold}");
        if (!(PolygonTolerancePixels >= 0) || PolygonTolerancePixels > 100) throw new OptionsException($"{path}.polygon_tolerance", $"must be 0..100 pixels, got {PolygonTolerancePixels}");
    }
}

/// <summary>
/// Turns YOLO-seg mask coefficients into masks: per detection, logits = coefficients x prototypes over the prototype
/// cells its box covers, bilinearly upsampled to the frame pixels of its box, thresholded (sigmoid &gt; threshold), and
/// the outline simplified into a polygon (OpenCV). Stateless; allocates only the returned masks.
/// </summary>
public static class MaskDecoder
{
    /// <summary>
    /// <paramref name="detections"/> with a mask per row (rows without coefficients are returned as they are). Only the rows
    /// in <paramref name="rows"/> get masks when it is given (e.g. those a confirmed track matched).
    /// </summary>
    public static Detections Decode(Detections detections, MaskOptions options, IReadOnlyCollection<int>? rows = null)
    {
        ArgumentNullException.ThrowIfNull(detections);
        ArgumentNullException.ThrowIfNull(options);
        if (!detections.HasMaskCoefficients || detections.Count == 0) return detections;
        var protos = detections.Prototypes!;
        var masks = new InstanceMask?[detections.Count];
        float logitThreshold = MathF.Log(options.Threshold / (1 - options.Threshold));
        for (int i = 0; i < detections.Count; i++)
        {
            if (rows is not null && !rows.Contains(i)) continue;
            masks[i] = One(detections.Boxes[i], detections.GetMaskCoefficients(i), protos, logitThreshold, options.PolygonTolerancePixels);
        }
        return detections.WithMasks(masks);
    }

    /// <summary>The mask of one box (frame pixels) from its coefficients.</summary>
    public static InstanceMask One(Box box, ReadOnlySpan<float> coefficients, MaskPrototypes p, float logitThreshold, double polygonTolerance)
    {
        Debug.Assert(coefficients.Length == p.Channels);
        int x0 = (int)MathF.Floor(box.X1), y0 = (int)MathF.Floor(box.Y1);
        int x1 = (int)MathF.Ceiling(box.X2), y1 = (int)MathF.Ceiling(box.Y2);
        int w = Math.Max(0, x1 - x0), h = Math.Max(0, y1 - y0);
        if (w == 0 || h == 0) return new InstanceMask(x0, y0, 0, 0, [], []);
        // Prototype cells the box covers (one more each side for the bilinear neighbours).
        int px0 = Math.Clamp((int)MathF.Floor(x0 * p.ScaleX + p.PadX) - 1, 0, p.Width - 1);
        int px1 = Math.Clamp((int)MathF.Ceiling(x1 * p.ScaleX + p.PadX) + 1, 0, p.Width - 1);
        int py0 = Math.Clamp((int)MathF.Floor(y0 * p.ScaleY + p.PadY) - 1, 0, p.Height - 1);
        int py1 = Math.Clamp((int)MathF.Ceiling(y1 * p.ScaleY + p.PadY) + 1, 0, p.Height - 1);
        int lw = px1 - px0 + 1, lh = py1 - py0 + 1;
        var logits = new float[lw * lh];
        int plane = p.Width * p.Height;
        for (int k = 0; k < p.Channels; k++)
        {
            float c = coefficients[k];
            if (c == 0) continue;
            var proto = p.Data.AsSpan(k * plane, plane);
            for (int y = 0; y < lh; y++)
            {
                var src = proto.Slice((py0 + y) * p.Width + px0, lw);
                var dst = logits.AsSpan(y * lw, lw);
                for (int x = 0; x < lw; x++) dst[x] += c * src[x];
            }
        }
        var data = new byte[w * h];
        for (int y = 0; y < h; y++)
        {
            // Pixel centres mapped onto the prototype grid (cell centres at integer + 0.5).
            float v = Math.Clamp((y0 + y + 0.5f) * p.ScaleY + p.PadY - 0.5f - py0, 0, lh - 1);
            int vy = Math.Min((int)v, lh - 2 < 0 ? 0 : lh - 2);
            float fy = lh > 1 ? v - vy : 0;
            int vy1 = Math.Min(vy + 1, lh - 1);
            for (int x = 0; x < w; x++)
            {
                float u = Math.Clamp((x0 + x + 0.5f) * p.ScaleX + p.PadX - 0.5f - px0, 0, lw - 1);
                int ux = Math.Min((int)u, lw - 2 < 0 ? 0 : lw - 2);
                float fx = lw > 1 ? u - ux : 0;
                int ux1 = Math.Min(ux + 1, lw - 1);
                float top = logits[vy * lw + ux] * (1 - fx) + logits[vy * lw + ux1] * fx;
                float bottom = logits[vy1 * lw + ux] * (1 - fx) + logits[vy1 * lw + ux1] * fx;
                if (top * (1 - fy) + bottom * fy > logitThreshold) data[y * w + x] = 1;
            }
        }
        var polygon = MaskOutline.Largest(data, w, h, polygonTolerance, x0, y0);
        return new InstanceMask(x0, y0, w, h, data, polygon);
    }
}
