using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

public partial class ByteTrackerTests
{
    [Fact]
    public void SkippedFrames_UseTheRealTimeStep()
    {
        // 100 px/s; the box is 30 px wide, so after a 0.4 s gap it has moved further than its width: only a prediction
        // over the real elapsed time still overlaps it.
        var tracker = new ByteTracker();
        Box At100(double t) => Box.FromXywh((float)(50 + 100 * t), 100, 30, 80);
        Track t = default;
        int[] frames = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 25, 26, 27, 30, 33, 43, 44];
        foreach (int f in frames)
        {
            double s = f / Fps;
            t = Assert.Single(tracker.Update(Dets((At100(s), 0.9f)), TimeSpan.FromSeconds(s)));
            Assert.Equal(1, t.Id);
            Assert.Equal(TrackState.Tracked, t.State);
        }
        Assert.Equal(100, t.VelocityX, 10.0);
        Assert.Equal(0, t.VelocityY, 5.0);
    }

    [Fact]
    public void VelocityIsInPixelsPerSecond_WhateverTheFrameRate()
    {
        foreach (double fps in new[] { 10.0, 30.0, 60.0 })
        {
            var tracker = new ByteTracker();
            Track t = default;
            for (int f = 0; f < 3 * fps; f++)
            {
                double s = f / fps;
                t = Assert.Single(tracker.Update(Dets((Box.FromXywh((float)(100 + 40 * s), (float)(100 - 20 * s), 40, 100), 0.9f)), TimeSpan.FromSeconds(s)));
            }
            Assert.Equal(40, t.VelocityX, 2.0);
            Assert.Equal(-20, t.VelocityY, 2.0);
        }
    }

    [Fact]
    public void TimestampGoingBack_Throws()
    {
        var tracker = new ByteTracker();
        tracker.Update(Detections.Empty, TimeSpan.FromSeconds(2));
        tracker.Update(Detections.Empty, TimeSpan.FromSeconds(2)); // same timestamp is allowed
        Assert.Throws<ArgumentOutOfRangeException>(() => tracker.Update(Detections.Empty, TimeSpan.FromSeconds(1)));
    }
}
