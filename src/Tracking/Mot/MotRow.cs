using StreamVision.Core;

namespace StreamVision.Tracking.Mot;

/// <summary>
/// One line of a MOTChallenge text file: <c>frame,id,x,y,w,h,conf,x,y,z</c>. Frames are 1-based; the box is its top-left
/// corner and size in pixels; <see cref="Id"/> is -1 in detection files; the world coordinates are -1 when unused.
/// </summary>
public readonly record struct MotRow(
    int Frame,
    int Id,
    double X,
    double Y,
    double Width,
    double Height,
    double Confidence = -1,
    double WorldX = -1,
    double WorldY = -1,
    double WorldZ = -1)
{
    /// <summary>The box in pixels.</summary>
    public Box Box => Box.FromXywh((float)X, (float)Y, (float)Width, (float)Height);

    /// <summary>A row from a box (top-left and size are taken from it).</summary>
    public static MotRow FromBox(int frame, int id, in Box box, double confidence = -1) =>
        new(frame, id, box.X1, box.Y1, box.Width, box.Height, confidence);

    /// <summary>Intersection over union of the two boxes, in double precision; 0 when either is empty.</summary>
    public double IoU(in MotRow other)
    {
        double iw = Math.Min(X + Width, other.X + other.Width) - Math.Max(X, other.X);
        double ih = Math.Min(Y + Height, other.Y + other.Height) - Math.Max(Y, other.Y);
        if (iw <= 0 || ih <= 0) return 0;
        double inter = iw * ih;
        double union = Width * Height + other.Width * other.Height - inter;
        return union > 0 ? inter / union : 0;
    }
}
