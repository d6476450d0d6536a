using StreamVision.Core;
using static StreamVision.Analytics.Tests.AnalyticsTestData;

namespace StreamVision.Analytics.Tests;

/// <summary>Zones that count a segmentation mask's area, and the classifier's answers in track events.</summary>
public class MaskAndClassificationTests
{
    /// <summary>A filled w x h mask at (x, y).</summary>
    private static InstanceMask Rect(int x, int y, int w, int h)
    {
        var data = new byte[w * h];
        Array.Fill(data, (byte)1);
        return new InstanceMask(x, y, w, h, data, [x, y, x + w, y, x + w, y + h, x, y + h]);
    }

    [Fact]
    public void TheFractionOfAMaskInsideAPolygonIsMeasuredOnItsPixels()
    {
        float[] zone = [100, 0, 200, 0, 200, 100, 100, 100];
        Assert.Equal(0.25, Geometry.MaskFractionInPolygon(Rect(70, 10, 40, 20), zone), 2);  // 10 of 40 columns inside
        Assert.Equal(1.0, Geometry.MaskFractionInPolygon(Rect(120, 10, 20, 20), zone), 3);
        Assert.Equal(0.0, Geometry.MaskFractionInPolygon(Rect(0, 0, 50, 50), zone), 3);
        // A large mask is sampled, still close to the true fraction (half of it inside).
        Assert.Equal(0.5, Geometry.MaskFractionInPolygon(Rect(150, 0, 100, 100), zone), 1);
        Assert.Equal(0.0, Geometry.MaskFractionInPolygon(new InstanceMask(0, 0, 0, 0, [], []), zone));
    }

    [Fact]
    public void AMaskZoneCountsTheAreaInsideAndFallsBackToTheAnchorWithoutAMask()
    {
        var zone = new PolygonZone(new ZoneOptions
        {
            Name = "bay", Polygon = [(100, 0), (200, 0), (200, 100), (100, 100)], Occupancy = ZoneOccupancy.Mask, MinOccupancy = 0.2,
        });
        // Anchor (bottom centre) at (80, 50): outside; but 30 % of its mask (x 70..110) lies inside.
        var reaching = At(1, 80, 50) with { Mask = Rect(70, 10, 40, 40) };
        var r = zone.Trigger([reaching], TimeSpan.FromSeconds(1), 640, 480);
        Assert.Equal(ZoneTransition.Entered, r[0].Transition);
        // The same box without a mask: its anchor decides (outside) and it exits.
        r = zone.Trigger([At(1, 80, 50)], TimeSpan.FromSeconds(2), 640, 480);
        Assert.Equal(ZoneTransition.Exited, r[0].Transition);
        Assert.Equal("bay.min_occupancy", Assert.Throws<OptionsException>(() =>
            new ZoneOptions { Name = "bay", Polygon = [(0, 0), (1, 0), (1, 1)], MinOccupancy = 0 }.Validate("bay")).Path);
    }

    [Fact]
    public void TrackClassifiedIsRaisedOnTheFirstLabelAndOnAChangeAndTrackEndedCarriesTheLast()
    {
        var emitter = new TrackEventEmitter(["car"]);
        var red = new TrackClassification("red", 0.9f, [new("red", 0.9f), new("blue", 0.1f)], "colours.onnx", 1);
        var blue = red with { Label = "blue", Score = 0.8f, ClassifiedAtHits = 31 };
        var mask = Rect(10, 10, 20, 20);
        var e1 = emitter.Process(Frame(1, 0.1), [At(7, 50, 50) with { Classification = red, Mask = mask }]);
        Assert.Equal([EventTypes.TrackStarted, EventTypes.TrackClassified], e1.Select(e => e.Type));
        Assert.Equal(8, e1[0].Polygon!.Count);
        Assert.Same(red, e1[1].Classification);
        Assert.Empty(emitter.Process(Frame(2, 0.2), [At(7, 52, 50) with { Classification = red with { ClassifiedAtHits = 2 } }]));
        var e3 = emitter.Process(Frame(3, 0.3), [At(7, 54, 50) with { Classification = blue }]);
        Assert.Equal("blue", Assert.Single(e3, e => e.Type == EventTypes.TrackClassified).Classification!.Label);
        var ended = emitter.Process(Frame(4, 0.4), [At(7, 54, 50, state: TrackState.Removed)]);
        Assert.Equal("blue", Assert.Single(ended).Classification!.Label);
    }
}
