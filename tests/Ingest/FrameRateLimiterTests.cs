namespace StreamVision.Ingest.Tests;

public class FrameRateLimiterTests
{
    private static List<int> Kept(double sourceFps, double maxFps, int frames)
    {
        var limiter = new FrameRateLimiter(maxFps);
        var kept = new List<int>();
        for (int i = 0; i < frames; i++)
        {
            var pts = TimeSpan.FromMicroseconds(Math.Round(i * 1e6 / sourceFps));
            if (limiter.ShouldKeep(pts)) kept.Add(i);
        }
        return kept;
    }

    [Fact]
    public void ZeroKeepsEveryFrame() => Assert.Equal(100, Kept(25, 0, 100).Count);

    [Fact]
    public void TwentyFiveToFiveKeepsEveryFifth() => Assert.Equal([0, 5, 10, 15, 20], Kept(25, 5, 25));

    [Fact]
    public void TwentyFiveToTenKeepsTenASecondOnASteadyGrid()
    {
        var kept = Kept(25, 10, 250);
        Assert.Equal(100, kept.Count);
        Assert.Equal([0, 3, 5, 8, 10, 13, 15], kept.Take(7));
    }

    [Fact]
    public void NtscRoundingLosesNoFrame() => Assert.Equal(150, Kept(30000.0 / 1001, 30000.0 / 1001 / 2, 300).Count);

    [Fact]
    public void AMaxAboveTheSourceRateKeepsAll() => Assert.Equal(50, Kept(25, 60, 50).Count);

    [Fact]
    public void AGapRestartsTheGrid()
    {
        var l = new FrameRateLimiter(10);
        Assert.True(l.ShouldKeep(TimeSpan.Zero));
        Assert.False(l.ShouldKeep(TimeSpan.FromMilliseconds(40)));
        Assert.True(l.ShouldKeep(TimeSpan.FromSeconds(5)));
        Assert.False(l.ShouldKeep(TimeSpan.FromMilliseconds(5040)));
        Assert.True(l.ShouldKeep(TimeSpan.FromMilliseconds(5100)));
    }
}
