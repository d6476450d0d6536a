using System.Collections.Concurrent;

namespace StreamVision.Core;

/// <summary>Limits of a <see cref="FramePool"/>. Values are checked when set.</summary>
public sealed class FramePoolOptions
{
    private long _maxBytes = 1L << 30;
    private int _maxIdlePerSize = 64;

    /// <summary>Bytes of frame buffers that may be rented at once (default 1 GiB). Renting beyond it waits or fails.</summary>
    public long MaxBytes
    {
        get => _maxBytes;
        set => _maxBytes = value >= 1 << 20 ? value : throw new ArgumentOutOfRangeException(nameof(MaxBytes), value, "must be at least 1 MiB");
    }

    /// <summary>Idle buffers kept per frame size for reuse (default 64); more are freed.</summary>
    public int MaxIdlePerSize
    {
        get => _maxIdlePerSize;
        set => _maxIdlePerSize = value is >= 0 and <= 4096 ? value : throw new ArgumentOutOfRangeException(nameof(MaxIdlePerSize), value, "must be 0..4096");
    }
}

/// <summary>
/// Pool of BGR24 frame buffers, bounded in bytes so memory stays bounded whatever the input.
/// Thread-safe. <see cref="Outstanding"/> counts frames rented and not yet returned (tests fail on leaks).
/// </summary>
public sealed class FramePool
{
    private readonly ConcurrentDictionary<(int W, int H), ConcurrentBag<Frame>> _idle = new();
    private readonly SemaphoreSlim _returned = new(0);
    private readonly FramePoolOptions _options;
    private long _rentedBytes;
    private long _rents;
    private int _outstanding;
    private int _waiters;

    public FramePool(FramePoolOptions? options = null) => _options = options ?? new FramePoolOptions();

    /// <summary>A process-wide pool for callers that do not need their own cap.</summary>
    public static FramePool Shared { get; } = new();

    public long MaxBytes => _options.MaxBytes;
    /// <summary>Frames rented and not yet returned.</summary>
    public int Outstanding => Volatile.Read(ref _outstanding);
    /// <summary>Bytes of frames rented and not yet returned.</summary>
    public long RentedBytes => Interlocked.Read(ref _rentedBytes);
    /// <summary>Frames rented since the pool was created (tests check which pool a stage draws on).</summary>
    public long TotalRents => Interlocked.Read(ref _rents);

    /// <summary>Rents a frame if the byte cap allows; false when it does not (live sources drop then).</summary>
    public bool TryRent(int width, int height, out Frame frame)
    {
        Frame.ValidateSize(width, height);
        long size = (long)Frame.AlignedStride(width) * height;
        if (size > _options.MaxBytes)
            throw new ArgumentOutOfRangeException(nameof(width), $"one {width}x{height} frame ({size} bytes) exceeds the pool cap of {_options.MaxBytes} bytes");
        long after = Interlocked.Add(ref _rentedBytes, size);
        if (after > _options.MaxBytes)
        {
            Interlocked.Add(ref _rentedBytes, -size);
            frame = null!;
            return false;
        }
        if (!_idle.TryGetValue((width, height), out var bag) || !bag.TryTake(out var f))
        {
            f = new Frame(this, width, height);
        }
        f.Reset();
        Interlocked.Increment(ref _outstanding);
        Interlocked.Increment(ref _rents);
        frame = f;
        return true;
    }

    /// <summary>Rents a frame, waiting for frames to come back while the byte cap is reached (files use this: lossless).</summary>
    public async ValueTask<Frame> RentAsync(int width, int height, CancellationToken ct = default)
    {
        while (true)
        {
            if (TryRent(width, height, out var f)) return f;
            Interlocked.Increment(ref _waiters);
            try
            {
                // Re-check after registering so a return between TryRent and here is not missed.
                if (TryRent(width, height, out f)) return f;
                await _returned.WaitAsync(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _waiters);
            }
        }
    }

    internal void Return(Frame frame)
    {
        Interlocked.Decrement(ref _outstanding);
        Interlocked.Add(ref _rentedBytes, -(long)frame.SizeInBytes);
        var bag = _idle.GetOrAdd((frame.Width, frame.Height), static _ => new ConcurrentBag<Frame>());
        if (bag.Count < _options.MaxIdlePerSize) bag.Add(frame);
        if (Volatile.Read(ref _waiters) > 0) _returned.Release();
    }

    /// <summary>Frees idle buffers (e.g. after a stream with a big resolution ended).</summary>
    public void Trim() => _idle.Clear();
}
