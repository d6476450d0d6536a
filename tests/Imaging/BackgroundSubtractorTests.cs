using StreamVision.Core;

namespace StreamVision.Imaging.Tests;

public class BackgroundSubtractorTests
{
    /// <summary>A still grey 160x120 picture with white squares (x, y, side) on it.</summary>
    private static void Draw(Frame f, params (int X, int Y, int Side)[] squares)
    {
        f.Data.Fill(90);
        foreach (var (x, y, side) in squares)
            for (int r = y; r < y + side; r++) f.GetRowSpan(r).Slice(3 * x, 3 * side).Fill(240);
    }

    [Fact]
    public void FindsAMovingSquareWhereItIs()
    {
        using var model = new BackgroundSubtractor(new BackgroundSubtractorOptions { History = 50, MinArea = 100 });
        using var f = Frame.CreateUnpooled(160, 120);
        for (int i = 0; i < 20; i++)
        {
            Draw(f);
            Assert.Empty(model.Apply(f));   // a still scene: nothing moves
        }
        // 8 px a frame: no pixel stays covered for more than three frames (MOG2 starts to take a colour that stays about
        // four frames into the background while its model is young).
        int hits = 0;
        for (int i = 0; i < 17; i++)
        {
            int x = 10 + 8 * i;
            Draw(f, (x, 50, 20));
            var boxes = model.Apply(f);
            Assert.True(boxes.Length <= 1, $"frame {i}: {boxes.Length} boxes");
            if (boxes.Length == 0) continue;
            hits++;
            // Analysed at half size (the default): edges within a couple of full-frame pixels.
            Assert.InRange(boxes[0].X1, x - 3, x + 3);
            Assert.InRange(boxes[0].Y1, 50 - 3, 50 + 3);
            Assert.InRange(boxes[0].Width, 20 - 4, 20 + 6);
            Assert.InRange(boxes[0].Height, 20 - 4, 20 + 6);
        }
        Assert.True(hits >= 15, $"square found in {hits} of 17 frames");
    }

    [Fact]
    public void ReportsTheLargestBlobsFirstUpToTheLimit()
    {
        var options = new BackgroundSubtractorOptions { History = 50, MinArea = 50, Downscale = 1 };
        using var all = new BackgroundSubtractor(options);
        using var one = new BackgroundSubtractor(options with { MaxObjects = 1 });
        using var f = Frame.CreateUnpooled(160, 120);
        for (int i = 0; i < 20; i++)
        {
            Draw(f);
            all.Apply(f);
            one.Apply(f);
        }
        Draw(f, (10, 10, 12), (80, 60, 30), (130, 10, 20));
        var boxes = all.Apply(f);
        Assert.Equal(3, boxes.Length);
        Assert.Equal([30f, 20f, 12f], boxes.Select(b => b.Width).ToArray());
        Assert.Equal(Box.FromXywh(80, 60, 30, 30), boxes[0]);
        var single = one.Apply(f);
        Assert.Equal(Box.FromXywh(80, 60, 30, 30), Assert.Single(single));
    }

    [Fact]
    public void BlobsBelowTheMinimumAreaAreIgnored()
    {
        using var model = new BackgroundSubtractor(new BackgroundSubtractorOptions { History = 50, MinArea = 500, Downscale = 1 });
        using var f = Frame.CreateUnpooled(160, 120);
        for (int i = 0; i < 20; i++)
        {
            Draw(f);
            model.Apply(f);
        }
        Draw(f, (10, 10, 12), (80, 60, 30));   // 144 and 900 pixels
        Assert.Equal(Box.FromXywh(80, 60, 30, 30), Assert.Single(model.Apply(f)));
    }

    [Fact]
    public void DisposedModelRefusesFrames()
    {
        var model = new BackgroundSubtractor();
        using var f = Frame.CreateUnpooled(64, 48);
        model.Apply(f);
        model.Dispose();
        model.Dispose();
        Assert.Throws<ObjectDisposedException>(() => model.Apply(f));
    }
}
