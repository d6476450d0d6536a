using System.Numerics;
using OpenCvSharp;
using StreamVision.Core;
using StreamVision.Imaging.Interop;

namespace StreamVision.Imaging;

/// <summary>How the frame-to-frame camera motion is estimated. Every field documents its unit and trade-off.</summary>
public sealed record CameraMotionOptions
{
    /// <summary>Corners followed from one frame to the next (default 300). More: steadier estimates in busy scenes; slower.</summary>
    [OptionRange(4, 10000)]
    public int MaxFeatures { get; init; } = 300;

    /// <summary>Least corner strength, as a fraction of the strongest corner's (default 0.01). Lower finds corners in flat scenes and more noise.</summary>
    [OptionRange(0, 1)]
    public double FeatureQuality { get; init; } = 0.01;

    /// <summary>Least distance between corners, in analysed pixels (default 8). Larger spreads them over the picture.</summary>
    [OptionRange(0, 1000, Unit = "pixels")]
    public double MinFeatureDistance { get; init; } = 8;

    /// <summary>Analyse at 1/N of the size (default 2): faster and less noisy; very small motions are measured more coarsely.</summary>
    [OptionRange(1, 16)]
    public int Downscale { get; init; } = 2;

    /// <summary>
    /// RANSAC's tolerance, full-frame pixels (default 2): a corner that moved further than this from where the camera
    /// motion puts it is an outlier (a walking person, noise). Higher: accepts sloppier fits.
    /// </summary>
    [OptionRange(0, 100, Unit = "pixels")]
    public double RansacThreshold { get; init; } = 2;

    /// <summary>
    /// Fewest corners that must agree on the motion (default 15); fewer, and the frame reports no motion (identity)
    /// rather than a guess. Higher: fewer wrong estimates in textureless or crowded frames; more frames without one.
    /// </summary>
    [OptionRange(3, 10000)]
    public int MinInliers { get; init; } = 15;

    /// <summary>Throws <see cref="OptionsException"/> naming the first invalid field under <paramref name="path"/>.</summary>
    public CameraMotionOptions Validate(string path = "camera_motion")
    {
        if (MaxFeatures is < 4 or > 10000) throw new OptionsException($"{path}.max_features", $"must be 4..10000, got {MaxFeatures}");
        if (!(FeatureQuality > 0 && FeatureQuality < 1)) throw new OptionsException($"{path}.feature_quality", $"must be in (0, 1), got {FeatureQuality}");
        if (!(MinFeatureDistance >= 0 && MinFeatureDistance <= 1000)) throw new OptionsException($"{path}.min_feature_distance", $"must be 0..1000 pixels, got {MinFeatureDistance}");
        if (Downscale is < 1 or > 16) throw new OptionsException($"{path}.downscale", $"must be 1..16, got {Downscale}");
        if (!(RansacThreshold > 0 && RansacThreshold <= 100)) throw new OptionsException($"{path}.ransac_threshold", $"must be in (0, 100] pixels, got {RansacThreshold}");
        if (MinInliers is < 3 or > 10000) throw new OptionsException($"{path}.min_inliers", $"must be 3..10000, got {MinInliers}");
        return this;
    }
}

/// <summary>
/// Global camera motion between consecutive frames of one stream (pan, tilt, zoom, roll), for trackers on moving cameras:
/// corners of the previous frame (OpenCV's Shi-Tomasi detector, away from the objects given as moving) are followed into
/// the current frame by pyramidal Lucas-Kanade optical flow, and a similarity transform (rotation, uniform scale,
/// translation) is fitted to them with RANSAC. Feed frames in order; each estimate maps the previous frame's pixels to the
/// current frame's. Reads each frame in place; owns its grey images and frees them on <see cref="Dispose"/>. Not
/// thread-safe (one per stream).
/// </summary>
public sealed class CameraMotionEstimator : IDisposable
{
    private readonly CameraMotionOptions _options;
    private Mat _previous = new();
    private Mat _current = new();
    private readonly Mat _scratch = new();
    private readonly Mat _mask = new();
    private Box[] _previousMoving = [];
    private bool _hasPrevious;
    private int _width, _height;
    private bool _disposed;

    public CameraMotionEstimator(CameraMotionOptions? options = null)
    {
        _options = (options ?? new CameraMotionOptions()).Validate();
        NativeHandles.Opened(NativeHandles.CameraMotion);
    }

    /// <summary>Corners that agreed on the last estimate (0 when there was none).</summary>
    public int LastInliers { get; private set; }

    /// <summary>Corners followed into the last frame, inliers or not.</summary>
    public int LastTracked { get; private set; }

    /// <summary>
    /// Estimates the motion from the previous frame to <paramref name="frame"/>. <paramref name="moving"/> are boxes of
    /// objects in this frame (e.g. its detections): corners on them are not used when this frame is the previous one, so
    /// walking people do not pull the estimate. False, with <paramref name="motion"/> = identity, for the first frame, after
    /// a size change, and when too few corners agree (<see cref="CameraMotionOptions.MinInliers"/>).
    /// </summary>
    /// <param name="motion">
    /// Row-vector affine transform (<see cref="Vector2.Transform(Vector2, Matrix3x2)"/>): a point at (x, y) in the previous
    /// frame is at <c>(x M11 + y M21 + M31, x M12 + y M22 + M32)</c> in this one, in full-frame pixels.
    /// </param>
    public bool TryEstimate(Frame frame, ReadOnlySpan<Box> moving, out Matrix3x2 motion)
    {
        ArgumentNullException.ThrowIfNull(frame);
        return TryEstimate(frame.Data, frame.Width, frame.Height, frame.Stride, moving, out motion);
    }

