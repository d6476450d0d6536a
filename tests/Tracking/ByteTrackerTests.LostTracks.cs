using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

public partial class ByteTrackerTests
{
    [Fact]
    public void ObjectHiddenForOneSecond_ComesBackWithItsId()
    {
        var tracker = new ByteTracker();
        for (int f = 0; f < 30; f++) Assert.Equal(1, Assert.Single(tracker.Update(Dets((Walker(f), 0.9f)), At(f))).Id);

        // Hidden for 25 frames = 1 s: the track coasts as Lost at its predicted position.
        for (int f = 30; f < 55; f++)
        {
            Track t = Assert.Single(tracker.Update(Detections.Empty, At(f)));
            Assert.Equal(TrackState.Lost, t.State);
            Assert.True(t.Box.IoU(Walker(f)) > 0.5f, $"prediction drifted at frame {f}");
        }

        Track back = Assert.Single(tracker.Update(Dets((Walker(55), 0.9f)), At(55)));
        Assert.Equal(1, back.Id);
        Assert.Equal(TrackState.Tracked, back.State);
        Assert.Equal(0, back.DetectionIndex);
        Assert.Equal(1, tracker.ConfirmedCount);
    }

    [Fact]
    public void LostTrack_IsRemovedAfterItsTime_AndReportedOnce()
    {
        var tracker = new ByteTracker(new ByteTrackerOptions { LostTimeoutSeconds = 1.0 });
        for (int f = 0; f < 10; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));

        var removedAt = new List<int>();
        for (int f = 10; f < 60; f++)
        {
            foreach (Track t in tracker.Update(Detections.Empty, At(f)))
            {
                if (t.State == TrackState.Removed) removedAt.Add(f);
                else Assert.Equal(TrackState.Lost, t.State);
            }
        }
        // Last seen at frame 9 (0.36 s); removed at the first frame more than 1 s later: frame 35 (1.4 s).
        Assert.Equal([35], removedAt);
        Assert.Equal(0, tracker.Count);

        // The object comes back after 2 s: it is a new track, tentative until its MinHits-th hit, then with a new id.
        var tracks = tracker.Update(Dets((Walker(60), 0.9f)), At(60));
        Assert.Equal(TrackState.New, Assert.Single(tracks).State);
        tracks = tracker.Update(Dets((Walker(61), 0.9f)), At(61));
        Assert.Equal(TrackState.New, Assert.Single(tracks).State);
        tracks = tracker.Update(Dets((Walker(62), 0.9f)), At(62));
        Assert.Equal(2, Assert.Single(tracks).Id);
    }

    [Fact]
    public void LostTimeoutZero_RemovesAtTheFirstMiss()
    {
        var tracker = new ByteTracker(new ByteTrackerOptions { LostTimeoutSeconds = 0 });
        for (int f = 0; f < 5; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));
        Track t = Assert.Single(tracker.Update(Detections.Empty, At(5)));
        Assert.Equal(TrackState.Removed, t.State);
        Assert.Empty(tracker.Update(Detections.Empty, At(6)));
    }

    [Fact]
    public void Reset_ForgetsTracks_ButIdsStayUnique()
    {
        var tracker = new ByteTracker();
        for (int f = 0; f < 3; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));
        tracker.Reset();
        Assert.Equal(0, tracker.Count);

        // After a reset time may start again (e.g. a reconnected camera).
        var tracks = tracker.Update(Dets((Walker(0), 0.9f)), At(0));
        Assert.Equal(2, Assert.Single(tracks).Id);
    }

    /// <summary>A pedestrian walking right at 3 px per frame (75 px/s).</summary>
    private static Box Walker(int frame) => Box.FromXywh(50 + 3 * frame, 150, 40, 100);
}
