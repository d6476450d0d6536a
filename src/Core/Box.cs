namespace StreamVision.Core;

/// <summary>An axis-aligned box in pixels of the original frame: corners (X1, Y1) top-left and (X2, Y2) bottom-right.</summary>
public readonly record struct Box(float X1, float Y1, float X2, float Y2)
{
    public float Width => X2 - X1;
    public float Height => Y2 - Y1;
    public float Area => Math.Max(0f, X2 - X1) * Math.Max(0f, Y2 - Y1);
    public float CenterX => 0.5f * (X1 + X2);
    public float CenterY => 0.5f * (Y1 + Y2);

    /// <summary>From top-left corner and size (MOTChallenge's x, y, w, h).</summary>
    public static Box FromXywh(float x, float y, float w, float h) => new(x, y, x + w, y + h);

    /// <summary>From centre and size.</summary>
    public static Box FromCenter(float cx, float cy, float w, float h) => new(cx - 0.5f * w, cy - 0.5f * h, cx + 0.5f * w, cy + 0.5f * h);

    /// <summary>Intersection over union; 0 when either box is empty.</summary>
    public float IoU(in Box other)
    {
        float iw = Math.Min(X2, other.X2) - Math.Max(X1, other.X1);
        float ih = Math.Min(Y2, other.Y2) - Math.Max(Y1, other.Y1);
        if (iw <= 0 || ih <= 0) return 0f;
        float inter = iw * ih;
        float union = Area + other.Area - inter;
        return union > 0 ? inter / union : 0f;
    }

    public Box Clip(float width, float height) =>
        new(Math.Clamp(X1, 0, width), Math.Clamp(Y1, 0, height), Math.Clamp(X2, 0, width), Math.Clamp(Y2, 0, height));

    public override string ToString() => $"[{X1:0.#},{Y1:0.#} {Width:0.#}x{Height:0.#}]";
}
