using StreamVision.Tracking.Mot;
using Xunit.Abstractions;

namespace StreamVision.Tracking.Tests.Mot;

public partial class MotEvaluationTests(ITestOutputHelper output)
{
    private const double Tolerance = 1e-3;

    /// <summary>py-motmetrics' values for pymotmetrics/*/test.txt against gt.txt (../shared/data/README.md).</summary>
    public static TheoryData<string, double[]> Reference => new()
    {
        // IDF1, IDP, IDR, Rcll, Prcn, GT, MT, PT, ML, FP, FN, IDSW, FM, MOTA, MOTP (1 - IoU)
        { "TUD-Campus", [.557659, .729730, .451253, .582173, .941441, 8, 1, 6, 1, 13, 150, 7, 7, .526462, .277201] },
        { "TUD-Stadtmitte", [.644619, .819760, .531142, .608997, .939920, 10, 5, 4, 1, 45, 452, 7, 6, .564014, .345904] },
        { "OVERALL", [.624296, .799176, .512211, .602640, .940268, 18, 6, 10, 2, 58, 602, 14, 13, .555116, .330177] },
    };

    [Theory]
    [MemberData(nameof(Reference))]
    public void ReproducesPyMotMetricsReference(string sequence, double[] expected)
    {
        MotMetrics m = sequence == "OVERALL"
            ? MotMetrics.Combine("OVERALL", [EvaluateReference("TUD-Campus"), EvaluateReference("TUD-Stadtmitte")])
            : EvaluateReference(sequence);
        output.WriteLine(m.ToText());

        double[] actual =
        [
            m.Idf1, m.Idp, m.Idr, m.Recall, m.Precision, m.GroundTruthIds, m.MostlyTracked, m.PartiallyTracked, m.MostlyLost,
            m.FalsePositives, m.Misses, m.IdSwitches, m.Fragmentations, m.Mota, m.MotpDistance,
        ];
        string[] names = ["IDF1", "IDP", "IDR", "Rcll", "Prcn", "GT", "MT", "PT", "ML", "FP", "FN", "IDSW", "FM", "MOTA", "MOTP"];
        var wrong = Enumerable.Range(0, names.Length)
            .Where(i => !(Math.Abs(actual[i] - expected[i]) <= Tolerance))
            .Select(i => $"{names[i]}: expected {expected[i]}, got {actual[i]}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{sequence}: " + string.Join("; ", wrong));

        // Both MOTP conventions describe the same matches.
        Assert.Equal(1 - expected[14], m.MotpIoU, Tolerance);
    }

    [Fact]
    public void EvaluateFiles_NamesTheSequenceAfterItsFolder()
    {
        MotMetrics m = MotEvaluation.EvaluateFiles(SharedData.File("mot15", "TUD-Campus", "gt", "gt.txt"),
            SharedData.File("pymotmetrics", "TUD-Campus", "test.txt"));
        Assert.Equal("TUD-Campus", m.Name);
        Assert.Equal(EvaluateReference("TUD-Campus").Mota, m.Mota, 12);
    }

    [Fact]
    public void PerfectTracks_ScoreOneEverywhere()
    {
        var gt = MotFile.Read(SharedData.File("mot15", "TUD-Campus", "gt", "gt.txt"));
        var tracks = gt.Select(r => r with { Id = r.Id + 100, Confidence = -1 }).ToList();
        MotMetrics m = MotEvaluation.Evaluate(gt, tracks, "perfect");
        Assert.Equal(1.0, m.Mota, 12);
        Assert.Equal(1.0, m.Idf1, 12);
        Assert.Equal(1.0, m.Hota, 9);
        Assert.Equal(1.0, m.DetA, 9);
        Assert.Equal(1.0, m.AssA, 9);
        Assert.Equal(1.0, m.LocA, 9);
        Assert.Equal(0.0, m.MotpDistance, 9);
        Assert.Equal(0, m.IdSwitches);
        Assert.Equal(0, m.Fragmentations);
        Assert.Equal(m.GroundTruthIds, m.MostlyTracked);
    }

    [Fact]
    public void GroundTruthBelowMinConfidence_IsIgnored()
    {
        MotRow[] gt = [new(1, 1, 0, 0, 10, 10, 1), new(1, 2, 50, 50, 10, 10, 0)];
        MotRow[] tracks = [new(1, 7, 0, 0, 10, 10)];
        MotMetrics m = MotEvaluation.Evaluate(gt, tracks);
        Assert.Equal(1, m.GroundTruthBoxes);
        Assert.Equal(0, m.Misses);

        MotMetrics all = MotEvaluation.Evaluate(gt, tracks, options: new MotEvaluationOptions { GroundTruthMinConfidence = -1 });
        Assert.Equal(1, all.Misses);
    }

    private static MotMetrics EvaluateReference(string sequence) =>
        MotEvaluation.EvaluateFiles(SharedData.File("pymotmetrics", sequence, "gt.txt"), SharedData.File("pymotmetrics", sequence, "test.txt"), sequence);
}
