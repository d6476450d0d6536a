using System.Diagnostics;
using StreamVision.Core;

namespace StreamVision.Ingest.Tests.Support;

/// <summary>What a test keeps of a frame after disposing it.</summary>
internal readonly record struct FrameRecord(string StreamId, long Sequence, TimeSpan Pts, int Width, int Height, int Stride, byte FirstByte);

internal static class Sources
{
    /// <summary>Reads the channel to completion, disposing every frame. Rethrows the completion error.</summary>
    public static async Task<List<FrameRecord>> DrainAsync(VideoSource source, TimeSpan? timeout = null, int max = int.MaxValue)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        var list = new List<FrameRecord>();
        while (await source.Frames.WaitToReadAsync(cts.Token))
        {
            while (source.Frames.TryRead(out var frame))
            {
                using (frame) list.Add(Record(frame));
                if (list.Count >= max) return list;
            }
        }
        return list;
    }

    /// <summary>Reads <paramref name="count"/> frames (disposing them); fails after <paramref name="timeout"/>.</summary>
    public static Task<List<FrameRecord>> TakeAsync(VideoSource source, int count, TimeSpan timeout) => DrainAsync(source, timeout, count);

    public static FrameRecord Record(Frame f) => new(f.StreamId, f.Sequence, f.Pts, f.Width, f.Height, f.Stride, f.Data[0]);

    /// <summary>Polls <paramref name="condition"/> until it holds; false when <paramref name="timeout"/> passes first.</summary>
    public static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > timeout) return false;
            await Task.Delay(10);
        }
        return true;
    }

    /// <summary>A pool for one test; its <see cref="FramePool.Outstanding"/> must be 0 at the end.</summary>
    public static FramePool NewPool(long maxBytes = 64L << 20) => new(new FramePoolOptions { MaxBytes = maxBytes });

    /// <summary>H.264 with a keyframe every 5 frames and SPS/PPS in-band: RTSP clients start within 0.2 s.</summary>
    public static string CameraClip() =>
        TestMedia.Make("camera-160x120-25.mp4",
            "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 50 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -x264-params repeat-headers=1 -g 5");
}