    /// <summary>As <see cref="TryEstimate(Frame, ReadOnlySpan{Box}, out Matrix3x2)"/>, for borrowed BGR24 pixels with their row stride.</summary>
    public bool TryEstimate(ReadOnlySpan<byte> pixels, int width, int height, int stride, ReadOnlySpan<Box> moving, out Matrix3x2 motion)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        BgrMat.Check(pixels.Length, width, height, stride, nameof(pixels));
        motion = Matrix3x2.Identity;
        LastInliers = 0;
        LastTracked = 0;
        int d = _options.Downscale;
        var size = new Size(Math.Max(1, width / d), Math.Max(1, height / d));
        BgrMat.ToGray(pixels, width, height, stride, _scratch, _current, size);
        bool sameSize = _hasPrevious && width == _width && height == _height;
        try
        {
            return sameSize && Estimate(size, width / (double)size.Width, height / (double)size.Height, out motion);
        }
        catch (OpenCVException ex)
        {
            throw new ImagingException("camera motion", ex.Message, ex);
        }
        finally
        {
            (_previous, _current) = (_current, _previous);
            _previousMoving = moving.ToArray();
            _hasPrevious = true;
            _width = width;
            _height = height;
        }
    }

    /// <summary>Forgets the previous frame (after a seek or a cut): the next frame starts afresh.</summary>
    public void Reset() => _hasPrevious = false;

    private bool Estimate(Size size, double sx, double sy, out Matrix3x2 motion)
    {
        motion = Matrix3x2.Identity;

        // Corners of the previous frame, off the objects that were moving in it.
        _mask.Create(size, MatType.CV_8UC1);
        _mask.SetTo(Scalar.All(255));
        foreach (Box b in _previousMoving)
        {
            var r = new Rect((int)Math.Floor(b.X1 / sx), (int)Math.Floor(b.Y1 / sy), (int)Math.Ceiling(b.Width / sx) + 1, (int)Math.Ceiling(b.Height / sy) + 1);
            r = Rect.Intersect(r, new Rect(0, 0, size.Width, size.Height));
            if (r.Width <= 0 || r.Height <= 0) continue;
            using var roi = new Mat(_mask, r);
            roi.SetTo(Scalar.All(0));
        }
        Point2f[] corners;
        using (var prevIn = InputArray.Create(_previous))
        using (var maskIn = InputArray.Create(_mask))
            corners = Cv2.GoodFeaturesToTrack(prevIn, _options.MaxFeatures, _options.FeatureQuality, _options.MinFeatureDistance, maskIn, 3, false, 0.04);
        if (corners.Length < _options.MinInliers) return false;

        // Where they went.
        Point2f[] moved = [];
        byte[] status;
        using (var prevIn = InputArray.Create(_previous))
        using (var currIn = InputArray.Create(_current))
            Cv2.CalcOpticalFlowPyrLK(prevIn, currIn, corners, ref moved, out status, out _, new Size(21, 21), 3, null, OpticalFlowFlags.None, 1e-4);
        var from = new List<Point2f>(corners.Length);
        var to = new List<Point2f>(corners.Length);
        for (int i = 0; i < corners.Length; i++)
        {
            if (status[i] == 0) continue;
            // Analysed pixel centres back to full-frame pixels.
            from.Add(new Point2f((float)((corners[i].X + 0.5) * sx - 0.5), (float)((corners[i].Y + 0.5) * sy - 0.5)));
            to.Add(new Point2f((float)((moved[i].X + 0.5) * sx - 0.5), (float)((moved[i].Y + 0.5) * sy - 0.5)));
        }
        LastTracked = from.Count;
        if (from.Count < _options.MinInliers) return false;

        // One similarity transform that most of them agree on.
        using var fromMat = Mat.FromArray(from.ToArray());
        using var toMat = Mat.FromArray(to.ToArray());
        using var inliers = new Mat();
        using var fromIn = InputArray.Create((Mat)fromMat);
        using var toIn = InputArray.Create((Mat)toMat);
        using var inliersOut = OutputArray.Create(inliers);
        using Mat? affine = Cv2.EstimateAffinePartial2D(fromIn, toIn, inliersOut, RobustEstimationAlgorithms.RANSAC, _options.RansacThreshold, 2000, 0.99, 10);
        if (affine is null || affine.Empty()) return false;
        if (!inliers.Empty())
        {
            using var inliersIn = InputArray.Create(inliers);
            LastInliers = Cv2.CountNonZero(inliersIn);
        }
        if (LastInliers < _options.MinInliers) return false;
        motion = new Matrix3x2(
            (float)affine.At<double>(0, 0), (float)affine.At<double>(1, 0),
            (float)affine.At<double>(0, 1), (float)affine.At<double>(1, 1),
            (float)affine.At<double>(0, 2), (float)affine.At<double>(1, 2));
        return true;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _previous.Dispose();
        _current.Dispose();
        _scratch.Dispose();
        _mask.Dispose();
        NativeHandles.Closed(NativeHandles.CameraMotion);
    }
}
