namespace StreamVision.Sinks.Tests;

public class EventBufferTests
{
    [Fact]
    public void FullBufferPushesOutTheOldest()
    {
        var b = new EventBuffer<int>(3);
        Assert.False(b.Add(1, out _));
        Assert.False(b.Add(2, out _));
        Assert.False(b.Add(3, out _));
        Assert.True(b.Add(4, out int dropped));
        Assert.Equal(1, dropped);
        Assert.Equal([2, 3, 4], b.TakeAll());
    }

    [Fact]
    public void PushFrontKeepsOrderAndDropsTheOldestThatDoNotFit()
    {
        var b = new EventBuffer<int>(4);
        b.Add(10, out _);
        b.Add(11, out _);
        var dropped = new List<int>();
        b.PushFront([5, 6, 7], dropped); // older than what is queued
        Assert.Equal([5], dropped);
        Assert.Equal([6, 7, 10, 11], b.TakeAll());
    }

    [Fact]
    public async Task WaitCompletesWhenSomethingArrives()
    {
        var b = new EventBuffer<int>(2);
        var wait = b.WaitAsync(CancellationToken.None);
        Assert.False(wait.IsCompleted);
        b.Add(1, out _);
        await wait.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(b.WaitAsync(CancellationToken.None).IsCompleted);
        using var cts = new CancellationTokenSource();
        b.TakeAll();
        var cancelled = b.WaitAsync(cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }
}
