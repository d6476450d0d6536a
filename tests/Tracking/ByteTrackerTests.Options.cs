using StreamVision.Core;

namespace StreamVision.Tracking.Tests;

// What each association and life-cycle option does, on small constructed scenes. Their effect on real sequences is
// measured in ByteTrackerOptionsTests.PublicDetections.cs.
public partial class ByteTrackerTests
{
    [Fact]
    public void NewTrackScore_IsTheLeastScoreThatStartsATrack()
    {
        foreach ((float threshold, bool starts) in new[] { (0.8f, false), (0.7f, true) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { NewTrackScore = threshold });
            tracker.Update(Detections.Empty, At(0));
            var tracks = tracker.Update(Dets((BoxAt(100, 100), 0.75f)), At(1));
            Assert.Equal(starts ? 1 : 0, tracks.Count);
        }
    }

    [Fact]
    public void TentativeMaxMisses_LetsATentativeTrackSkipFrames()
    {
        // Detected in frames 1, 2, 4: with one miss allowed the third hit confirms it; without, the miss drops it.
        foreach ((int misses, int confirmed) in new[] { (0, 0), (1, 1) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { TentativeMaxMisses = misses });
            tracker.Update(Detections.Empty, At(0));
            foreach (int f in new[] { 1, 2, 3, 4 })
                tracker.Update(f == 3 ? Detections.Empty : Dets((Walker(f), 0.9f)), At(f));
            Assert.Equal(confirmed, tracker.ConfirmedCount);
        }
    }

    [Fact]
    public void NewTrackMaxIoU_KeepsADuplicateDetectionFromStartingATrack()
    {
        // A second, offset box on the same object (IoU about 0.6 with it) in every frame.
        foreach ((float limit, int tracks) in new[] { (0.5f, 1), (1f, 2) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { NewTrackMaxIoU = limit });
            for (int f = 0; f < 10; f++)
            {
                var dets = f == 0 ? Dets((Walker(f), 0.95f)) : Dets((Walker(f), 0.95f), (Shift(Walker(f), 10), 0.9f));
                tracker.Update(dets, At(f));
            }
            Assert.Equal(tracks, tracker.ConfirmedCount);
        }
    }

