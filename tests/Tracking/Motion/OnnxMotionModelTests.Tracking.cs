using StreamVision.Core;
using StreamVision.Tracking.Mot;
using StreamVision.Tracking.Motion;
using Xunit.Abstractions;

namespace StreamVision.Tracking.Tests.Motion;

// End to end: the MOT15 TUD sequences tracked with the learned model (data from ../shared/data, read in place).
public partial class OnnxMotionModelTests(ITestOutputHelper output)
{
    /// <summary>
    /// Public detections through the default tracker on the learned model, scored against ground truth and printed next to
    /// the Kalman filter's. The floors are sane lower bounds (well below both models), not tuned numbers; models/README.md
    /// has the measured table.
    /// </summary>
    [Theory]
    [InlineData("TUD-Campus", "det-frcnn.txt", 0.50)]
    [InlineData("TUD-Stadtmitte", "det-frcnn.txt", 0.55)]
    [InlineData("TUD-Campus", "det-acf.txt", 0.30)]
    [InlineData("TUD-Stadtmitte", "det-acf.txt", 0.30)]
    public void TudSequences_TrackEndToEnd(string sequence, string detections, double minMota)
    {
        var dets = MotFile.Read(SharedData.File("mot15", sequence, "det", detections));
        var gt = MotFile.Read(SharedData.File("mot15", sequence, "gt", "gt.txt"));
        long runs = _model.SessionRuns;
        var tracks = MotReplay.Run(dets, fps: 25, motionModel: _model);
        long learnedRuns = _model.SessionRuns - runs;
        MotMetrics learned = MotEvaluation.Evaluate(gt, tracks, $"{sequence}/{detections} learned");
        MotMetrics kalman = MotEvaluation.Evaluate(gt, MotReplay.Run(dets, fps: 25), $"{sequence}/{detections} Kalman");
        output.WriteLine(learned.ToText());
        output.WriteLine(kalman.ToText());

        Assert.True(learned.Mota >= minMota, $"{learned.Name}: MOTA {learned.Mota:P1} below {minMota:P1}");
        Assert.True(learned.Idf1 >= 0.3 && learned.Hota >= 0.2, $"{learned.Name}: IDF1 {learned.Idf1:P1}, HOTA {learned.Hota:P1}");
        Assert.All(tracks, r => Assert.True(r.Id > 0));
        // One batch per frame at most (frames before any track has two observations need none).
        int frames = dets.Max(d => d.Frame);
        Assert.InRange(learnedRuns, frames / 2, frames);
    }

    [Fact]
    public void ByteTracker_RunsOneBatchPerFrame()
    {
        // Ten people walking side by side, all visible every frame: after the second frame every frame is one session run.
        var tracker = new ByteTracker(motionModel: _model);
        long runs = _model.SessionRuns;
        const int frames = 30;
        for (int f = 0; f < frames; f++)
        {
            var boxes = Enumerable.Range(0, 10).Select(i => CvBox(f * Dt, x0: 40 + 60 * i, vx: 30 + 5 * i)).ToArray();
            var tracks = tracker.Update(new Detections(boxes, Enumerable.Repeat(0.9f, 10).ToArray(), new int[10]), TimeSpan.FromSeconds(f * Dt));
            Assert.Equal(10, tracks.Count(t => t.State == TrackState.Tracked));
        }
        Assert.Equal(frames - 2, _model.SessionRuns - runs); // frames 0 (no tracks) and 1 (one observation each: Kalman) need none
        Assert.Equal(10, tracker.ConfirmedCount);
    }
}
