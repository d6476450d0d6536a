using StreamVision.Core;

namespace StreamVision.Inference.Tests;

public class NmsTests
{
    // Two people side by side (0, 1 overlap heavily), a car on top of person 0, and a lone car.
    private static readonly Detections s_candidates = new(
        [new Box(0, 0, 10, 10), new Box(1, 0, 11, 10), new Box(0, 1, 10, 11), new Box(50, 50, 60, 60)],
        [0.8f, 0.9f, 0.7f, 0.6f],
        [0, 0, 1, 1]);

    [Fact]
    public void ClassAwareSuppressesOnlyWithinAClass()
    {
        Assert.Equal([1, 2, 3], Nms.Run(s_candidates, 0.45f, 100));
    }

    [Fact]
    public void ClassAgnosticSuppressesAcrossClasses()
    {
        Assert.Equal([1, 3], Nms.Run(s_candidates, 0.45f, 100, classAware: false));
    }

    [Fact]
    public void MaxDetectionsStopsAfterTheBest()
    {
        Assert.Equal([1], Nms.Run(s_candidates, 0.45f, 1));
        Assert.Empty(Nms.Run(s_candidates, 0.45f, 0));
    }

    [Fact]
    public void HighThresholdKeepsEverythingBestFirst()
    {
        Assert.Equal([1, 0, 2, 3], Nms.Run(s_candidates, 0.99f, 100));
    }

    [Fact]
    public void EqualScoresKeepRowOrderAndNegativeScoresSortBelowPositive()
    {
        var d = new Detections(
            [new Box(0, 0, 1, 1), new Box(10, 0, 11, 1), new Box(20, 0, 21, 1), new Box(30, 0, 31, 1), new Box(40, 0, 41, 1)],
            [0.5f, -1f, 0.5f, 2f, float.NaN],
            [0, 0, 0, 0, 0]);
        Assert.Equal([3, 0, 2, 1, 4], Nms.Run(d, 0.5f, 10));
    }

    [Fact]
    public void SpanFormWritesIntoTheCallersBuffers()
    {
        Span<int> keep = stackalloc int[2];
        Span<ulong> scratch = stackalloc ulong[4];
        int n = Nms.Run(s_candidates.Boxes, s_candidates.Scores, s_candidates.ClassIds, 0.45f, true, keep, scratch);
        Assert.Equal(2, n);
        Assert.Equal([1, 2], keep.ToArray());
        Assert.Throws<ArgumentException>(() => Nms.Run(s_candidates.Boxes, s_candidates.Scores, s_candidates.ClassIds, 0.45f, true, new int[4], new ulong[3]));
    }

    [Fact]
    public void EmptyInputKeepsNothing()
    {
        Assert.Empty(Nms.Run(Detections.Empty, 0.5f, 10));
    }
}