    [Fact]
    public void SharedDetection_DoesNotPullTheTrack()
    {
        // Two people side by side; in frame 10 the detector sees them as one wide box. The track that takes it keeps its
        // predicted box (it is still reported as matched); with the option off it jumps to the middle of the pair.
        foreach (float shared in new[] { 0.3f, 0f })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { SharedDetectionIoU = shared });
            Box Left(int f) => Box.FromXywh(100 + 2 * f, 100, 40, 100);
            Box Right(int f) => Box.FromXywh(130 + 2 * f, 100, 40, 100);
            for (int f = 0; f < 10; f++) tracker.Update(Dets((Left(f), 0.9f), (Right(f), 0.9f)), At(f));
            Box merged = new(Left(10).X1, 100, Right(10).X2, 200);
            var tracks = tracker.Update(Dets((merged, 0.9f)), At(10));
            Track taker = Assert.Single(tracks, t => t.DetectionIndex == 0);
            Box own = taker.Id == 1 ? Left(10) : Right(10);
            Assert.Equal(TrackState.Tracked, taker.State);
            if (shared > 0) Assert.True(taker.Box.IoU(own) > 0.9f, $"pulled to {taker.Box}");
            else Assert.True(taker.Box.IoU(own) < 0.8f, $"stayed at {taker.Box}");
        }
    }

    [Fact]
    public void SharedDetectionWidthRatio_OnlyWiderBoxesAreShared()
    {
        // The same scene, but the detection is no wider than one person: not shared at ratio 1.2, shared at ratio 0.
        foreach ((float ratio, bool held) in new[] { (1.2f, false), (0f, true) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { SharedDetectionWidthRatio = ratio });
            Box Left(int f) => Box.FromXywh(100 + 2 * f, 100, 40, 100);
            Box Right(int f) => Box.FromXywh(130 + 2 * f, 100, 40, 100);
            for (int f = 0; f < 10; f++) tracker.Update(Dets((Left(f), 0.9f), (Right(f), 0.9f)), At(f));
            Box between = Box.FromXywh(Left(10).X1 + 15, 100, 40, 100);
            Track taker = Assert.Single(tracker.Update(Dets((between, 0.9f)), At(10)), t => t.DetectionIndex == 0);
            Box own = taker.Id == 1 ? Left(10) : Right(10);
            Assert.Equal(held, taker.Box.IoU(own) > 0.95f);
        }
    }

    [Fact]
    public void LostMatching_AfterTracked_GivesTrackedTracksTheFirstChoice()
    {
        // A stands at x=200; B walks towards it and is hidden from frame 10, its prediction coasting on. In frame 17 the
        // only detection is A's, 15 px off, right where B's prediction is: jointly B takes it (IoU 1 against 0.45);
        // after-tracked, A keeps it.
        foreach ((LostTrackMatching mode, int taker) in new[] { (LostTrackMatching.AfterTracked, 1), (LostTrackMatching.Joint, 2) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { LostMatching = mode, FuseScore = false });
            Box a = Box.FromXywh(200, 100, 40, 100);
            for (int f = 0; f < 17; f++)
                tracker.Update(f < 10 ? Dets((a, 0.9f), (Box.FromXywh(100 + 5 * f, 100, 40, 100), 0.9f)) : Dets((a, 0.9f)), At(f));
            var tracks = tracker.Update(Dets((Box.FromXywh(185, 100, 40, 100), 0.9f)), At(17));
            Assert.Equal(taker, Assert.Single(tracks, t => t.DetectionIndex == 0).Id);
        }
    }

    [Fact]
    public void LostMatchMinSimilarity_GatesTheReFindOfLostTracks()
    {
        // After-tracked mode: a lost track is re-found only by a detection overlapping its prediction enough.
        foreach ((float min, bool refound) in new[] { (0.2f, true), (0.6f, false) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { LostMatching = LostTrackMatching.AfterTracked, LostMatchMinSimilarity = min, FuseScore = false });
            for (int f = 0; f < 10; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));
            tracker.Update(Detections.Empty, At(10));
            var tracks = tracker.Update(Dets((Shift(Walker(11), 15), 0.9f)), At(11)); // IoU with the prediction about 0.45
            Assert.Equal(refound, tracks.Any(t => t.Id == 1 && t.DetectionIndex == 0));
        }
    }

    [Fact]
    public void DirectionWeight_PrefersTheDetectionAheadOfTheTrack()
    {
        // A track heading right meets two detections overlapping its prediction about equally, one ahead, one behind.
        foreach ((float weight, bool ahead) in new[] { (0.4f, true), (0f, false) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { DirectionWeight = weight, NewTrackMaxIoU = 1 });
            for (int f = 0; f < 10; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));
            Box predicted = Walker(10);
            // Behind scores slightly higher, so IoU x score alone picks it.
            var tracks = tracker.Update(Dets((Shift(predicted, 12), 0.90f), (Shift(predicted, -12), 0.95f)), At(10));
            Assert.Equal(ahead ? 0 : 1, Assert.Single(tracks, t => t.Id == 1).DetectionIndex);
        }
    }

    [Fact]
    public void LostBoxBuffer_ReFindsATrackWhosePredictionDrifted()
    {
        // The walker stops while hidden: its prediction walks on and no longer overlaps the object when it reappears.
        foreach ((float buffer, bool refound) in new[] { (0.5f, true), (0f, false) })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { LostBoxBuffer = buffer });
            for (int f = 0; f < 20; f++) tracker.Update(Dets((Walker(f), 0.9f)), At(f));
            for (int f = 20; f < 35; f++) tracker.Update(Detections.Empty, At(f));
            var tracks = tracker.Update(Dets((Walker(20), 0.9f)), At(35));
            Assert.Equal(refound, tracks.Any(t => t.Id == 1 && t.DetectionIndex == 0));
        }
    }

    [Fact]
    public void LostHoldsSize_KeepsACoastingBoxTheSameSize()
    {
        // An object growing 2 px per frame in width and height disappears: coasting, its box grows on or holds its size.
        foreach (bool hold in new[] { true, false })
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { LostHoldsSize = hold });
            Box Growing(int f) => Box.FromXywh(100, 100, 40 + 2 * f, 100 + 2 * f);
            for (int f = 0; f < 20; f++) tracker.Update(Dets((Growing(f), 0.9f)), At(f));
            Track lost = default;
            for (int f = 20; f < 30; f++) lost = Assert.Single(tracker.Update(Detections.Empty, At(f)));
            Assert.Equal(TrackState.Lost, lost.State);
            if (hold) Assert.InRange(lost.Box.Height, 136, 142); // the size at frame 19 (138), give or take the filter
            else Assert.True(lost.Box.Height > 150, $"height {lost.Box.Height}");
        }
    }

    [Fact]
    public void RefindReupdate_ReplaysTheGapAlongAStraightPath()
    {
        // Hidden for 10 frames, the walker doubles its speed. Re-found with the re-update, its track is exactly what a
        // tracker that saw boxes on the straight line between the last detection and the new one makes of it.
        static Box Pos(int f) => Box.FromXywh(f < 20 ? 50 + 3 * f : 110 + 6 * (f - 20), 150, 40, 100);
        Track AfterGap(bool reupdate)
        {
            var tracker = new ByteTracker(new ByteTrackerOptions { RefindReupdate = reupdate, LostBoxBuffer = 0.5f });
            for (int f = 0; f < 20; f++) tracker.Update(Dets((Pos(f), 0.9f)), At(f));
            for (int f = 20; f < 30; f++) tracker.Update(Detections.Empty, At(f));
            return Assert.Single(tracker.Update(Dets((Pos(30), 0.9f)), At(30)), t => t.DetectionIndex == 0);
        }
        var seeing = new ByteTracker();
        Track straight = default;
        for (int f = 0; f <= 30; f++)
        {
            float k = (f - 19) / 11f;
            Box b = f < 20 || f == 30 ? Pos(f) : new Box(Pos(19).X1 + k * (Pos(30).X1 - Pos(19).X1), 150, Pos(19).X2 + k * (Pos(30).X2 - Pos(19).X2), 250);
            straight = Assert.Single(seeing.Update(Dets((b, 0.9f)), At(f)));
        }

        Track reupdated = AfterGap(true), plain = AfterGap(false);
        Assert.Equal(1, reupdated.Id);
        Assert.Equal(straight.VelocityX, reupdated.VelocityX, 0.01);
        Assert.Equal(straight.Box.X1, reupdated.Box.X1, 0.01);
        Assert.True(Math.Abs(plain.VelocityX - straight.VelocityX) > 0.5, $"{plain.VelocityX} vs {straight.VelocityX}");
    }
}
