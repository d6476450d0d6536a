namespace StreamVision.Ingest.Tests;

public class ReconnectBackoffTests
{
    [Fact]
    public void DoublesUpToTheCapWithoutJitter()
    {
        var b = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1), 0);
        var delays = Enumerable.Range(1, 7).Select(a => b.Delay(a).TotalMilliseconds).ToArray();
        Assert.Equal([100, 200, 400, 800, 1000, 1000, 1000], delays);
        Assert.Equal(1000, b.Delay(10_000).TotalMilliseconds);
    }

    [Fact]
    public void JitterStaysWithinItsBandAndTheCap()
    {
        var b = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), 0.5, new Random(7));
        var first = Enumerable.Range(0, 200).Select(_ => b.Delay(1).TotalMilliseconds).ToArray();
        Assert.All(first, d => Assert.InRange(d, 50, 150));
        Assert.True(first.Distinct().Count() > 50, "jitter spreads the delays");
        Assert.All(Enumerable.Range(0, 200).Select(_ => b.Delay(5).TotalMilliseconds), d => Assert.InRange(d, 150, 300));
    }

    [Fact]
    public void RejectsBadArguments()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.Zero, TimeSpan.FromSeconds(1), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 0).Delay(0));
    }
}
