using System.Numerics;
using StreamVision.Core;

namespace StreamVision.Tracking;

public sealed partial class ByteTracker
{
    /// <summary>
    /// Advances every track to <paramref name="pts"/> by its motion model alone, for a frame the detector did not look at
    /// (detect less, track more: <c>detect.interval</c>, motion gating). Unlike <see cref="Update(Detections, TimeSpan)"/>
    /// with no detections, nothing counts as missed: no track turns lost, none is started or removed, and hits stay as they
    /// are. Returns the frame's tracks (predicted boxes, <see cref="Track.DetectionIndex"/> -1) in creation order; before
    /// the first <see cref="Update(Detections, TimeSpan)"/> there are none.
    /// </summary>
    /// <param name="cameraMotion">As in <see cref="Update(Detections, TimeSpan, Matrix3x2)"/>; identity for a fixed camera.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pts"/> is earlier than the previous frame's.</exception>
    public IReadOnlyList<Track> Predict(TimeSpan pts, Matrix3x2 cameraMotion = default)
    {
        if (!_started) return [];
        if (pts < _lastPts)
            throw new ArgumentOutOfRangeException(nameof(pts), pts, $"timestamps must not go back (previous frame {_lastPts}); call Reset() after a discontinuity");
        double dt = (pts - _lastPts).TotalSeconds;
        _lastPts = pts;
        PredictAll(dt);
        if (Options.CompensateCameraMotion && cameraMotion != default && !cameraMotion.IsIdentity) WarpAll(cameraMotion);
        return Collect();
    }
}
