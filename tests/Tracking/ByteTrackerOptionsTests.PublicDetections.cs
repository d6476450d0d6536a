using StreamVision.Tracking.Mot;
using Xunit.Abstractions;

namespace StreamVision.Tracking.Tests;

// Each choice of the defaults, measured on the MOT15 sequences in the shared data with their public detections: the
// default against the alternative, both run here (no figures are written down). Faster R-CNN (det-frcnn, scores 0..1) is
// what the issue's goals are stated on; ACF (det-acf, unbounded scores, many false detections) is the second opinion.
public partial class ByteTrackerOptionsTests(ITestOutputHelper output)
{
    private static readonly string[] Sequences = ["TUD-Campus", "TUD-Stadtmitte"];

    private static readonly Dictionary<(string, ByteTrackerOptions), MotMetrics> s_cache = new();

    /// <summary>Sequences tracked with <paramref name="options"/> and pooled as the MOT devkit pools them (counts summed).</summary>
    private MotMetrics Pooled(string detections, ByteTrackerOptions options)
    {
        lock (s_cache)
        {
            if (!s_cache.TryGetValue((detections, options), out MotMetrics? pooled))
            {
                var parts = Sequences.Select(seq => MotEvaluation.Evaluate(
                    MotFile.Read(SharedData.File("mot15", seq, "gt", "gt.txt")),
                    MotReplay.Run(SharedData.File("mot15", seq, "det", detections), options: options, fps: 25), seq)).ToList();
                s_cache[(detections, options)] = pooled = MotMetrics.Combine($"{detections} pooled", parts);
            }
            output.WriteLine($"{options.GetHashCode():x8} {pooled}  FP {pooled.FalsePositives}");
            return pooled;
        }
    }

    [Fact]
    public void Defaults_MeetTheIssueGoals_PooledAndPerSequence()
    {
        var d = new ByteTrackerOptions();
        MotMetrics pooled = Pooled("det-frcnn.txt", d);
        Assert.True(pooled.Mota >= 0.64, pooled.ToString());
        Assert.True(pooled.Idf1 >= 0.62, pooled.ToString());
        Assert.True(pooled.IdSwitches <= 70, pooled.ToString());
        // SORT's published MOTA on TUD-Campus with these detections (the only sequence of the two it published).
        MotMetrics campus = MotEvaluation.Evaluate(MotFile.Read(SharedData.File("mot15", "TUD-Campus", "gt", "gt.txt")),
            MotReplay.Run(SharedData.File("mot15", "TUD-Campus", "det", "det-frcnn.txt"), options: d, fps: 25));
        Assert.True(campus.Mota >= 0.627, campus.ToString());
    }

    [Fact]
    public void MinHits3_DropsFalseTracks_WithBothDetectors()
    {
        var d = new ByteTrackerOptions();
        foreach (string det in (string[])["det-frcnn.txt", "det-acf.txt"])
        {
            MotMetrics three = Pooled(det, d), two = Pooled(det, d with { MinHits = 2 });
            Assert.True(three.FalsePositives < two.FalsePositives, $"{det}: FP {three.FalsePositives} vs {two.FalsePositives} at min_hits 2");
            Assert.True(three.IdSwitches <= two.IdSwitches, $"{det}: IDSW {three.IdSwitches} vs {two.IdSwitches}");
        }
        // The price: a new object is reported a frame later (a few more misses), worth it where false detections abound.
        Assert.True(Pooled("det-acf.txt", d).Mota > Pooled("det-acf.txt", d with { MinHits = 2 }).Mota);
    }

    [Fact]
    public void NewTrackScore08_StartsFewerFalseAndDuplicateIds()
    {
        var d = new ByteTrackerOptions();
        MotMetrics high = Pooled("det-frcnn.txt", d), low = Pooled("det-frcnn.txt", d with { NewTrackScore = 0.7f });
        Assert.True(high.FalsePositives < low.FalsePositives, $"FP {high.FalsePositives} vs {low.FalsePositives}");
        Assert.True(high.IdSwitches <= low.IdSwitches, $"IDSW {high.IdSwitches} vs {low.IdSwitches}");
        Assert.True(high.Mota >= low.Mota);
    }

