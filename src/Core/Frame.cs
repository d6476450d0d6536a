using System.Diagnostics;

namespace StreamVision.Core;

/// <summary>
/// A decoded video frame: BGR24 pixels in a pooled buffer with an explicit row stride.
/// Owned memory: the holder of a reference owns it until it calls <see cref="Dispose"/>.
/// Reference-counted: call <see cref="AddRef"/> before giving the frame to another owner
/// (a second sink, say); the last <see cref="Dispose"/> returns the buffer to its pool.
/// Disposing more times than referenced throws; so does touching the pixels after the last release.
/// </summary>
public sealed class Frame : IDisposable
{
    private readonly FramePool? _pool;
    private byte[] _buffer;
    private int _refCount;

    internal Frame(FramePool? pool, int width, int height)
    {
        _pool = pool;
        Width = width;
        Height = height;
        Stride = AlignedStride(width);
        _buffer = GC.AllocateUninitializedArray<byte>(Stride * height, pinned: true);
    }

    /// <summary>Creates a frame that belongs to no pool (tests, one-off images). Disposing it just releases it.</summary>
    public static Frame CreateUnpooled(int width, int height)
    {
        ValidateSize(width, height);
        var f = new Frame(null, width, height);
        f.Reset();
        return f;
    }

    public int Width { get; }
    public int Height { get; }
    /// <summary>Bytes per row (at least <c>Width * 3</c>, aligned to 32).</summary>
    public int Stride { get; }
    public int SizeInBytes => _buffer.Length;

    /// <summary>Id of the stream this frame belongs to.</summary>
    public string StreamId { get; set; } = "";
    /// <summary>0-based position of the frame in its stream, counting every decoded frame (also skipped or dropped ones).</summary>
    public long Sequence { get; set; }
    /// <summary>Presentation time from the stream start.</summary>
    public TimeSpan Pts { get; set; }
    /// <summary>Wall-clock time (UTC) when the frame left the decoder.</summary>
    public DateTimeOffset CaptureTime { get; set; }
    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the frame left the decoder, for latency measurement.</summary>
    public long CaptureTimestamp { get; set; }

    /// <summary>Live references. 0 once returned to the pool.</summary>
    public int RefCount => Volatile.Read(ref _refCount);

    /// <summary>The pixels, all rows including stride padding.</summary>
    public Span<byte> Data
    {
        get
        {
            ThrowIfReleased();
            return _buffer;
        }
    }

    /// <summary>Pixels without the lifetime check, for hot loops that hold a reference already.</summary>
    public byte[] DangerousGetBuffer() => _buffer;

    /// <summary>The <paramref name="y"/>-th row, <c>Width * 3</c> bytes.</summary>
    public Span<byte> GetRowSpan(int y)
    {
        ThrowIfReleased();
        if ((uint)y >= (uint)Height) throw new ArgumentOutOfRangeException(nameof(y), y, $"row must be 0..{Height - 1}");
        return _buffer.AsSpan(y * Stride, Width * 3);
    }

    /// <summary>Adds a reference for another owner; returns this frame.</summary>
    public Frame AddRef()
    {
        int n = Interlocked.Increment(ref _refCount);
        if (n <= 1)
        {
            Interlocked.Decrement(ref _refCount);
            throw new ObjectDisposedException(nameof(Frame), "AddRef on a frame already returned to its pool");
        }
        return this;
    }

    /// <summary>Releases one reference; the last one returns the frame to its pool.</summary>
    public void Dispose()
    {
        int n = Interlocked.Decrement(ref _refCount);
        if (n > 0) return;
        if (n < 0)
        {
            Interlocked.Increment(ref _refCount);
            throw new InvalidOperationException($"Frame {StreamId}#{Sequence} released more times than it was referenced");
        }
        _pool?.Return(this);
    }

    /// <summary>Copies pixels and metadata from <paramref name="source"/>; sizes must match.</summary>
    public void CopyFrom(Frame source)
    {
        if (source.Width != Width || source.Height != Height)
            throw new ArgumentException($"size {source.Width}x{source.Height} differs from {Width}x{Height}", nameof(source));
        source.Data.CopyTo(Data);
        CopyMetadataFrom(source);
    }

    public void CopyMetadataFrom(Frame source)
    {
        StreamId = source.StreamId;
        Sequence = source.Sequence;
        Pts = source.Pts;
        CaptureTime = source.CaptureTime;
        CaptureTimestamp = source.CaptureTimestamp;
    }

    internal void Reset()
    {
        Volatile.Write(ref _refCount, 1);
        StreamId = "";
        Sequence = 0;
        Pts = TimeSpan.Zero;
        CaptureTime = default;
        CaptureTimestamp = 0;
    }

    internal static int AlignedStride(int width) => (width * 3 + 31) & ~31;

    internal static void ValidateSize(int width, int height)
    {
        if (width <= 0 || height <= 0 || width > 16384 || height > 16384)
            throw new ArgumentOutOfRangeException(nameof(width), $"frame size must be 1..16384 on each side, got {width}x{height}");
    }

    private void ThrowIfReleased()
    {
        if (Volatile.Read(ref _refCount) <= 0)
            throw new ObjectDisposedException(nameof(Frame), $"Frame {StreamId}#{Sequence} was used after it was returned to its pool");
    }
}
