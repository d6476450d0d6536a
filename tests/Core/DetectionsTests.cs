using StreamVision.Core;

namespace StreamVision.Core.Tests;

public class DetectionsTests
{
    private static Detections Three() => new(
        [new Box(0, 0, 10, 10), new Box(5, 5, 15, 15), new Box(100, 100, 110, 120)],
        [0.9f, 0.3f, 0.6f],
        [0, 1, 0]);

    [Fact]
    public void WhereKeepsSourceIndexAndLeavesOriginalUnchanged()
    {
        var d = Three();
        var high = d.WithMinScore(0.5f);
        Assert.Equal(2, high.Count);
        Assert.Equal([0, 2], high.SourceIndex.ToArray());
        Assert.Equal(3, d.Count);
        var again = high.Where(i => high.ClassIds[i] == 0 && high.Scores[i] < 0.7f);
        Assert.Equal([2], again.SourceIndex.ToArray());
    }

    [Fact]
    public void MismatchedColumnsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => new Detections([new Box(0, 0, 1, 1)], [0.5f, 0.2f], [0]));
        Assert.Throws<ArgumentException>(() => new Detections([new Box(0, 0, 1, 1)], [0.5f], [0], keypoints: [1f, 2f, 3f], keypointsPerBox: 1));
    }

    [Fact]
    public void IoUOfKnownBoxes()
    {
        var a = new Box(0, 0, 10, 10);
        var b = new Box(5, 0, 15, 10);
        Assert.Equal(50f / 150f, a.IoU(b), 5);
        Assert.Equal(0f, a.IoU(new Box(20, 20, 30, 30)));
        Assert.Equal(1f, a.IoU(a), 5);
    }
}
