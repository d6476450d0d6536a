using StreamVision.Tracking.Mot;
using Xunit.Abstractions;

namespace StreamVision.Tracking.Tests.Mot;

public class MotReplayTests(ITestOutputHelper output)
{
    /// <summary>
    /// Public detections through the tracker with default options, scored against ground truth. Floors sit a little
    /// below what the tracker measures; TUD-Campus with det-frcnn must reach SORT's published MOTA on the same detections.
    /// </summary>
    [Theory]
    [InlineData("TUD-Campus", "det-frcnn.txt", 0.64, 0.75)] // SORT published MOTA 62.7
    [InlineData("TUD-Stadtmitte", "det-frcnn.txt", 0.72, 0.79)]
    [InlineData("TUD-Campus", "det-acf.txt", 0.48, 0.53)]
    [InlineData("TUD-Stadtmitte", "det-acf.txt", 0.54, 0.50)]
    public void PublicDetections_ReachTheFloor(string sequence, string detections, double minMota, double minIdf1)
    {
        var tracks = MotReplay.Run(SharedData.File("mot15", sequence, "det", detections), fps: 25);
        MotMetrics m = MotEvaluation.Evaluate(MotFile.Read(SharedData.File("mot15", sequence, "gt", "gt.txt")), tracks, $"{sequence}/{detections}");
        output.WriteLine(m.ToText());
        Assert.True(m.Mota >= minMota, $"{m.Name}: MOTA {m.Mota:P1} below {minMota:P1}");
        Assert.True(m.Idf1 >= minIdf1, $"{m.Name}: IDF1 {m.Idf1:P1} below {minIdf1:P1}");
        Assert.All(tracks, r => Assert.True(r.Id > 0, "only confirmed tracks are written"));
        Assert.Equal(tracks.Count, tracks.Select(r => (r.Frame, r.Id)).Distinct().Count());
    }

    [Fact]
    public void FramesWithoutDetections_StillAdvanceTime()
    {
        // One object at 50 px/s, detected in frames 1-10 and 30-40 (25 fps): 0.8 s hidden, within the lost timeout.
        var rows = new List<MotRow>();
        foreach (int f in Enumerable.Range(1, 10).Concat(Enumerable.Range(30, 11)))
            rows.Add(new MotRow(f, -1, 100 + 2 * f, 100, 40, 100, 0.9));
        var tracks = MotReplay.Run(rows, fps: 25);
        Assert.Equal(21, tracks.Count);
        Assert.All(tracks, r => Assert.Equal(1, r.Id));
    }

    [Fact]
    public void MinScore_DropsDetectionsBeforeTracking()
    {
        var rows = Enumerable.Range(1, 10).Select(f => new MotRow(f, -1, 100 + f, 100, 40, 100, 0.8)).ToList();
        Assert.Equal(10, MotReplay.Run(rows, minScore: 0.75f).Count);
        Assert.Empty(MotReplay.Run(rows, minScore: 0.85f));
        Assert.Throws<ArgumentOutOfRangeException>(() => MotReplay.Run(rows, fps: 0));
    }

    [Fact]
    public void RunToFile_WritesReadableTracks()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sv-tracks-{Guid.NewGuid():N}.txt");
        try
        {
            int written = MotReplay.RunToFile(SharedData.File("mot15", "TUD-Campus", "det", "det-frcnn.txt"), path);
            var back = MotFile.Read(path);
            Assert.Equal(written, back.Count);
            Assert.True(written > 200);
            MotMetrics m = MotEvaluation.EvaluateFiles(SharedData.File("mot15", "TUD-Campus", "gt", "gt.txt"), path);
            Assert.True(m.Mota >= 0.627);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
