using StreamVision.Core;
using static StreamVision.Imaging.Tests.RectangleScenes;

namespace StreamVision.Imaging.Tests;

/// <summary>The options that cut blobs into people by shape and place, and score them: head splitting, the frame's sides, fill scores.</summary>
public class BackgroundSubtractorHeadTests
{
    private static readonly BackgroundSubtractorOptions Plain = new() { MinArea = 20, MorphKernel = 0, ObjectAspect = 0.4 };

    // Two people side by side, touching: heads 8x10 on 20x60 bodies, their heads 20 px apart (centres x = 50 and 70), the
    // second 2 px lower. Together 40 px wide and 72 tall: less than 1.5 people (0.4 x 72 = 28.8 each), so the width alone
    // does not split them.
    private static readonly (int, int, int, int, byte)[] Pair = [(46, 20, 8, 10, 40), (40, 30, 20, 60, 40), (66, 22, 8, 10, 40), (60, 32, 20, 60, 40)];

    [Fact]
    public void HeadSplit_SeparatesTouchingPeopleAtTheirHeads()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        using (var byWidth = Trained(Plain, f))
        {
            Draw(f, Pair);
            Assert.Equal(Box.FromXywh(40, 20, 40, 72), Assert.Single(byWidth.Apply(f)));
        }
        using var byHeads = Trained(Plain with { HeadSplit = true, HeadSeparation = 0.5 }, f);
        Draw(f, Pair);
        var parts = byHeads.Apply(f).OrderBy(b => b.X1).ToArray();
        Assert.Equal(2, parts.Length);
        // One box per head, centred on it, from the head's top down (the blob's bottom: no size prior here).
        Assert.InRange(parts[0].CenterX, 48, 52);
        Assert.InRange(parts[1].CenterX, 68, 72);
        Assert.Equal((20f, 22f), (parts[0].Y1, parts[1].Y1));
        Assert.Equal((92f, 92f), (parts[0].Y2, parts[1].Y2));
        // Heads closer than head_separation (0.8 x 0.4 x 70 = 22.4 px for the lower head) are one person's shoulders.
        using var close = Trained(Plain with { HeadSplit = true, HeadSeparation = 0.8 }, f);
        Draw(f, Pair);
        Assert.Single(close.Apply(f));
    }

    [Fact]
    public void HeadSplit_WorksAloneWithAPersonsWidthOfFourTenthsOfTheirHeight()
    {
        // object_aspect 0 (no splitting by width): head_split takes a person as 0.4 of their height wide by itself. It
        // used to read a mask copy only width splitting, memory_split or fill_score made, and threw on the first blob.
        using var f = Frame.CreateUnpooled(160, 120);
        using var model = Trained(Plain with { ObjectAspect = 0, HeadSplit = true, HeadSeparation = 0.5 }, f);
        Draw(f, Pair);
        var parts = model.Apply(f).OrderBy(b => b.X1).ToArray();
        Assert.Equal(2, parts.Length);
        Assert.InRange(parts[0].CenterX, 48, 52);
        Assert.InRange(parts[1].CenterX, 68, 72);
    }

    [Fact]
    public void HeadSplit_FindsTheHeadsOfWalkersWithoutTheDifferencingsTrails()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        using var model = Trained(Plain with { HeadSplit = true, HeadSeparation = 0.5, FrameDifference = 20, MotionGap = 1 }, f);
        (int, int, int, int, byte)[] At(int dx) => Pair.Select(p => (p.Item1 + dx, p.Item2, p.Item3, p.Item4, p.Item5)).ToArray();
        Draw(f, At(0));
        model.Apply(f);
        // 12 px on: the differencing adds the places they left, the heads' among them (a 12-px strip left of each head).
        Draw(f, At(12));
        var parts = model.Apply(f).OrderBy(b => b.X1).ToArray();
        Assert.Equal(2, parts.Length);
        Assert.InRange(parts[0].CenterX, 60, 64); // the heads where they are now (50 + 12, 70 + 12), not between them and their strips
        Assert.InRange(parts[1].CenterX, 80, 84);
    }

    [Fact]
    public void HeadSplit_TakesNeitherALowObjectNorAThinOutlineForAHead()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        // A person with a suitcase at their side: its top is 50 px below the head, beyond head_band (0.4 x 72 = 28.8).
        (int, int, int, int, byte)[] suitcase = [(46, 20, 8, 10, 40), (40, 30, 20, 60, 40), (60, 70, 20, 22, 40)];
        using (var model = Trained(Plain with { HeadSplit = true, HeadSeparation = 0.5 }, f))
        {
            Draw(f, suitcase);
            Assert.Single(model.Apply(f));
        }
        // A "head" on a pole joined to a person by a thin bar: its box is under a fifth foreground, below head_fill.
        (int, int, int, int, byte)[] pole = [(46, 20, 8, 10, 40), (40, 30, 20, 60, 40), (76, 22, 8, 10, 40), (79, 32, 2, 60, 40), (60, 60, 19, 3, 40)];
        var options = Plain with { HeadSplit = true, HeadSeparation = 0.5, SplitFactor = 3 };
        using (var model = Trained(options, f))
        {
            Draw(f, pole);
            Assert.Single(model.Apply(f));
        }
        using (var any = Trained(options with { HeadFill = 0 }, f))
        {
            Draw(f, pole);
            Assert.Equal(2, any.Apply(f).Length);
        }
    }

    [Fact]
    public void HeadSplit_WaitsForTheSizePriorAndThenUsesItsHeight()
    {
        using var f = Frame.CreateUnpooled(320, 240);
        // People whose height grows with their top row (height = 0.5 top + 40) teach the size prior.
        (int, int, int, int, byte)[] people = [(20, 20, 20, 50, 40), (120, 40, 24, 60, 40), (220, 60, 28, 70, 40)];
        // The pair with heads at rows 40 and 42 (people 60 and 61 px tall), standing on a 30 px shadow (rows 100..130).
        (int, int, int, int, byte)[] pair = [(96, 40, 8, 10, 40), (90, 50, 20, 50, 40), (118, 42, 8, 10, 40), (112, 52, 20, 48, 40), (90, 100, 42, 30, 60)];
        using var model = Trained(Plain with { HeadSplit = true, HeadSeparation = 0.5, SizePrior = true, SizePriorSamples = 20 }, f);
        Draw(f, pair);
        Assert.Single(model.Apply(f)); // the prior is not fitted yet: no heads
        for (int i = 0; i < 8; i++)
        {
            Draw(f, people);
            model.Apply(f);
        }
        Draw(f, pair);
        var parts = model.Apply(f).OrderBy(b => b.X1).ToArray();
        Assert.Equal(2, parts.Length);
        Assert.InRange(parts[0].Height, 58, 62);
        Assert.InRange(parts[1].Height, 59, 63);
        Assert.InRange(parts[0].CenterX, 98, 102);
        Assert.InRange(parts[1].CenterX, 120, 124);
    }

    [Fact]
    public void EdgeWidth_DropsSliversOfPeopleAtTheFramesSides()
    {
        using var f = Frame.CreateUnpooled(320, 240);
        (int, int, int, int, byte)[] people = [(20, 20, 20, 50, 40), (120, 40, 24, 60, 40), (220, 60, 28, 70, 40)];
        // At row 40 a person is 60 tall and 0.4 x 60 = 24 wide: an 8-px sliver at the left side, a 20-px one at the right,
        // and an 8-px-wide object inside the picture.
        (int, int, int, int, byte)[] test = [(0, 40, 8, 60, 40), (300, 40, 20, 60, 40), (150, 40, 8, 60, 40)];
        foreach (double edge in new[] { 0.0, 0.5 })
        {
            using var model = Trained(Plain with { SizePrior = true, SizePriorSamples = 20, EdgeWidth = edge }, f);
            for (int i = 0; i < 8; i++)
            {
                Draw(f, people);
                model.Apply(f);
            }
            Draw(f, test);
            var boxes = model.Apply(f).OrderBy(b => b.X1).Select(b => b.X1).ToArray();
            Assert.Equal(edge == 0 ? [0f, 150f, 300f] : [150f, 300f], boxes);
        }
    }

    [Fact]
    public void FillScore_ScoresAnOutlineBelowASolidBlob()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        // A solid 20x60 body and a 20x60 frame of 2-px lines (a quarter of its box).
        (int, int, int, int, byte)[] scene = [(20, 30, 20, 60, 40), (100, 30, 20, 2, 40), (100, 88, 20, 2, 40), (100, 30, 2, 60, 40), (118, 30, 2, 60, 40)];
        using (var plain = Trained(Plain with { ObjectAspect = 0 }, f))
        {
            Draw(f, scene);
            Assert.Equal(2, plain.Apply(f).Length);
            Assert.Equal([1f, 1f], plain.LastScores);
        }
        using var scored = Trained(Plain with { ObjectAspect = 0, FillScore = 0.5 }, f);
        Draw(f, scene);
        var boxes = scored.Apply(f);
        var solid = Array.FindIndex(boxes, b => b.X1 < 50);
        Assert.Equal(1f, scored.LastScores[solid]);
        Assert.InRange(scored.LastScores[1 - solid], 0.45f, 0.6f); // fill 0.25 over 0.5
    }

    [Theory]
    [InlineData("head_separation")]
    [InlineData("head_prominence")]
    [InlineData("head_band")]
    [InlineData("head_fill")]
    [InlineData("fill_score")]
    [InlineData("edge_width")]
    public void InvalidValuesNameTheKey(string key)
    {
        var bad = key switch
        {
            "head_separation" => new BackgroundSubtractorOptions { HeadSeparation = 0 },
            "head_prominence" => new BackgroundSubtractorOptions { HeadProminence = -0.1 },
            "head_band" => new BackgroundSubtractorOptions { HeadBand = 2 },
            "head_fill" => new BackgroundSubtractorOptions { HeadFill = double.NaN },
            "fill_score" => new BackgroundSubtractorOptions { FillScore = 1.5 },
            _ => new BackgroundSubtractorOptions { EdgeWidth = -1 },
        };
        var ex = Assert.Throws<OptionsException>(() => new BackgroundSubtractor(bad));
        Assert.Equal($"detector.motion.{key}", ex.Path);
    }
}
