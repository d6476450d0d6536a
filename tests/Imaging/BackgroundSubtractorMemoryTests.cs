using StreamVision.Core;
using static StreamVision.Imaging.Tests.RectangleScenes;

namespace StreamVision.Imaging.Tests;

/// <summary>The options that use what the subtractor saw before: memory splitting of groups, the scene size prior, the median seed.</summary>
public class BackgroundSubtractorMemoryTests
{
    private static readonly BackgroundSubtractorOptions Plain = new() { MinArea = 20, MorphKernel = 0 };

    [Fact]
    public void MemorySplit_KeepsTwoWalkersApartWhileTheirBlobsMergeAndPart()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        foreach (bool memory in new[] { false, true })
        {
            using var model = Trained(Plain with { MemorySplit = memory }, f);
            int merged = 0;
            for (int i = 0; i <= 26; i++)
            {
                // A walks right from x = 10, B left from x = 110, 3 px a frame: their 20-pixel bodies touch or overlap in frames 14..20.
                int ax = 10 + 3 * i, bx = 110 - 3 * i;
                Draw(f, (ax, 30, 20, 60, 40), (bx, 30, 20, 60, 40));
                var boxes = model.Apply(f);
                var scores = model.LastScores;
                Assert.Equal(boxes.Length, scores.Length);
                bool together = Math.Abs(ax - bx) <= 20;
                if (!together)
                {
                    Assert.True(boxes.Length == 2, $"memory {memory}, frame {i}: {string.Join(" ", boxes)}");
                    Assert.All(scores, s => Assert.Equal(1f, s));
                    continue;
                }
                merged++;
                if (!memory)
                {
                    // One box around the group.
                    Assert.Equal(Box.FromXywh(Math.Min(ax, bx), 30, Math.Abs(ax - bx) + 20, 60), Assert.Single(boxes));
                    continue;
                }
                // Two boxes where the two walkers are, each scored as predicted.
                Assert.True(boxes.Length == 2, $"frame {i}: {string.Join(" ", boxes)}");
                Assert.All(scores, s => Assert.Equal(0.6f, s));
                var centres = boxes.Select(b => b.CenterX).Order().ToArray();
                Assert.InRange(centres[0], Math.Min(ax, bx) + 10 - 4, Math.Min(ax, bx) + 10 + 4);
                Assert.InRange(centres[1], Math.Max(ax, bx) + 10 - 4, Math.Max(ax, bx) + 10 + 4);
                Assert.All(boxes, b => Assert.InRange(b.Width, 16, 20));
            }
            Assert.Equal(7, merged);
        }
    }

    [Fact]
    public void MemorySplit_ForgetsAnObjectCarriedTooLong()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        using var model = Trained(Plain with { MemorySplit = true, MemoryFrames = 3 }, f);
        // Two people walk into one spot and stand there together as one blob: after memory_frames, one box again.
        for (int i = 0; i < 5; i++)
        {
            Draw(f, (20 + 4 * i, 30, 20, 60, 40), (80 - 4 * i, 30, 20, 60, 40));
            Assert.Equal(2, model.Apply(f).Length);
        }
        var counts = new List<int>();
        for (int i = 0; i < 8; i++)
        {
            Draw(f, (40, 30, 44, 60, 40));
            counts.Add(model.Apply(f).Length);
        }
        Assert.True(counts[0] == 2, string.Join(",", counts));
        Assert.Equal(1, counts[^1]);
    }

    [Fact]
    public void SizePrior_CutsShadowTailsAndWideBoxesToTheFittedPersonSize()
    {
        using var f = Frame.CreateUnpooled(320, 240);
        // People whose height grows with their top row: 50 px at y = 20, 60 at y = 40, 70 at y = 60 (height = 0.5 top + 40).
        (int, int, int, int, byte)[] people = [(20, 20, 20, 50, 40), (120, 40, 24, 60, 40), (220, 60, 28, 70, 40)];
        // Then one at y = 30 (55 px) with a 25-pixel cast shadow below its feet, and a 60x60 blob (two people abreast) at y = 40.
        (int, int, int, int, byte)[] test = [(100, 30, 22, 55, 40), (100, 85, 22, 25, 60), (200, 40, 60, 60, 40)];
        foreach (bool prior in new[] { false, true })
        {
            using var model = Trained(Plain with { SizePrior = prior, SizePriorSamples = 20 }, f);
            for (int i = 0; i < 8; i++)
            {
                Draw(f, people);
                Assert.Equal(3, model.Apply(f).Length);
            }
            Draw(f, test);
            var boxes = model.Apply(f).OrderBy(b => b.X1).ToArray();
            Assert.Equal(2, boxes.Length);
            if (!prior)
            {
                Assert.Equal(Box.FromXywh(100, 30, 22, 80), boxes[0]);
                Assert.Equal(Box.FromXywh(200, 40, 60, 60), boxes[1]);
                continue;
            }
            // The tail is cut off (0.5 x 30 + 40 = 55); the wide blob keeps its height and is narrowed to 0.4 x 60 = 24 about its centre.
            Assert.Equal(30f, boxes[0].Y1);
            Assert.InRange(boxes[0].Height, 53, 57);
            Assert.Equal(22f, boxes[0].Width);
            Assert.InRange(boxes[1].Width, 23, 25);
            Assert.InRange(boxes[1].CenterX, 229, 231);
            Assert.Equal(60f, boxes[1].Height);
        }
    }

    [Fact]
    public void SeedFrames_RestartsTheModelFromTheMedianPictureWithoutThePeople()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        foreach (bool seed in new[] { false, true })
        {
            // Automatic learning rate: the first frames are learned fast, someone standing in them included, and the
            // walker's own trail with them, so only the front of the walker shows.
            using var model = new BackgroundSubtractor(Plain with { History = 50, Downscale = 1, SeedFrames = seed ? 10 : 0 });
            Box[] after = [];
            for (int i = 0; i <= 10; i++)
            {
                // Stands at x = 10 for 3 frames, then walks right 7 px a frame (x = 66 in the eleventh frame, the first after the seed).
                Draw(f, (i < 3 ? 10 : 10 + 7 * (i - 2), 30, 20, 60, 40));
                var boxes = model.Apply(f);
                if (i == 10) after = boxes;
            }
            // After the restart from the median of the ten frames (the empty street), the walker is found whole.
            var walker = Assert.Single(after);
            if (seed) Assert.Equal(Box.FromXywh(66, 30, 20, 60), walker);
            else Assert.True(walker.Width < 16, $"without the seed only the walker's front shows: {walker}");
        }
    }

    [Fact]
    public void FrameDifference_FillsAWalkerWhoseBodyMatchesTheBackground()
    {
        using var f = Frame.CreateUnpooled(160, 120);
        foreach (int difference in new[] { 0, 3 })
        {
            using var model = Trained(Plain with { FrameDifference = difference, MotionGap = 1 }, f);
            Box[] last = [];
            int x = 0;
            for (int i = 0; i < 6; i++)
            {
                // A dark head (20x10) on a body (20x50) 5 grey levels off the background, walking 8 px a frame.
                x = 20 + 8 * i;
                Draw(f, (x, 30, 20, 10, 40), (x, 40, 20, 50, Background - 5));
                last = model.Apply(f);
            }
            var box = Assert.Single(last);
            if (difference == 0)
            {
                // The background model sees the head only.
                Assert.Equal(Box.FromXywh(x, 30, 20, 10), box);
                continue;
            }
            // The body's leading and trailing edges changed since the frame before: the blob reaches the feet (with the trail).
            Assert.Equal(30f, box.Y1);
            Assert.Equal(90f, box.Y2);
            Assert.True(box.X1 <= x && box.X2 >= x + 20, $"{box} covers the walker at x = {x}");
        }
    }
}
