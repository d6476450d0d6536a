using System.Runtime.InteropServices;
using StreamVision.Core;
using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>How to open an input. Every field has a usable default.</summary>
public sealed record MediaReaderOptions
{
    /// <summary>Input format to force ("lavfi", "v4l2", "rtsp", ...); null lets FFmpeg probe.</summary>
    public string? Format { get; init; }
    /// <summary>FFmpeg options for the protocol/demuxer (e.g. rtsp_transport=tcp).</summary>
    public IReadOnlyDictionary<string, string>? Options { get; init; }
    /// <summary>Decoder threads; 0 = FFmpeg chooses (one per core).</summary>
    public int Threads { get; init; }
    /// <summary>Hardware decode device ("cuda", "vaapi"); null = software. Falls back to software with <see cref="MediaReader.HardwareStatus"/> saying why.</summary>
    public string? HwAccel { get; init; }
    /// <summary>Longest time opening may take; zero = no limit.</summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>Longest time one read may block; zero = no limit. A stalled live source fails after this.</summary>
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>What an opened input holds.</summary>
public sealed record MediaInfo(
    int Width,
    int Height,
    double Fps,
    TimeSpan? Duration,
    long FrameCount,
    bool IsSeekable,
    string Codec,
    string PixelFormat,
    string Format,
    string HwAccel);

/// <summary>Timing and size of a decoded frame.</summary>
/// <param name="Pts">Presentation time from the stream start; null when the stream has none.</param>
/// <param name="SourceWidth">Decoded width before scaling into the caller's buffer.</param>
/// <param name="SourceHeight">Decoded height before scaling.</param>
public readonly record struct DecodedFrameInfo(TimeSpan? Pts, int SourceWidth, int SourceHeight);

/// <summary>
/// An open FFmpeg input (file, URL, device) with its video decoder: the sole owner of the native reader.
/// Not thread-safe, except <see cref="Interrupt"/> and <see cref="Dispose"/>, which may be called from any thread
/// to end a blocking read.
/// </summary>
public sealed class MediaReader : IDisposable
{
    private readonly ReaderHandle _handle;
    private int _disposed;

    private MediaReader(ReaderHandle handle, string url, MediaInfo info, string hwStatus)
    {
        _handle = handle;
        Url = url;
        Info = info;
        HardwareStatus = hwStatus;
    }

    public string Url { get; }
    public MediaInfo Info { get; }
    /// <summary>Why hardware decode is or is not in use; empty when none was asked for.</summary>
    public string HardwareStatus { get; }

    /// <summary>Opens <paramref name="url"/>. Throws <see cref="MediaException"/> naming the input on any failure.</summary>
    public static unsafe MediaReader Open(string url, MediaReaderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        options ??= new MediaReaderOptions();
        SvNative.EnsureLoaded();
        using var opts = new NativeOptions(options.Options);
        int rc;
        IntPtr raw;
        fixed (IntPtr* k = opts.Keys)
        fixed (IntPtr* v = opts.Values)
        {
            rc = SvNative.ReaderOpen(url, options.Format, k, v, opts.Count, options.Threads, options.HwAccel,
                (int)options.OpenTimeout.TotalMilliseconds, (int)options.ReadTimeout.TotalMilliseconds, out raw);
        }
        SvNative.Check(rc, url);
        var handle = new ReaderHandle(raw);
        try
        {
            SvStreamInfo si;
            SvNative.Check(SvNative.ReaderInfo(handle, &si), url);
            var info = new MediaInfo(si.Width, si.Height, si.Fps,
                si.DurationSeconds > 0 ? TimeSpan.FromSeconds(si.DurationSeconds) : null,
                si.FrameCount, si.Seekable != 0,
                SvNative.Utf8(si.Codec, 32), SvNative.Utf8(si.PixFmt, 32), SvNative.Utf8(si.Format, 64), SvNative.Utf8(si.HwAccel, 32));
            string hw = SvNative.Utf8(SvNative.ReaderHwStatus(handle));
            return new MediaReader(handle, url, info, hw);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Decodes the next frame into <paramref name="destination"/> (BGR24, <paramref name="width"/> x <paramref name="height"/>,
    /// <paramref name="stride"/> bytes a row), scaling when the sizes differ. False at the end of the stream.
    /// Corrupt packets are skipped and counted (<see cref="CorruptPackets"/>).
    /// </summary>
    public unsafe bool TryReadFrame(Span<byte> destination, int width, int height, int stride, out DecodedFrameInfo info)
    {
        if (width <= 0 || height <= 0 || stride < width * 3 || destination.Length < (long)stride * (height - 1) + width * 3)
            throw new ArgumentException($"buffer of {destination.Length} bytes cannot hold {width}x{height} BGR24 with stride {stride}", nameof(destination));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int rc;
        long pts;
        int sw, sh;
        fixed (byte* p = destination)
        {
            rc = SvNative.ReaderRead(_handle, p, width, height, stride, out pts, out sw, out sh);
        }
        SvNative.Check(rc, Url);
        info = rc == 1 ? new DecodedFrameInfo(pts == long.MinValue ? null : TimeSpan.FromMicroseconds(pts), sw, sh) : default;
        return rc == 1;
    }

    /// <summary>Decodes the next frame into <paramref name="frame"/> at the frame's size; sets its <see cref="Frame.Pts"/> when known.</summary>
    public bool TryReadFrame(Frame frame, out DecodedFrameInfo info)
    {
        bool ok = TryReadFrame(frame.Data, frame.Width, frame.Height, frame.Stride, out info);
        if (ok && info.Pts is { } pts) frame.Pts = pts;
        return ok;
    }

    /// <summary>Packets the decoder rejected and skipped.</summary>
    public long CorruptPackets
    {
        get
        {
            SvNative.ReaderStats(_handle, out long corrupt, out long errors);
            return corrupt + errors;
        }
    }

    /// <summary>Makes a blocking open/read in progress, and every later call, fail with <see cref="MediaErrorKind.Interrupted"/>. Any thread.</summary>
    public void Interrupt()
    {
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            SvNative.ReaderInterrupt(_handle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing to interrupt.
        }
        finally
        {
            if (added) _handle.DangerousRelease();
        }
    }

    /// <summary>Interrupts any blocking call and frees the reader once that call has returned. Idempotent, any thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Interrupt();
        _handle.Dispose();
    }

    private sealed class ReaderHandle : SafeHandle
    {
        public ReaderHandle(IntPtr h) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(h);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            SvNative.ReaderClose(handle);
            return true;
        }
    }
}