    [Fact]
    public void SharedDetections_KeepIdentitiesThroughMergedBoxes()
    {
        var d = new ByteTrackerOptions();
        MotMetrics on = Pooled("det-frcnn.txt", d), off = Pooled("det-frcnn.txt", d with { SharedDetectionIoU = 0 });
        Assert.True(on.IdSwitches < off.IdSwitches, $"IDSW {on.IdSwitches} vs {off.IdSwitches} without");
        Assert.True(on.Idf1 > off.Idf1, $"IDF1 {on.Idf1:P1} vs {off.Idf1:P1} without");
        // ACF's many false boxes make shared detections common: identities must not get worse there either.
        Assert.True(Pooled("det-acf.txt", d).IdSwitches <= Pooled("det-acf.txt", d with { SharedDetectionIoU = 0 }).IdSwitches);
    }

    [Fact]
    public void NewTrackMaxIoU_DropsDuplicateTracks_WithoutCostingTheCleanDetector()
    {
        var d = new ByteTrackerOptions();
        Assert.True(Pooled("det-acf.txt", d).FalsePositives < Pooled("det-acf.txt", d with { NewTrackMaxIoU = 1 }).FalsePositives);
        Assert.True(Pooled("det-frcnn.txt", d).Mota >= Pooled("det-frcnn.txt", d with { NewTrackMaxIoU = 1 }).Mota);
    }

    /// <summary>
    /// Alternatives studied and left off, each with what it cost on the Faster R-CNN detections: why it is not the default.
    /// </summary>
    public static TheoryData<string, ByteTrackerOptions, string> Alternatives => new()
    {
        { "lost_matching=after_tracked", new ByteTrackerOptions { LostMatching = LostTrackMatching.AfterTracked }, "idsw" },
        { "direction_weight=0.2", new ByteTrackerOptions { DirectionWeight = 0.2f }, "idf1" },
        { "lost_box_buffer=0.2", new ByteTrackerOptions { LostBoxBuffer = 0.2f }, "idsw" },
        { "lost_holds_size=true", new ByteTrackerOptions { LostHoldsSize = true }, "idsw" },
        { "lost_timeout_seconds=0.5", new ByteTrackerOptions { LostTimeoutSeconds = 0.5 }, "idf1" },
        { "report_detection_box=true", new ByteTrackerOptions { ReportDetectionBox = true }, "mota" },
    };

    [Theory]
    [MemberData(nameof(Alternatives))]
    public void StudiedAlternative_CostsWhatItsNoteSays(string name, ByteTrackerOptions alternative, string worse)
    {
        MotMetrics d = Pooled("det-frcnn.txt", new ByteTrackerOptions()), a = Pooled("det-frcnn.txt", alternative);
        string both = $"{name}: {a} / default: {d}";
        switch (worse)
        {
            case "idsw": Assert.True(a.IdSwitches > d.IdSwitches, both); break;
            case "idf1": Assert.True(a.Idf1 < d.Idf1, both); break;
            case "mota": Assert.True(a.Mota < d.Mota, both); break;
            default: throw new ArgumentOutOfRangeException(nameof(worse), worse, null);
        }
    }

    [Theory]
    [InlineData("refind_reupdate=true")]
    [InlineData("tentative_max_misses=1")]
    public void NeutralAlternative_ChangesLittleOnTheCleanDetector(string name)
    {
        ByteTrackerOptions alternative = name.StartsWith("refind", StringComparison.Ordinal)
            ? new ByteTrackerOptions { RefindReupdate = true }
            : new ByteTrackerOptions { TentativeMaxMisses = 1 };
        MotMetrics d = Pooled("det-frcnn.txt", new ByteTrackerOptions()), a = Pooled("det-frcnn.txt", alternative);
        Assert.InRange(a.IdSwitches, d.IdSwitches - 1, d.IdSwitches + 1);
        Assert.InRange(a.Mota, d.Mota - 0.005, d.Mota + 0.005);
        // Tentative tracks that may miss frames let more of ACF's flickering boxes through: why it stays 0.
        if (alternative.TentativeMaxMisses > 0)
            Assert.True(Pooled("det-acf.txt", alternative).FalsePositives > Pooled("det-acf.txt", new ByteTrackerOptions()).FalsePositives);
    }
}
