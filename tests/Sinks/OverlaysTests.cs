using StreamVision.Core;
using StreamVision.Analytics;
using static StreamVision.Analytics.Tests.AnalyticsTestData;

namespace StreamVision.Sinks.Tests;

public class OverlaysTests
{
    [Fact]
    public void NoZonesNoLinesNothingToDraw()
    {
        Assert.Empty(AnalyticsOverlays.Of(new StreamAnalytics(new AnalyticsOptions())));
        Assert.Empty(AnalyticsOverlays.Of(null));
    }

    private static int Lit(Frame f, int x0, int y0, int x1, int y1)
    {
        int n = 0;
        for (int y = y0; y < y1; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = x0; x < x1; x++) if ((row[3 * x] | row[3 * x + 1] | row[3 * x + 2]) != 0) n++;
        }
        return n;
    }

    [Fact]
    public void ZoneIsFilledOutlinedAndTaggedLineIsDrawnWithArrowAndCounts()
    {
        var a = new StreamAnalytics(new AnalyticsOptions
        {
            Zones = [new ZoneOptions { Name = "lobby", Polygon = [(0.1f, 0.5f), (0.4f, 0.5f), (0.4f, 0.9f), (0.1f, 0.9f)], Units = CoordinateUnits.Fraction, Color = "#00FF00" }],
            Lines = [new LineOptions { Name = "door", From = (400, 200), To = (600, 200), Color = "#FF0000" }],
        });
        a.Process(Frame(0, 0), [At(1, 500, 150)]);
        a.Process(Frame(1, 0.1), [At(1, 500, 260), At(2, 150, 400)]);
        Assert.Equal(1, a.Lines[0].InCount);
        Assert.Equal(1, a.Zones[0].InsideCount);

        var pool = new FramePool();
        var item = SinkTestData.Item(pool, 0, w: 640, h: 480);
        new Annotator(new AnnotatorOptions { Header = false }).Draw(item, item.Frame, AnalyticsOverlays.Of(a));
        var f = item.Frame;
        // Zone interior blended green (B and R stay 0), untouched far away.
        var inside = f.GetRowSpan(380).Slice(150 * 3, 3).ToArray();
        Assert.Equal(0, inside[0]);
        Assert.True(inside[1] > 20);
        Assert.Equal(0, inside[2]);
        Assert.Equal(0, Lit(f, 300, 0, 360, 100));
        // The line and, below it (the "in" side), the arrow.
        Assert.True(f.GetRowSpan(200)[500 * 3 + 2] > 200);
        Assert.True(Lit(f, 490, 205, 510, 230) > 0, "arrow on the in side");
        Assert.True(Lit(f, 400, 160, 600, 199) > 50, "tag with name and counts");
        item.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }
}
