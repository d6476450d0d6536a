using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

public partial class ByteTrackerTests
{
    [Fact]
    public void TwoObjectsCrossing_KeepTheirIds()
    {
        var tracker = new ByteTracker();
        int idA = 0, idB = 0;
        for (int f = 0; f < 60; f++)
        {
            Box a = Box.FromXywh(100 + 5 * f, 200, 40, 100); // left to right
            Box b = Box.FromXywh(400 - 5 * f, 210, 40, 100); // right to left, passing in front at f = 30
            bool swap = f % 3 == 0;
            var tracks = tracker.Update(swap ? Dets((b, 0.9f), (a, 0.85f)) : Dets((a, 0.85f), (b, 0.9f)), At(f));
            int rowA = swap ? 1 : 0;
            Track ta = tracks.Single(t => t.DetectionIndex == rowA);
            Track tb = tracks.Single(t => t.DetectionIndex == 1 - rowA);
            if (f == 0)
            {
                idA = ta.Id;
                idB = tb.Id;
            }
            Assert.Equal(idA, ta.Id);
            Assert.Equal(idB, tb.Id);
        }
        Assert.NotEqual(idA, idB);
        Assert.Equal(2, tracker.ConfirmedCount);
    }

    [Fact]
    public void ObjectHiddenWhileCrossing_ComesBackWithItsId()
    {
        var tracker = new ByteTracker();
        int idA = 0, idB = 0;
        for (int f = 0; f < 70; f++)
        {
            Box a = Box.FromXywh(100 + 5 * f, 200, 40, 100);
            Box b = Box.FromXywh(450 - 5 * f, 205, 40, 100);
            bool bHidden = f is >= 28 and < 42; // B is behind A for 14 frames (0.56 s)
            var tracks = tracker.Update(bHidden ? Dets((a, 0.9f)) : Dets((a, 0.9f), (b, 0.9f)), At(f));
            Track ta = tracks.Single(t => t.DetectionIndex == 0);
            if (f == 0)
            {
                idA = ta.Id;
                idB = tracks.Single(t => t.DetectionIndex == 1).Id;
            }
            Assert.Equal(idA, ta.Id);
            if (bHidden)
            {
                Track tb = tracks.Single(t => t.Id == idB);
                Assert.Equal(TrackState.Lost, tb.State);
                Assert.Equal(-1, tb.DetectionIndex);
            }
            else
            {
                Assert.Equal(idB, tracks.Single(t => t.DetectionIndex == 1).Id);
            }
        }
        Assert.Equal(2, tracker.ConfirmedCount);
    }
}
