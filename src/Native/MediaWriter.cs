using System.Runtime.InteropServices;
using StreamVision.Core;
using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>How to open an encoder + muxer.</summary>
public sealed record MediaWriterOptions
{
    public required int Width { get; init; }
    public required int Height { get; init; }
    /// <summary>Nominal frame rate (frames per second), used for the container and for frames without a timestamp.</summary>
    public double Fps { get; init; } = 25;
    /// <summary>FFmpeg encoder name; default libx264.</summary>
    public string Codec { get; init; } = "libx264";
    /// <summary>Muxer ("mp4", "matroska", "rtsp", "hls", "mpegts", ...); null guesses from the file name.</summary>
    public string? Format { get; init; }
    /// <summary>Encoder and muxer options (preset=veryfast, crf=23, hls_time=2, ...). An option neither accepts is an error.</summary>
    public IReadOnlyDictionary<string, string>? Options { get; init; }
    /// <summary>Longest time one network write may block; zero = no limit.</summary>
    public TimeSpan IoTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// An FFmpeg encoder + muxer writing BGR24 frames to a file or URL; the sole owner of the native writer.
/// <see cref="Finish"/> flushes and writes the trailer; <see cref="Dispose"/> finishes too when not done, so the
/// output plays on every shutdown path. Not thread-safe.
/// </summary>
public sealed class MediaWriter : IDisposable
{
    private readonly NativeHandle _handle;

    private MediaWriter(NativeHandle handle, string url, MediaWriterOptions options)
    {
        _handle = handle;
        Url = url;
        Options = options;
    }

    public string Url { get; }
    public MediaWriterOptions Options { get; }
    public bool IsFinished { get; private set; }

    /// <summary>Frames encoded so far.</summary>
    public long FramesWritten => SvNative.WriterFrames(_handle);

    public static unsafe MediaWriter Open(string url, MediaWriterOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(url);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Fps is <= 0 or > 1000) throw new ArgumentOutOfRangeException(nameof(options), options.Fps, "fps must be in (0, 1000]");
        SvNative.EnsureLoaded();
        var (num, den) = ToRational(options.Fps);
        using var opts = new NativeOptions(options.Options);
        int rc;
        IntPtr raw;
        fixed (IntPtr* k = opts.Keys)
        fixed (IntPtr* v = opts.Values)
        {
            rc = SvNative.WriterOpen(url, options.Format, options.Codec, options.Width, options.Height, num, den,
                k, v, opts.Count, (int)options.IoTimeout.TotalMilliseconds, out raw);
        }
        SvNative.Check(rc, url);
        return new MediaWriter(new NativeHandle(raw, SvNative.WriterClose, "writer", NativeHandle.Describe(url)), url, options);
    }

    /// <summary>Encodes one frame. <paramref name="pts"/> null: the next frame at the nominal rate.</summary>
    public unsafe void Write(ReadOnlySpan<byte> bgr, int stride, TimeSpan? pts = null)
    {
        if (stride < Options.Width * 3 || bgr.Length < (long)stride * (Options.Height - 1) + Options.Width * 3)
            throw new ArgumentException($"buffer of {bgr.Length} bytes with stride {stride} is smaller than {Options.Width}x{Options.Height} BGR24", nameof(bgr));
        fixed (byte* p = bgr)
        {
            SvNative.Check(SvNative.WriterWrite(_handle, p, stride, pts is { } t ? (long)t.TotalMicroseconds : -1), Url);
        }
    }

    /// <summary>Encodes a frame at its <see cref="Frame.Pts"/> (or the nominal rate when <paramref name="usePts"/> is false).</summary>
    public void Write(Frame frame, bool usePts = true)
    {
        if (frame.Width != Options.Width || frame.Height != Options.Height)
            throw new ArgumentException($"frame {frame.Width}x{frame.Height} differs from the output's {Options.Width}x{Options.Height}", nameof(frame));
        Write(frame.Data, frame.Stride, usePts ? frame.Pts : null);
    }

    /// <summary>Flushes the encoder and writes the trailer. Idempotent.</summary>
    public void Finish()
    {
        if (IsFinished) return;
        IsFinished = true;
        SvNative.Check(SvNative.WriterFinish(_handle), Url);
    }

    public void Dispose() => _handle.Dispose();

    internal static (int Num, int Den) ToRational(double fps)
    {
        if (Math.Abs(fps - Math.Round(fps)) < 1e-6) return ((int)Math.Round(fps), 1);
        // NTSC-style rates (29.97 = 30000/1001) are common; otherwise millis precision.
        double ntsc = fps * 1001 / 1000;
        if (Math.Abs(ntsc - Math.Round(ntsc)) < 1e-3) return ((int)Math.Round(ntsc) * 1000, 1001);
        return ((int)Math.Round(fps * 1000), 1000);
    }
}
