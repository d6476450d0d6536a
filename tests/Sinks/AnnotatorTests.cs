using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class AnnotatorTests
{
    private static int Changed(Frame f, int x0, int y0, int x1, int y1)
    {
        int n = 0;
        for (int y = y0; y < y1; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = x0; x < x1; x++) if ((row[3 * x] | row[3 * x + 1] | row[3 * x + 2]) != 0) n++;
        }
        return n;
    }

    [Theory]
    [InlineData(320, 240)]
    [InlineData(3840, 2160)]
    public void DrawsTrackBoxAndLabelScaledToTheFrame(int w, int h)
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 256L << 20 });
        var box = new Box(w * 0.3f, h * 0.4f, w * 0.6f, h * 0.8f);
        using var item = SinkTestData.Item(pool, 0, [SinkTestData.Tracked(7, box)], w: w, h: h);
        var a = new Annotator(new AnnotatorOptions { ClassNames = ["face"], Header = false });
        a.Draw(item, item.Frame);
        int thick = Math.Max(1, (int)Math.Round(2 * Math.Max(0.35, h / 720.0)));
        // The box's left edge is drawn, its inside is not, the far corner of the frame is untouched.
        Assert.True(Changed(item.Frame, (int)box.X1, (int)box.Y1 + 5, (int)box.X1 + thick, (int)box.Y2 - 5) > 0);
        Assert.Equal(0, Changed(item.Frame, (int)box.X1 + thick + 2, (int)box.Y1 + thick + 2, (int)box.X2 - thick - 2, (int)box.Y2 - thick - 2));
        Assert.Equal(0, Changed(item.Frame, w - w / 10, h - h / 10, w, h));
        // The label sits above the box and grows with the frame.
        int labelArea = Changed(item.Frame, (int)box.X1, 0, (int)box.X2, (int)box.Y1);
        Assert.True(labelArea > (h > 1000 ? 4000 : 300), $"label pixels {labelArea}");
    }

    [Fact]
    public void ObscuredClassIsPixelatedNotBoxed()
    {
        var pool = new FramePool();
        using var item = SinkTestData.Item(pool, 0, [SinkTestData.Tracked(1, new Box(10, 10, 50, 40))], w: 64, h: 48);
        var px = item.Frame;
        for (int y = 0; y < 48; y++)
        {
            var row = px.GetRowSpan(y);
            for (int x = 0; x < row.Length; x++) row[x] = (byte)((x * 31 + y * 17) & 0xFF);
        }
        var before = px.GetRowSpan(25).ToArray();
        new Annotator(new AnnotatorOptions { ClassNames = ["face"], ObscureClasses = new HashSet<string> { "face" }, Header = false, Labels = false })
            .Draw(item, px);
        var after = px.GetRowSpan(25);
        Assert.False(before.AsSpan(10 * 3, 40 * 3).SequenceEqual(after.Slice(10 * 3, 40 * 3)));
        Assert.True(before.AsSpan(55 * 3, 9 * 3).SequenceEqual(after.Slice(55 * 3, 9 * 3)), "outside the box is untouched");
    }

    [Fact]
    public void TrailStateIsDroppedWhenTheTrackEnds()
    {
        var pool = new FramePool();
        var a = new Annotator(new AnnotatorOptions { Header = false });
        for (int i = 0; i < 5; i++)
        {
            using var item = SinkTestData.Item(pool, i, [SinkTestData.Tracked(3, new Box(5 + i, 5, 20 + i, 20))]);
            a.Draw(item, item.Frame);
        }
        Assert.Equal(1, a.TrailCount);
        var removed = SinkTestData.Tracked(3, new Box(9, 5, 24, 20)) with { State = TrackState.Removed };
        using (var item = SinkTestData.Item(pool, 5, [removed])) a.Draw(item, item.Frame);
        Assert.Equal(0, a.TrailCount);
        Assert.Equal(0, pool.Outstanding);
    }
}
