using System.Text.Json;
using StreamVision.Tracking.Mot;

namespace StreamVision.Tracking.Tests.Mot;

public class MotMetricsTests
{
    [Fact]
    public void Combine_OfOne_IsTheSame()
    {
        MotMetrics m = Campus();
        MotMetrics c = MotMetrics.Combine("all", [m]);
        Assert.Equal("all", c.Name);
        Assert.Equal(m.Mota, c.Mota, 12);
        Assert.Equal(m.Idf1, c.Idf1, 12);
        Assert.Equal(m.MotpDistance, c.MotpDistance, 12);
        Assert.Equal(m.Hota, c.Hota, 12);
        Assert.Equal(m.AssA, c.AssA, 12);
        Assert.Equal(m.LocA, c.LocA, 12);
    }

    [Fact]
    public void ToText_IsATableWithEveryMetric()
    {
        string text = MotMetrics.ToText([Campus(), MotMetrics.Combine("OVERALL", [Campus()])]);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        foreach (string h in (string[])["IDF1", "IDP", "IDR", "Rcll", "Prcn", "GT", "MT", "PT", "ML", "FP", "FN", "IDSW", "FM", "MOTA", "MOTP", "HOTA", "DetA", "AssA", "LocA"])
            Assert.Contains(h, lines[0]);
        Assert.StartsWith("TUD-Campus", lines[1]);
        Assert.Contains("52.6", lines[1]); // MOTA
        Assert.Contains("72.3", lines[1]); // MOTP as mean IoU = 1 - 0.277201
        Assert.StartsWith("OVERALL", lines[2]);
    }

    [Fact]
    public void ToJson_HoldsFractionsAndBothMotpConventions()
    {
        MotMetrics m = Campus();
        using var doc = JsonDocument.Parse(m.ToJson());
        JsonElement root = doc.RootElement;
        Assert.Equal("TUD-Campus", root.GetProperty("name").GetString());
        Assert.Equal(0.526462, root.GetProperty("mota").GetDouble(), 1e-3);
        Assert.Equal(0.277201, root.GetProperty("motpDistance").GetDouble(), 1e-3);
        Assert.Equal(1 - 0.277201, root.GetProperty("motpIoU").GetDouble(), 1e-3);
        Assert.Equal(7, root.GetProperty("idSwitches").GetInt32());
        Assert.Equal(19, root.GetProperty("perAlpha").GetProperty("hota").GetArrayLength());
        Assert.Equal(m.Hota, root.GetProperty("hota").GetDouble(), 1e-6);

        using var array = JsonDocument.Parse(MotMetrics.ToJson([m, m]));
        Assert.Equal(2, array.RootElement.GetArrayLength());
    }

    [Fact]
    public void PerAlphaValues_AverageToTheSummary()
    {
        MotMetrics m = Campus();
        Assert.Equal(19, MotEvaluation.HotaAlphas.Count);
        Assert.Equal(0.05, MotEvaluation.HotaAlphas[0], 12);
        Assert.Equal(0.95, MotEvaluation.HotaAlphas[^1], 12);
        Assert.Equal(m.Hota, m.HotaPerAlpha.Average(), 12);
        Assert.Equal(m.DetA, m.DetAPerAlpha.Average(), 12);
        // Looser thresholds never score lower.
        for (int a = 1; a < 19; a++) Assert.True(m.DetAPerAlpha[a] <= m.DetAPerAlpha[a - 1] + 1e-12);
    }

    private static MotMetrics Campus() =>
        MotEvaluation.EvaluateFiles(SharedData.File("pymotmetrics", "TUD-Campus", "gt.txt"), SharedData.File("pymotmetrics", "TUD-Campus", "test.txt"), "TUD-Campus");
}
