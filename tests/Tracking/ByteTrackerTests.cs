using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

public partial class ByteTrackerTests
{
    private const double Fps = 25;

    [Fact]
    public void FirstFrameTracks_AreConfirmedAtOnce_LaterOnesAfterMinHits()
    {
        var tracker = new ByteTracker(new ByteTrackerOptions { MinHits = 3 });
        var first = tracker.Update(Dets((BoxAt(100, 100), 0.9f)), At(0));
        Assert.Equal(TrackState.Tracked, Assert.Single(first).State);
        Assert.Equal(1, first[0].Id);

        // An object appearing later is tentative (negative id) until its third hit, then gets the next id.
        for (int f = 1; f <= 3; f++)
        {
            var tracks = tracker.Update(Dets((BoxAt(100, 100), 0.9f), (BoxAt(400, 100), 0.9f)), At(f));
            Track late = tracks.Single(t => t.DetectionIndex == 1);
            if (f < 3)
            {
                Assert.Equal(TrackState.New, late.State);
                Assert.False(late.IsConfirmed);
                Assert.True(late.Id < 0);
            }
            else
            {
                Assert.Equal(TrackState.Tracked, late.State);
                Assert.Equal(2, late.Id);
                Assert.Equal(3, late.Hits);
            }
        }
        Assert.Equal(2, tracker.ConfirmedCount);
    }

    [Fact]
    public void FlickeringDetection_NeverBecomesAConfirmedTrack()
    {
        var tracker = new ByteTracker();
        var seen = new List<Track>();
        seen.AddRange(tracker.Update(Detections.Empty, At(0)));
        seen.AddRange(tracker.Update(Dets((BoxAt(200, 150), 0.95f)), At(1)));
        for (int f = 2; f < 30; f++) seen.AddRange(tracker.Update(Detections.Empty, At(f)));

        Assert.DoesNotContain(seen, t => t.IsConfirmed || t.Id > 0 || t.State == TrackState.Removed);
        Track tentative = Assert.Single(seen);
        Assert.Equal(TrackState.New, tentative.State);
        Assert.Equal(0, tracker.ConfirmedCount);
        Assert.Equal(0, tracker.Count);
    }

    [Fact]
    public void FramesWithoutDetections_AreFine_WithAndWithoutTracks()
    {
        var tracker = new ByteTracker();
        Assert.Empty(tracker.Update(Detections.Empty, At(0)));
        Assert.Empty(tracker.Update(Dets(), At(1)));
        tracker.Update(Dets((BoxAt(100, 100), 0.9f)), At(2));
        tracker.Update(Dets((BoxAt(102, 100), 0.9f)), At(3));
        tracker.Update(Dets((BoxAt(104, 100), 0.9f)), At(4)); // third hit: confirmed (MinHits)
        var tracks = tracker.Update(Detections.Empty, At(5));
        Track t = Assert.Single(tracks);
        Assert.Equal(TrackState.Lost, t.State);
        Assert.Equal(-1, t.DetectionIndex);
        Assert.True(t.IsConfirmed);
    }

    [Fact]
    public void TwoTrackers_HaveIndependentIds()
    {
        var a = new ByteTracker();
        var b = new ByteTracker();
        for (int f = 0; f < 5; f++)
        {
            var ta = a.Update(Dets((BoxAt(100 + f, 100), 0.9f), (BoxAt(300 + f, 100), 0.9f)), At(f));
            var tb = b.Update(Dets((BoxAt(500 - f, 300), 0.9f)), At(f));
            Assert.Equal([1, 2], ta.Select(t => t.Id).Order());
            Assert.Equal(1, Assert.Single(tb).Id);
        }
        Assert.Equal(2, a.ConfirmedCount);
        Assert.Equal(1, b.ConfirmedCount);
    }

    [Fact]
    public void DetectionIndex_IsTheRowOfTheFramesDetections()
    {
        var tracker = new ByteTracker();
        Box[] boxes = [BoxAt(100, 100), BoxAt(300, 100), BoxAt(500, 100)];
        for (int f = 0; f < 10; f++)
        {
            // Rows come in a different order every frame.
            int[] order = f % 2 == 0 ? [0, 1, 2] : [2, 0, 1];
            var dets = new Detections(order.Select(i => Shift(boxes[i], 2 * f)).ToArray(), [0.9f, 0.8f, 0.95f], [0, 0, 0], sourceIndex: [7, 8, 9]);
            var tracks = tracker.Update(dets, At(f));
            Assert.Equal(3, tracks.Count);
            foreach (Track t in tracks)
            {
                Assert.InRange(t.DetectionIndex, 0, 2);
                Assert.Equal(order[t.DetectionIndex], t.Id - 1); // ids follow the first frame's order
                Assert.Equal(dets.Scores[t.DetectionIndex], t.Score);
                Assert.True(t.Box.IoU(dets.Boxes[t.DetectionIndex]) > 0.8f);
            }
        }
    }

