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
    public void ToJson_OfSequencesAndOverall_HoldsBoth()
    {
        MotMetrics campus = Campus();
        MotMetrics stadtmitte = MotEvaluation.EvaluateFiles(SharedData.File("pymotmetrics", "TUD-Stadtmitte", "gt.txt"),
            SharedData.File("pymotmetrics", "TUD-Stadtmitte", "test.txt"), "TUD-Stadtmitte");
        MotMetrics overall = MotMetrics.Combine("OVERALL", [campus, stadtmitte]);
        using var doc = JsonDocument.Parse(MotMetrics.ToJson([campus, stadtmitte], overall));
        var sequences = doc.RootElement.GetProperty("sequences");
        Assert.Equal(["TUD-Campus", "TUD-Stadtmitte"], sequences.EnumerateArray().Select(e => e.GetProperty("name").GetString()));
        JsonElement o = doc.RootElement.GetProperty("overall");
        Assert.Equal("OVERALL", o.GetProperty("name").GetString());
        // py-motmetrics' OVERALL row (see the data's README): counts are summed, ratios recomputed.
        Assert.Equal(0.555116, o.GetProperty("mota").GetDouble(), 1e-3);
        Assert.Equal(0.624296, o.GetProperty("idf1").GetDouble(), 1e-3);
        Assert.Equal(14, o.GetProperty("idSwitches").GetInt32());
        // HOTA pooled as TrackEval does: at each alpha the detection counts are summed and AssA is weighted by each
        // sequence's true positives. A sequence's TP follows from its DetA = TP / (gt boxes + track boxes - TP).
        MotMetrics[] parts = [campus, stadtmitte];
        double hota = 0, detA = 0, assA = 0;
        for (int a = 0; a < MotEvaluation.HotaAlphas.Count; a++)
        {
            double tp = 0, boxes = 0, assWeighted = 0;
            foreach (MotMetrics m in parts)
            {
                double n = m.GroundTruthBoxes + m.TrackBoxes, d = m.DetAPerAlpha[a], t = d * n / (1 + d);
                tp += t;
                boxes += n;
                assWeighted += m.AssAPerAlpha[a] * t;
            }
            double detAa = tp / (boxes - tp), assAa = tp > 0 ? assWeighted / tp : 0;
            detA += detAa / 19;
            assA += assAa / 19;
            hota += Math.Sqrt(detAa * assAa) / 19;
        }
        Assert.Equal(detA, o.GetProperty("detA").GetDouble(), 1e-6);
        Assert.Equal(assA, o.GetProperty("assA").GetDouble(), 1e-6);
        Assert.Equal(hota, o.GetProperty("hota").GetDouble(), 1e-6);
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
