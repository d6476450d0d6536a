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

/// <summary>What an opened input holds. Width and Height are the size as displayed: <paramref name="Rotation"/>
/// (clockwise degrees from the stream's display matrix, 0/90/180/270) is applied to every frame, as the ffmpeg CLI does.</summary>
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
    string HwAccel,
    int Rotation = 0);

/// <summary>Timing and size of a decoded frame.</summary>
/// <param name="Pts">Presentation time from the stream start; null when the stream has none.</param>
/// <param name="SourceWidth">Decoded width as displayed (after rotation), before scaling into the caller's buffer.</param>
/// <param name="SourceHeight">Decoded height as displayed, before scaling.</param>
public readonly record struct DecodedFrameInfo(TimeSpan? Pts, int SourceWidth, int SourceHeight);

/// <summary>
/// An open FFmpeg input (file, URL, device) with its video decoder: the sole owner of the native reader.
/// Not thread-safe, except <see cref="Interrupt"/> and <see cref="Dispose"/>, which may be called from any thread
/// to end a blocking read.
/// </summary>
public sealed class MediaReader : IDisposable
{
    private readonly NativeHandle _handle;
    private int _disposed;

    private MediaReader(NativeHandle handle, string url, MediaInfo info, string hwStatus)
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

    /// <summary>
    /// Opens <paramref name="url"/>. Throws <see cref="MediaException"/> naming the input on any failure, and
    /// <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> ends a blocking open
    /// (a camera that accepts the connection and never answers, say) before <see cref="MediaReaderOptions.OpenTimeout"/>.
    /// </summary>
    public static unsafe MediaReader Open(string url, MediaReaderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        options ??= new MediaReaderOptions();
        SvNative.EnsureLoaded();
        cancellationToken.ThrowIfCancellationRequested();
        var handle = new NativeHandle(SvNative.ReaderNew(), SvNative.ReaderClose, "reader", NativeHandle.Describe(url));
        try
        {
            int rc;
            using (var opts = new NativeOptions(options.Options))
            using (cancellationToken.Register(static h => InterruptHandle((NativeHandle)h!), handle))
            {
                fixed (IntPtr* k = opts.Keys)
                fixed (IntPtr* v = opts.Values)
                {
                    rc = SvNative.ReaderStart(handle, url, options.Format, k, v, opts.Count, options.Threads, options.HwAccel,
                        (int)options.OpenTimeout.TotalMilliseconds, (int)options.ReadTimeout.TotalMilliseconds);
                }
            }
            if (rc < 0 && cancellationToken.IsCancellationRequested)
                throw new OperationCanceledException($"opening '{url}' was cancelled", new MediaException(rc, url, SvNative.LastErrorMessage()), cancellationToken);
            SvNative.Check(rc, url);
            SvStreamInfo si;
            SvNative.Check(SvNative.ReaderInfo(handle, &si), url);
            var info = new MediaInfo(si.Width, si.Height, si.Fps,
                si.DurationSeconds > 0 ? TimeSpan.FromSeconds(si.DurationSeconds) : null,
                si.FrameCount, si.Seekable != 0,
                SvNative.Utf8(si.Codec, 32), SvNative.Utf8(si.PixFmt, 32), SvNative.Utf8(si.Format, 64), SvNative.Utf8(si.HwAccel, 32), si.Rotation);
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

    /// <summary>
    /// Decodes the next frame and keeps it inside the reader without converting it; false at the end of the stream.
    /// Cheap way to skip a frame (frame-rate limiting, dropping); call <see cref="RetrieveFrame(Frame)"/> to convert
    /// the kept frame. The next grab, read or rewind releases it.
    /// </summary>
    public bool TryGrabFrame(out DecodedFrameInfo info)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        int rc = SvNative.ReaderGrab(_handle, out long pts, out int sw, out int sh);
        SvNative.Check(rc, Url);
        info = rc == 1 ? new DecodedFrameInfo(pts == long.MinValue ? null : TimeSpan.FromMicroseconds(pts), sw, sh) : default;
        return rc == 1;
    }

    /// <summary>Converts (and scales) the frame kept by <see cref="TryGrabFrame"/> into <paramref name="destination"/>.</summary>
    public unsafe void RetrieveFrame(Span<byte> destination, int width, int height, int stride)
    {
        if (width <= 0 || height <= 0 || stride < width * 3 || destination.Length < (long)stride * (height - 1) + width * 3)
            throw new ArgumentException($"buffer of {destination.Length} bytes cannot hold {width}x{height} BGR24 with stride {stride}", nameof(destination));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        fixed (byte* p = destination)
        {
            SvNative.Check(SvNative.ReaderRetrieve(_handle, p, width, height, stride), Url);
        }
    }

    /// <summary>Converts the frame kept by <see cref="TryGrabFrame"/> into <paramref name="frame"/> at the frame's size.</summary>
    public void RetrieveFrame(Frame frame) => RetrieveFrame(frame.Data, frame.Width, frame.Height, frame.Stride);

    /// <summary>
    /// Starts reading over from the beginning (looping a file): seeks to the start and flushes the decoder.
    /// Throws <see cref="MediaException"/> when the input cannot seek (live protocols, devices, lavfi).
    /// </summary>
    public void Rewind()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        SvNative.Check(SvNative.ReaderRewind(_handle), Url);
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
    public void Interrupt() => InterruptHandle(_handle);

    private static void InterruptHandle(NativeHandle handle)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            SvNative.ReaderInterrupt(handle.DangerousGetHandle());
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing to interrupt.
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    /// <summary>Interrupts any blocking call and frees the reader once that call has returned. Idempotent, any thread.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Interrupt();
        _handle.Dispose();
    }
}
