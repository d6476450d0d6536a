using System.Diagnostics;
using System.Globalization;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Native;

namespace StreamVision.App.Bench;

/// <summary>
/// overhead: the whole service pipeline on a 720p file with a zero-cost detector (detections replayed from a
/// MOTChallenge file: 10 moving objects per frame) and no encoding sink — source, channels, pooled frames, the batcher,
/// the tracker, events, the JSON-lines events and MOT track sinks — against decoding alone (the same VideoSource into a
/// consumer that returns each frame). What the pipeline costs on top of decoding.
/// </summary>
public static class OverheadBenchmark
{
    public const string Name = "overhead";
    public const int Objects = 10;

    public static async Task RunAsync(BenchContext ctx)
    {
        NativeInfo.SetFfmpegLogging(false);
        string clip = ctx.Inputs.Pattern720;
        long frames;
        using (var r = MediaReader.Open(clip)) frames = DecodeBenchmark.ReaderPass(clip, r.Info, 0).Frames;
        string det = ctx.Inputs.DetectionFile((int)frames, Objects);
        string outDir = Path.Combine(ctx.WorkDir, "overhead");
        Directory.CreateDirectory(outDir);
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 1024L << 20 });
        double decodeAlloc = 0, pipelineAlloc = 0;
        long pipelineFrames = 0, tracks = 0;

        async Task<double> DecodeAlone()
        {
            BenchMeasure.Settle();
            long a0 = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            await using var source = new VideoSource(Source(clip), pool);
            source.Start();
            long n = 0;
            while (await source.Frames.WaitToReadAsync().ConfigureAwait(false))
                while (source.Frames.TryRead(out var f))
                {
                    f.Dispose();
                    n++;
                }
            await source.Frames.Completion.ConfigureAwait(false);
            double fps = n / sw.Elapsed.TotalSeconds;
            decodeAlloc = (GC.GetTotalAllocatedBytes(precise: true) - a0) / (double)n;
            return fps;
        }

        async Task<double> Pipeline()
        {
            BenchMeasure.Settle();
            var config = new SvConfig
            {
                Instance = "bench",
                Http = new HttpConfig { Listen = "" },
                Detector = new DetectorConfig { Model = "detections-file", DetectionsFile = det },
                Sinks = new SinksConfig
                {
                    Events = Path.Combine(outDir, "{stream}.events.jsonl"),
                    Tracks = Path.Combine(outDir, "{stream}.tracks.txt"),
                    Preview = false,
                },
                Streams = [new StreamConfig { Id = "overhead", Source = Source(clip) }],
            };
            long a0 = GC.GetTotalAllocatedBytes(precise: true);
            var sw = Stopwatch.StartNew();
            await using var host = await ServiceHost.StartAsync(config, ctx.Loggers).ConfigureAwait(false);
            var streams = host.Manager.Streams;
            await Task.WhenAll(streams.Select(s => s.Completion)).ConfigureAwait(false);
            double seconds = sw.Elapsed.TotalSeconds;
            var s = streams.Single();
            if (s.Error is not null) throw new InvalidOperationException($"pipeline failed: {s.Error}");
            pipelineFrames = s.Stats.Frames;
            tracks = s.Stats.Tracks;
            pipelineAlloc = (GC.GetTotalAllocatedBytes(precise: true) - a0) / (double)Math.Max(1, pipelineFrames);
            if (pipelineFrames != frames) throw new InvalidOperationException($"the pipeline analysed {pipelineFrames} of {frames} frames");
            return pipelineFrames / seconds;
        }

        ctx.Progress("overhead: warm-up");
        await DecodeAlone().ConfigureAwait(false);
        await Pipeline().ConfigureAwait(false);
        ctx.Progress($"overhead: {ctx.Runs} runs of {frames} frames each way");
        var samples = await BenchMeasure.InterleaveAsync(ctx.Runs, ctx.Ct, DecodeAlone, Pipeline).ConfigureAwait(false);
        var decode = Summary.Of(samples[0]);
        var pipe = Summary.Of(samples[1]);
        double ratio = pipe.Median / decode.Median;

        var table = new BenchTable
        {
            Name = Name,
            Title = "whole pipeline with a zero-cost (replayed) detector, no encoding sink, vs decoding alone (720p file, frames/s)",
            Baseline = "decode alone: VideoSource (file, lossless) -> channel -> consumer returning each frame to the pool",
        };
        table.Column("path", "path").Column("fps", "frames/s").Column("alloc", "bytes allocated/frame", 0).Column("ratio", "ratio vs decode", 3);
        table.Row(("path", "decode alone (baseline)"), ("fps", decode), ("alloc", decodeAlloc), ("ratio", 1.0));
        table.Row(("path", $"service pipeline: decode -> replayed detector ({Objects} objects) -> ByteTracker -> events -> events + MOT sinks"),
            ("fps", pipe), ("alloc", pipelineAlloc), ("ratio", ratio));
        table.Targets.Add(new BenchTarget("pipeline / decode-only throughput", ">= 0.9", ratio, ratio >= 0.9,
            string.Create(CultureInfo.InvariantCulture, $"{pipe.Median:0} vs {decode.Median:0} fps")));
        table.Notes.Add(string.Create(CultureInfo.InvariantCulture,
            $"{frames} frames of testsrc2 1280x720 per run, {tracks} tracks; the pipeline is ServiceHost with one file stream (HTTP off), timed from start to the end of the stream, as is decoding"));
        table.Notes.Add("allocation is process-wide per frame (GC.GetTotalAllocatedBytes), every thread included");
        table.Notes.Add("zones and lines (StreamAnalytics) are not part of the service's stream loop yet, so analytics cost is not in this figure");
        ctx.Add(table);
    }

    private static SourceOptions Source(string clip) => new() { Id = "overhead", Uri = clip, Mode = SourceMode.File };
}
