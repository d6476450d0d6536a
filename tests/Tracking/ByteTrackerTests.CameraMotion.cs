using System.Numerics;
using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

public partial class ByteTrackerTests
{
    /// <summary>
    /// A person standing still, filmed by a camera that starts to pan fast (30 px a frame) and then zooms in about the
    /// picture's centre: the picture moves under the tracker. Returns the ids the person was reported with and in how many
    /// frames it was reported.
    /// </summary>
    private static (HashSet<int> Ids, int Frames) UnderCameraMotion(bool compensate, bool tellTheTracker = true)
    {
        int frames = 0;
        var tracker = new ByteTracker(new ByteTrackerOptions { CompensateCameraMotion = compensate });
        var ids = new HashSet<int>();
        Matrix3x2 world = Matrix3x2.Identity; // scene -> image
        Box person = Box.FromXywh(300, 150, 40, 100);
        for (int f = 0; f < 40; f++)
        {
            Matrix3x2 step = f < 10 ? Matrix3x2.Identity
                : f < 25 ? Matrix3x2.CreateTranslation(-30, 0)
                : Matrix3x2.CreateScale(1.08f, new Vector2(320, 240));
            world *= step;
            Vector2 a = Vector2.Transform(new Vector2(person.X1, person.Y1), world), b = Vector2.Transform(new Vector2(person.X2, person.Y2), world);
            var tracks = tracker.Update(Dets((new Box(a.X, a.Y, b.X, b.Y), 0.9f)), At(f), tellTheTracker ? step : Matrix3x2.Identity);
            foreach (Track t in tracks)
                if (t.DetectionIndex == 0 && t.State == TrackState.Tracked)
                {
                    ids.Add(t.Id);
                    frames++;
                }
        }
        return (ids, frames);
    }

    [Fact]
    public void CameraMotion_Compensated_KeepsTheTrackOnItsObject()
    {
        var (ids, frames) = UnderCameraMotion(compensate: true);
        Assert.Equal([1], ids);
        Assert.Equal(40, frames);
        // Without compensation every jump is too far to follow: the person is lost once the pan starts (frame 10) and each
        // new tentative track is left behind by the next jump.
        var without = UnderCameraMotion(compensate: false);
        Assert.Equal(10, without.Frames);
        // Off by default: a motion handed to a tracker that was not asked to compensate changes nothing.
        Assert.Equal(without.Frames, UnderCameraMotion(compensate: false, tellTheTracker: false).Frames);
    }

    [Fact]
    public void CameraMotion_MovesTheWholeMotionState()
    {
        // A walker at 3 px a frame; the camera zooms 2x about the origin between two frames: the prediction lands on the
        // zoomed walker and the velocity is twice as fast in the new picture.
        var tracker = new ByteTracker(new ByteTrackerOptions { CompensateCameraMotion = true });
        for (int f = 0; f < 20; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));
        Box next = Walker(20);
        var zoomed = new Box(2 * next.X1, 2 * next.Y1, 2 * next.X2, 2 * next.Y2);
        Track t = Assert.Single(tracker.Update(Detections.Empty, At(20), Matrix3x2.CreateScale(2)));
        Assert.Equal(TrackState.Lost, t.State);
        Assert.True(t.Box.IoU(zoomed) > 0.9f, $"{t.Box} vs {zoomed}");
        Assert.Equal(2 * 3 * Fps, t.VelocityX, 0.1 * 2 * 3 * Fps);
        Assert.Equal(1, Assert.Single(tracker.Update(Dets((new Box(2 * Walker(21).X1, 2 * Walker(21).Y1, 2 * Walker(21).X2, 2 * Walker(21).Y2), 0.9f)), At(21))).Id);
    }
}