    [Fact]
    public void ReportDetectionBox_ReturnsTheDetectorsBox()
    {
        var tracker = new ByteTracker(new ByteTrackerOptions { ReportDetectionBox = true });
        Track t = default;
        for (int f = 0; f < 5; f++)
        {
            Box b = Shift(BoxAt(100, 100), 3 * f + (f % 2));
            t = Assert.Single(tracker.Update(Dets((b, 0.9f)), At(f)));
            Assert.Equal(b, t.Box);
        }
        Assert.Equal(4, t.Age);
        Assert.Equal(5, t.Hits);
        Assert.Equal(TimeSpan.Zero, t.StartTime);
    }

    [Fact]
    public void LowScoreDetections_ExtendTracks_ButStartNone()
    {
        var tracker = new ByteTracker();
        for (int f = 0; f < 5; f++) tracker.Update(Dets((BoxAt(100 + 2 * f, 100), 0.9f)), At(f));

        // The object is partly hidden: its detection scores 0.3 (below HighScore) but still continues the track.
        for (int f = 5; f < 10; f++)
        {
            var tracks = tracker.Update(Dets((BoxAt(100 + 2 * f, 100), 0.3f), (BoxAt(500, 300), 0.3f)), At(f));
            Track t = Assert.Single(tracks);
            Assert.Equal(1, t.Id);
            Assert.Equal(TrackState.Tracked, t.State);
            Assert.Equal(0, t.DetectionIndex);
        }
    }

    [Fact]
    public void ClassAware_KeepsClassesApart()
    {
        var aware = new ByteTracker(new ByteTrackerOptions { ClassAware = true, MinHits = 1 });
        var blind = new ByteTracker(new ByteTrackerOptions { MinHits = 1 });
        for (int f = 0; f < 6; f++)
        {
            int cls = f < 3 ? 0 : 1; // the detector flips the class of the same box
            var dets = new Detections([Shift(BoxAt(100, 100), f)], [0.9f], [cls]);
            aware.Update(dets, At(f));
            var tb = blind.Update(dets, At(f));
            Assert.Equal(1, Assert.Single(tb).Id);
        }
        Assert.Equal(2, aware.ConfirmedCount);
        Assert.Equal(1, blind.ConfirmedCount);
    }

    [Fact]
    public void MaxTracks_BoundsTheTracksHeld()
    {
        var tracker = new ByteTracker(new ByteTrackerOptions { MaxTracks = 2 });
        tracker.Update(Dets((BoxAt(100, 100), 0.9f), (BoxAt(300, 100), 0.9f), (BoxAt(500, 100), 0.9f)), At(0));
        Assert.Equal(2, tracker.Count);
        Assert.Equal(1, tracker.TracksRefused);
    }

    [Fact]
    public void ManyObjects_EachKeepsItsId()
    {
        var tracker = new ByteTracker();
        var rng = new Random(1);
        int n = 60;
        var pos = Enumerable.Range(0, n).Select(i => (x: 40.0 + (i % 10) * 120, y: 40.0 + (i / 10) * 150, vx: rng.NextDouble() * 4 - 2, vy: rng.NextDouble() * 4 - 2)).ToArray();
        for (int f = 0; f < 100; f++)
        {
            var boxes = pos.Select(p => Box.FromXywh((float)(p.x + p.vx * f), (float)(p.y + p.vy * f), 40, 100)).ToArray();
            var tracks = tracker.Update(new Detections(boxes, Enumerable.Repeat(0.9f, n).ToArray(), new int[n]), At(f));
            Assert.Equal(n, tracks.Count);
            foreach (Track t in tracks) Assert.Equal(t.DetectionIndex + 1, t.Id);
        }
    }

    private static TimeSpan At(double frame) => TimeSpan.FromSeconds(frame / Fps);

    private static Box BoxAt(float x, float y) => Box.FromXywh(x, y, 40, 100);

    private static Box Shift(Box b, float dx, float dy = 0) => new(b.X1 + dx, b.Y1 + dy, b.X2 + dx, b.Y2 + dy);

    private static Detections Dets(params (Box Box, float Score)[] items) =>
        new(items.Select(i => i.Box).ToArray(), items.Select(i => i.Score).ToArray(), new int[items.Length]);
}
