namespace StreamVision.Core;

/// <summary>One label of a classifier's answer and its score (a probability after softmax, 0..1).</summary>
public readonly record struct LabelScore(string Label, float Score);

/// <summary>
/// What a second model (the classifier on track crops) said about a track: its best label and score, the top-k labels,
/// the model's file name and the track's frame (hits) it was computed on. Immutable; the same instance stays attached to
/// the track until a newer result replaces it.
/// </summary>
public sealed record TrackClassification(string Label, float Score, IReadOnlyList<LabelScore> TopK, string Model, int ClassifiedAtHits);

/// <summary>
/// An instance segmentation mask in frame pixels, cropped to its detection's box: a <see cref="Width"/> x
/// <see cref="Height"/> bitmap (1 = object, 0 = not) whose top-left pixel is (<see cref="X"/>, <see cref="Y"/>) of the
/// frame, and its outline simplified into a polygon (frame pixels, x0,y0,x1,y1,...). Immutable after construction.
/// </summary>
public sealed class InstanceMask
{
    private readonly byte[] _data;
    private readonly float[] _polygon;

    /// <param name="x">Left column of the bitmap in the frame.</param>
    /// <param name="y">Top row of the bitmap in the frame.</param>
    /// <param name="width">Bitmap width (pixels).</param>
    /// <param name="height">Bitmap height (pixels).</param>
    /// <param name="data">width x height bytes, row-major, 1 inside the object and 0 outside (the mask owns the array).</param>
    /// <param name="polygon">The outline in frame pixels as x0,y0,x1,y1,...; empty when the mask is empty.</param>
    public InstanceMask(int x, int y, int width, int height, byte[] data, float[] polygon)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(polygon);
        if (width < 0 || height < 0) throw new ArgumentOutOfRangeException(nameof(width), $"size must not be negative, got {width}x{height}");
        if (data.Length != width * height) throw new ArgumentException($"data holds {data.Length} bytes, a {width}x{height} mask needs {width * height}", nameof(data));
        if (polygon.Length % 2 != 0) throw new ArgumentException("polygon must hold (x, y) pairs", nameof(polygon));
        X = x;
        Y = y;
        Width = width;
        Height = height;
        _data = data;
        _polygon = polygon;
        int area = 0;
        foreach (byte b in data) if (b != 0) area++;
        Area = area;
    }

    public int X { get; }
    public int Y { get; }
    public int Width { get; }
    public int Height { get; }
    /// <summary>Pixels inside the object.</summary>
    public int Area { get; }
    /// <summary>The bitmap, row-major (1 = object).</summary>
    public ReadOnlySpan<byte> Data => _data;
    /// <summary>Outline in frame pixels, x0,y0,x1,y1,... (closed: the last point connects to the first).</summary>
    public ReadOnlySpan<float> Polygon => _polygon;
    /// <summary>Points of <see cref="Polygon"/>.</summary>
    public int PolygonPoints => _polygon.Length / 2;

    /// <summary>Whether frame pixel (<paramref name="fx"/>, <paramref name="fy"/>) belongs to the object.</summary>
    public bool Contains(int fx, int fy)
    {
        int mx = fx - X, my = fy - Y;
        return (uint)mx < (uint)Width && (uint)my < (uint)Height && _data[my * Width + mx] != 0;
    }

    /// <summary>The outline as an array (events keep it).</summary>
    public float[] PolygonArray() => (float[])_polygon.Clone();

    public override string ToString() => $"InstanceMask({X},{Y} {Width}x{Height}, area {Area}, {PolygonPoints} points)";
}

/// <summary>
/// The prototype masks of one image of a YOLO-seg model ([channels, height, width], a copy owned by this object) and how
/// frame pixels map onto them: <c>proto = frame * Scale + Pad</c> per axis.
/// </summary>
public sealed class MaskPrototypes
{
    public MaskPrototypes(float[] data, int channels, int height, int width, float scaleX, float scaleY, float padX, float padY)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length < channels * height * width) throw new ArgumentException($"prototypes hold {data.Length} values, [{channels},{height},{width}] needs {channels * height * width}", nameof(data));
        Data = data;
        Channels = channels;
        Height = height;
        Width = width;
        ScaleX = scaleX;
        ScaleY = scaleY;
        PadX = padX;
        PadY = padY;
    }

    public float[] Data { get; }
    public int Channels { get; }
    public int Height { get; }
    public int Width { get; }
    public float ScaleX { get; }
    public float ScaleY { get; }
    public float PadX { get; }
    public float PadY { get; }
}
