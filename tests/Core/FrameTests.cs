using StreamVision.Core;

namespace StreamVision.Core.Tests;

public class FrameTests
{
    [Fact]
    public void LastDisposeReturnsFrameToPoolAndBufferIsReused()
    {
        var pool = new FramePool();
        Assert.True(pool.TryRent(64, 48, out var f));
        var buffer = f.DangerousGetBuffer();
        f.AddRef();
        Assert.Equal(2, f.RefCount);
        f.Dispose();
        Assert.Equal(1, pool.Outstanding);
        f.Dispose();
        Assert.Equal(0, pool.Outstanding);
        Assert.Equal(0, pool.RentedBytes);
        Assert.True(pool.TryRent(64, 48, out var g));
        Assert.Same(buffer, g.DangerousGetBuffer());
        g.Dispose();
    }

    [Fact]
    public void DoubleDisposeAndUseAfterReleaseThrow()
    {
        var pool = new FramePool();
        Assert.True(pool.TryRent(16, 16, out var f));
        f.Dispose();
        Assert.Throws<InvalidOperationException>(() => f.Dispose());
        Assert.Throws<ObjectDisposedException>(() => f.Data.Length);
        Assert.Throws<ObjectDisposedException>(() => f.AddRef());
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void StrideIsAlignedAndRowsDoNotOverlap()
    {
        using var f = Frame.CreateUnpooled(33, 4);
        Assert.True(f.Stride >= 33 * 3);
        Assert.Equal(0, f.Stride % 32);
        f.GetRowSpan(1).Fill(7);
        Assert.Equal(0, f.GetRowSpan(0)[0] + f.GetRowSpan(2)[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => f.GetRowSpan(4));
    }

    [Fact]
    public async Task ByteCapBoundsRentingAndRentAsyncWaitsForAReturn()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 1 << 20 });
        // 320x240 BGR = 230400 bytes: four fit in 1 MiB, a fifth does not.
        var rented = new List<Frame>();
        while (pool.TryRent(320, 240, out var f)) rented.Add(f);
        Assert.Equal(4, rented.Count);
        var pending = pool.RentAsync(320, 240).AsTask();
        await Task.Delay(100);
        Assert.False(pending.IsCompleted);
        rented[0].Dispose();
        var got = await pending.WaitAsync(TimeSpan.FromSeconds(5));
        got.Dispose();
        foreach (var f in rented.Skip(1)) f.Dispose();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void OptionsRejectInvalidCaps()
    {
        var o = new FramePoolOptions();
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxBytes = 10);
        Assert.Throws<ArgumentOutOfRangeException>(() => o.MaxIdlePerSize = -1);
    }
}
