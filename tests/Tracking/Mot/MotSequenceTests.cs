using StreamVision.Tracking.Mot;

namespace StreamVision.Tracking.Tests.Mot;

public class MotSequenceTests
{
    [Fact]
    public void Discover_FindsEverySequenceOfAFolder_InNameOrder()
    {
        var all = MotSequence.Discover(Path.Combine(SharedData.Root, "mot15"));
        Assert.Equal(["TUD-Campus", "TUD-Stadtmitte"], all.Select(s => s.Name));
        Assert.All(all, s => Assert.True(File.Exists(s.GroundTruthPath), s.GroundTruthPath));
        Assert.All(all, s => Assert.True(File.Exists(s.DetectionsPath("det-frcnn.txt"))));
        Assert.Equal(Path.Combine("results", "TUD-Campus.txt"), all[0].TracksPath("results"));
        Assert.Null(all[0].FrameRate); // no seqinfo.ini here

        // A sequence folder itself is a set of one.
        var one = MotSequence.Discover(Path.Combine(SharedData.Root, "mot15", "TUD-Campus"));
        Assert.Equal("TUD-Campus", Assert.Single(one).Name);
    }

    [Fact]
    public void FrameRate_ComesFromSeqinfo_AndMistakesAreNamed()
    {
        string root = Path.Combine(Path.GetTempPath(), $"sv-seq-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(Path.Combine(root, "B", "det"));
            Directory.CreateDirectory(Path.Combine(root, "A", "gt"));
            Directory.CreateDirectory(Path.Combine(root, "not-a-sequence"));
            File.WriteAllText(Path.Combine(root, "A", "seqinfo.ini"), "[Sequence]\nname=A\nframeRate=30\nseqLength=10\n");
            File.WriteAllText(Path.Combine(root, "B", "seqinfo.ini"), "[Sequence]\nframeRate=fast\n");
            var seqs = MotSequence.Discover(root);
            Assert.Equal(["A", "B"], seqs.Select(s => s.Name));
            Assert.Equal(30, seqs[0].FrameRate);
            Assert.Null(seqs[1].FrameRate);

            var empty = Assert.Throws<FileNotFoundException>(() => MotSequence.Discover(Path.Combine(root, "not-a-sequence")));
            Assert.Contains("not-a-sequence", empty.Message);
            Assert.Throws<DirectoryNotFoundException>(() => MotSequence.Discover(Path.Combine(root, "missing")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
