using StreamVision.Tracking.Mot;

namespace StreamVision.Tracking.Tests.Mot;

// HOTA and the identity/CLEAR rules on sequences small enough to work out by hand.
public partial class MotEvaluationTests
{
    [Fact]
    public void IdSplitInTheMiddle_HalvesAssociation()
    {
        // One object over 4 frames; the tracker calls it 10 for two frames, then 20. Boxes are exact.
        MotRow[] gt = [Row(1, 1, 0), Row(2, 1, 0), Row(3, 1, 0), Row(4, 1, 0)];
        MotRow[] tr = [Row(1, 10, 0), Row(2, 10, 0), Row(3, 20, 0), Row(4, 20, 0)];
        MotMetrics m = MotEvaluation.Evaluate(gt, tr);

        Assert.Equal(1, m.IdSwitches);
        Assert.Equal(0.75, m.Mota, 12);
        Assert.Equal(0.5, m.Idf1, 12); // IDTP 2 of 4 + 4 boxes
        Assert.Equal(0, m.Fragmentations);
        Assert.Equal(1.0, m.DetA, 12);
        Assert.Equal(0.5, m.AssA, 12); // each true positive's ids align on 2 of 4 frames
        Assert.Equal(Math.Sqrt(0.5), m.Hota, 12);
        Assert.Equal(0.5, m.AssRe, 12);
        Assert.Equal(1.0, m.AssPr, 12);
        Assert.Equal(1.0, m.LocA, 12);
    }

    [Fact]
    public void ImpreciseBox_CountsOnlyAtThresholdsItReaches()
    {
        // One frame, IoU 0.625 (a 10x10 box against a 10x16 one): a true positive for alpha 0.05..0.60 (12 of 19).
        MotRow[] gt = [new(1, 1, 0, 0, 10, 10, 1)];
        MotRow[] tr = [new(1, 5, 0, 0, 10, 16)];
        MotMetrics m = MotEvaluation.Evaluate(gt, tr);

        Assert.Equal(12.0 / 19, m.DetA, 12);
        Assert.Equal(12.0 / 19, m.AssA, 12);
        Assert.Equal(12.0 / 19, m.Hota, 12);
        // TrackEval's LocA is 1 at thresholds with no true positive.
        Assert.Equal((12 * 0.625 + 7) / 19, m.LocA, 12);
        Assert.Equal(1.0, m.Mota, 12);
        Assert.Equal(0.625, m.MotpIoU, 12);
    }

    [Fact]
    public void Fragmentation_CountsGapsBetweenMatchedFrames()
    {
        // Matched, missed, missed, matched, missed, matched, missed: two gaps inside the tracked span.
        MotRow[] gt = Enumerable.Range(1, 7).Select(f => Row(f, 1, 0)).ToArray();
        MotRow[] tr = new[] { 1, 4, 6 }.Select(f => Row(f, 3, 0)).ToArray();
        MotMetrics m = MotEvaluation.Evaluate(gt, tr);
        Assert.Equal(2, m.Fragmentations);
        Assert.Equal(4, m.Misses);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(1, m.PartiallyTracked);
    }

    [Fact]
    public void CurrentMatchIsKept_WhileStillCloseEnough()
    {
        // Track 7 follows object 1; in frame 2 track 8 fits object 1 better, but 7 is still within IoU 0.5: no switch.
        MotRow[] gt = [Row(1, 1, 0), Row(2, 1, 0)];
        MotRow[] tr = [Row(1, 7, 0), new(2, 7, 3, 0, 10, 10), Row(2, 8, 0)];
        MotMetrics m = MotEvaluation.Evaluate(gt, tr);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(1, m.FalsePositives);
        Assert.Equal(2, m.Matches);
    }

    [Fact]
    public void EmptyTracks_AllMissed_AndJsonHasNoNaN()
    {
        MotRow[] gt = [Row(1, 1, 0), Row(2, 1, 0)];
        MotMetrics m = MotEvaluation.Evaluate(gt, []);
        Assert.Equal(2, m.Misses);
        Assert.Equal(0, m.Mota, 12);
        Assert.Equal(0, m.Hota, 12);
        Assert.True(double.IsNaN(m.MotpIoU));
        Assert.DoesNotContain("NaN", m.ToJson());
    }

    private static MotRow Row(int frame, int id, double x) => new(frame, id, x, 0, 10, 10, 1);
}
