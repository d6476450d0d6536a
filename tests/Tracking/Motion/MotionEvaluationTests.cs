using StreamVision.Core;
using StreamVision.Tracking.Mot;
using StreamVision.Tracking.Motion;
using Xunit.Abstractions;

namespace StreamVision.Tracking.Tests.Motion;

[Collection(MotionModelFiles.Collection)]
public class MotionEvaluationTests(ITestOutputHelper output)
{
    [Fact]
    public void HeldOutTudTracks_OneStepError_LearnedAgainstKalman()
    {
        // The even ground-truth ids are held out of training (tools/train-motion/train.py). Observed through noise the size
        // of the MOT15 public detections' error; printed for the report, asserted only to a sane bound.
        var heldOut = new[] { "TUD-Campus", "TUD-Stadtmitte" }
            .SelectMany(seq => MotionEvaluation.FromGroundTruth(MotFile.Read(SharedData.File("mot15", seq, "gt", "gt.txt")), 25, id => id % 2 == 0, seq))
            .ToList();
        Assert.Equal(9, heldOut.Count);
        foreach (var (label, set) in new[] { ("clean", heldOut), ("noisy", MotionEvaluation.WithNoise(heldOut, (0.12, 0.045, 0.17, 0.10), seed: 1)) })
        {
            var kalman = MotionEvaluation.OneStep(KalmanMotionModel.Default, set);
            var learned = MotionEvaluation.OneStep(MotionModelFiles.Learned, set);
            output.WriteLine($"{label}: {kalman.Steps} steps; centre error Kalman {kalman.CentreErrorPixels:0.00} px, learned {learned.CentreErrorPixels:0.00} px; " +
                $"IoU Kalman {kalman.MeanIoU:0.000}, learned {learned.MeanIoU:0.000}");
            Assert.Equal(kalman.Steps, learned.Steps);
            Assert.True(learned.CentreErrorPixels < 2 * kalman.CentreErrorPixels + 1, $"{label}: learned {learned.CentreErrorPixels:0.00} px vs Kalman {kalman.CentreErrorPixels:0.00} px");
            Assert.True(learned.MeanIoU > 0.6, $"{label}: learned IoU {learned.MeanIoU:0.000}");
        }
    }

    [Fact]
    public void OneStep_ScoresFromTheThirdObservation()
    {
        var obs = Enumerable.Range(0, 5).Select(k => new Observation(Box.FromCenter(100 + 10 * k, 50, 20, 40), k * 0.04)).ToList();
        var tr = new Trajectory("line", obs, obs.Select(o => o.Box).ToList());
        var e = MotionEvaluation.OneStep(KalmanMotionModel.Default, [tr, tr with { Observed = obs.Take(2).ToList(), Truth = obs.Take(2).Select(o => o.Box).ToList() }]);
        Assert.Equal(3, e.Steps);
        Assert.InRange(e.MeanIoU, 0.5, 1.0);
        Assert.Throws<ArgumentException>(() => MotionEvaluation.OneStep(KalmanMotionModel.Default, [tr with { Truth = [] }]));
    }

    [Fact]
    public void Ahead_CoastsWithoutUpdates()
    {
        // A straight line: Kalman coasting stays close; predicting further ahead scores fewer steps.
        var obs = Enumerable.Range(0, 30).Select(k => new Observation(Box.FromCenter(100 + 2 * k, 50, 20, 40), k * 0.04)).ToList();
        var tr = new Trajectory("line", obs, obs.Select(o => o.Box).ToList());
        var one = MotionEvaluation.Ahead(KalmanMotionModel.Default, [tr], 1);
        var ten = MotionEvaluation.Ahead(KalmanMotionModel.Default, [tr], 10);
        Assert.Equal(MotionEvaluation.OneStep(KalmanMotionModel.Default, [tr]), one);
        Assert.Equal(28, one.Steps);
        Assert.Equal(19, ten.Steps);
        Assert.True(ten.MeanIoU > 0.7, $"IoU {ten.MeanIoU:0.000}");
        Assert.Throws<ArgumentOutOfRangeException>(() => MotionEvaluation.Ahead(KalmanMotionModel.Default, [tr], 0));
    }

    [Fact]
    public void FromMatchedDetections_KeepsTheBestOverlapAboveTheThreshold()
    {
        var gt = Enumerable.Range(1, 5).Select(f => new MotRow(f, 7, 100 + f, 100, 40, 100, 1)).ToList();
        var dets = new List<MotRow>
        {
            new(1, -1, 103, 102, 40, 100, 0.9), new(1, -1, 300, 100, 40, 100, 0.9), // frame 1: a close one and a far one
            new(2, -1, 130, 100, 40, 100, 0.9),                                     // frame 2: IoU below 0.5 -> missed
            new(3, -1, 103, 100, 40, 100, 0.9), new(4, -1, 104, 101, 40, 100, 0.9), new(5, -1, 105, 99, 40, 100, 0.9),
        };
        var tr = Assert.Single(MotionEvaluation.FromMatchedDetections(gt, dets, 25, name: "s"));
        Assert.Equal("s/7", tr.Name);
        Assert.Equal([0, 0.08, 0.12, 0.16], tr.Observed.Select(o => Math.Round(o.Time, 9)));
        Assert.Equal(new MotRow(1, -1, 103, 102, 40, 100, 0.9).Box, tr.Observed[0].Box);
        Assert.Equal(gt[2].Box, tr.Truth[1]);
        Assert.Empty(MotionEvaluation.FromMatchedDetections(gt, dets, 25, id => id != 7));
    }

    [Fact]
    public void FromGroundTruth_GroupsByIdInFrameOrder()
    {
        var rows = new List<MotRow> { new(3, 2, 0, 0, 10, 10, 1), new(1, 2, 0, 0, 10, 10, 1), new(2, 1, 5, 5, 10, 10, 1), new(2, 2, 1, 0, 10, 10, 1) };
        var all = MotionEvaluation.FromGroundTruth(rows, 25, name: "s");
        Assert.Equal(["s/1", "s/2"], all.Select(t => t.Name));
        Assert.Equal([0, 0.04, 0.08], all[1].Observed.Select(o => Math.Round(o.Time, 9)));
        Assert.Single(MotionEvaluation.FromGroundTruth(rows, 25, id => id == 2));
        var noisy = MotionEvaluation.WithNoise(all, (0.1, 0.1, 0.1, 0.1), seed: 3);
        Assert.Equal(all[1].Truth, noisy[1].Truth);
        Assert.NotEqual(all[1].Observed[0].Box, noisy[1].Observed[0].Box);
    }
}
