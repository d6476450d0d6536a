using StreamVision.Core;
using StreamVision.Sinks.Analytics;
using static StreamVision.Sinks.Tests.Analytics.AnalyticsTestData;
namespace StreamVision.Sinks.Tests;
public class ZzScratch
{
    [Theory]
    [InlineData(640, 480)]
    [InlineData(1920, 1080)]
    public void Render(int w, int h)
    {
        var a = new StreamAnalytics(new AnalyticsOptions
        {
            Zones = [new ZoneOptions { Name = "lobby", Polygon = [(0.1f, 0.5f), (0.4f, 0.45f), (0.45f, 0.9f), (0.1f, 0.9f)], Units = CoordinateUnits.Fraction }],
            Lines = [new LineOptions { Name = "door", From = (0.55f, 0.4f), To = (0.95f, 0.5f), Units = CoordinateUnits.Fraction }],
        }, ["person"]);
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 256 << 20 });
        var item = SinkTestData.Item(pool, 0, [SinkTestData.Tracked(1, new Box(0.2f * w, 0.5f * h, 0.3f * w, 0.8f * h))], w: w, h: h);
        for (int y = 0; y < h; y++) { var r = item.Frame.GetRowSpan(y); for (int x = 0; x < r.Length; x++) r[x] = (byte)(60 + (x / 3 + y) % 80); }
        a.Process(item.Frame, item.Tracks);
        new Annotator(new AnnotatorOptions { ClassNames = ["person"] }).Draw(item, item.Frame, a.Overlays);
        File.WriteAllBytes($"/tmp/overlay-{w}.jpg", StreamVision.Native.Imaging.EncodeJpeg(item.Frame));
        item.Dispose();
    }
}
