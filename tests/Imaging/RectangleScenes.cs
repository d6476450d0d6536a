using StreamVision.Core;

namespace StreamVision.Imaging.Tests;

/// <summary>Synthetic scenes for the background subtractor's tests: grey pictures with filled rectangles as the objects.</summary>
internal static class RectangleScenes
{
    public const byte Background = 150;

    /// <summary>A still picture of grey <see cref="Background"/> with filled rectangles (x, y, w, h, grey level) on it.</summary>
    public static void Draw(Frame f, params (int X, int Y, int W, int H, byte Level)[] rects)
    {
        f.Data.Fill(Background);
        foreach (var (x, y, w, h, level) in rects)
            for (int r = y; r < y + h; r++) f.GetRowSpan(r).Slice(3 * x, 3 * w).Fill(level);
    }

    /// <summary>A model at full size (no downscale; no morphology unless the options ask) that has learned the empty picture.</summary>
    public static BackgroundSubtractor Trained(BackgroundSubtractorOptions options, Frame f)
    {
        var model = new BackgroundSubtractor(options with { History = 50, Downscale = 1, LearningRate = 0.005 });
        for (int i = 0; i < 20; i++)
        {
            Draw(f);
            model.Apply(f);
        }
        return model;
    }
}
