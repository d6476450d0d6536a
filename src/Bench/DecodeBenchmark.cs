using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Native;

namespace StreamVision.Bench;

/// <summary>
/// decode: frames/s of FFmpeg decode + BGR24 conversion in process (MediaReader alone, and the whole ingest path:
/// VideoSource -> bounded channel -> frame pool) against the ffmpeg CLI doing the same on the same file with the same
/// decoder threads (<c>ffmpeg -threads T -i FILE -map 0:v:0 -pix_fmt bgr24 -f null -</c>, timed by its own -benchmark
/// rtime, which leaves out process start and opening, as the in-process timings do).
/// </summary>
public static class DecodeBenchmark
{
    public const string Name = "decode";

    public static async Task RunAsync(BenchContext ctx)
    {
        NativeInfo.SetFfmpegLogging(false);
        var clips = new List<(string Label, string Path)> { ("720p H.264", ctx.Inputs.Pattern720), ("1080p H.264", ctx.Inputs.Pattern1080) };
        if (ctx.Options.DecodeFile is { } extra) clips.Add((System.IO.Path.GetFileName(extra), extra));
        int[] threadCounts = ctx.Quick ? [0] : [0, 1];
        var table = new BenchTable
        {
            Name = Name,
            Title = "decode + BGR24 conversion, in process vs the ffmpeg CLI (frames/s)",
            Baseline = "`ffmpeg -threads T -i FILE -map 0:v:0 -pix_fmt bgr24 -f null -` on the same file with the same threads (its -benchmark rtime)",
        };
        table.Column("clip", "clip").Column("threads", "threads").Column("path", "path").Column("frames", "frames", 0)
             .Column("fps", "frames/s").Column("ratio", "ratio vs CLI", 3);
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 256L << 20 });
        foreach (var (label, path) in clips)
        {
            MediaInfo info;
            using (var probe = MediaReader.Open(path)) info = probe.Info;
            foreach (int threads in threadCounts)
            {
                ctx.Progress($"decode {label}, threads {ThreadsText(threads)}");
                long frames = ReaderPass(path, info, threads).Frames; // warm-up: page cache, JIT, frame count
                var s = await BenchMeasure.InterleaveAsync(ctx.Runs, ctx.Ct,
                    () => Task.FromResult(frames / CliSeconds(path, threads)),
                    () => Task.FromResult(ReaderPass(path, info, threads) is var r && r.Frames == frames ? frames / r.Seconds : throw Mismatch("MediaReader", r.Frames, frames)),
                    () => SourcePassAsync(path, threads, pool, frames)).ConfigureAwait(false);
                var cli = Summary.Of(s[0]);
                var reader = Summary.Of(s[1]);
                var source = Summary.Of(s[2]);
                string clip = $"{label} {info.Width}x{info.Height}";
                table.Row(("clip", clip), ("threads", ThreadsText(threads)), ("path", "ffmpeg CLI (baseline)"), ("frames", frames), ("fps", cli), ("ratio", 1.0));
                table.Row(("clip", clip), ("threads", ThreadsText(threads)), ("path", "MediaReader decode + bgr24"), ("frames", frames), ("fps", reader), ("ratio", reader.Median / cli.Median));
                table.Row(("clip", clip), ("threads", ThreadsText(threads)), ("path", "VideoSource -> channel -> pool"), ("frames", frames), ("fps", source), ("ratio", source.Median / cli.Median));
                if (label.StartsWith("1080p", StringComparison.Ordinal))
                {
                    double ratio = reader.Median / cli.Median;
                    table.Targets.Add(new BenchTarget($"1080p in-process / CLI, threads {ThreadsText(threads)}", ">= 0.95", ratio, ratio >= 0.95,
                        string.Create(CultureInfo.InvariantCulture, $"{reader.Median:0} vs {cli.Median:0} fps; ingest path {source.Median / cli.Median:0.000}")));
                }
            }
        }
        table.Notes.Add("in-process timings start after opening (MediaReader) or at the first frame (VideoSource), as the CLI's rtime leaves out opening");
        table.Notes.Add($"threads auto = FFmpeg picks (one per core, {Environment.ProcessorCount} here); test patterns are libx264 veryfast, GOP 50");
        ctx.Add(table);
    }

    private static string ThreadsText(int threads) => threads == 0 ? "auto" : threads.ToString(CultureInfo.InvariantCulture);

    private static InvalidOperationException Mismatch(string what, long got, long expected) =>
        new($"{what} decoded {got} frames, the first pass {expected}");

    /// <summary>MediaReader alone: the decode loop a source runs, without channel or pool.</summary>
    public static (long Frames, double Seconds) ReaderPass(string path, MediaInfo info, int threads)
    {
        using var reader = MediaReader.Open(path, new MediaReaderOptions { Threads = threads });
        using var frame = Frame.CreateUnpooled(info.Width, info.Height);
        long n = 0;
        var sw = Stopwatch.StartNew();
        while (reader.TryReadFrame(frame, out _)) n++;
        return (n, sw.Elapsed.TotalSeconds);
    }

    /// <summary>The whole ingest path: VideoSource (file mode) -> bounded channel -> a consumer that returns each frame to the pool.</summary>
    public static async Task<double> SourcePassAsync(string path, int threads, FramePool pool, long expectedFrames)
    {
        await using var source = new VideoSource(new SourceOptions { Uri = path, Mode = SourceMode.File, DecoderThreads = threads }, pool);
        source.Start();
        long n = 0;
        var sw = new Stopwatch();
        while (await source.Frames.WaitToReadAsync().ConfigureAwait(false))
        {
            while (source.Frames.TryRead(out var f))
            {
                f.Dispose();
                if (n++ == 0) sw.Start(); // from the first frame: opening is not decoding
            }
        }
        await source.Frames.Completion.ConfigureAwait(false);
        if (n != expectedFrames) throw Mismatch("VideoSource", n, expectedFrames);
        // n - 1 frame intervals were timed; scale to n frames.
        return (n - 1) / Math.Max(1e-9, sw.Elapsed.TotalSeconds);
    }

    /// <summary>The ffmpeg CLI's own decode + conversion time (-benchmark rtime) for the file.</summary>
    public static double CliSeconds(string path, int threads)
    {
        var r = ToolProcess.Run("ffmpeg",
            ["-hide_banner", "-nostdin", "-benchmark", "-threads", threads.ToString(CultureInfo.InvariantCulture), "-i", path, "-map", "0:v:0", "-pix_fmt", "bgr24", "-f", "null", "-"]);
        var m = Regex.Match(r.Stderr, @"rtime=([0-9.]+)s");
        if (r.ExitCode != 0 || !m.Success) throw new InvalidOperationException("ffmpeg failed: " + r.Stderr.Trim());
        return double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}
