using System.Diagnostics;
using StreamVision.Core;
using StreamVision.Tracking;

namespace StreamVision.Bench;

/// <summary>
/// track: ByteTracker.Update frames/s on one thread with 10, 50 and 200 objects per frame (synthetic moving boxes with
/// misses and low-score clutter, detections made beforehand so only the tracker is timed), and bytes allocated per frame.
/// </summary>
public static class TrackBenchmark
{
    public const string Name = "track";
    public static readonly int[] ObjectCounts = [10, 50, 200];

    public static Task RunAsync(BenchContext ctx)
    {
        int frames = ctx.Quick ? 100 : 600;
        var table = new BenchTable
        {
            Name = Name,
            Title = "ByteTracker (Kalman motion model) frames/s on one thread",
            Baseline = "the same tracker at 10 objects per frame",
        };
        table.Column("objects", "objects/frame", 0).Column("fps", "frames/s", 0).Column("us", "µs/frame", 1)
             .Column("alloc", "bytes allocated/frame", 0).Column("ratio", "ratio vs 10 objects", 3);
        double baseline = double.NaN;
        foreach (int objects in ObjectCounts)
        {
            ctx.Progress($"track: {objects} objects, {ctx.CheapRuns} runs of {frames} frames");
            var scene = new SyntheticScene(objects, 1280, 720, seed: 11);
            var dets = new Detections[frames];
            for (int i = 0; i < frames; i++) dets[i] = scene.Next();
            Run(dets, Math.Min(frames, 50)); // warm-up (JIT, pools)
            double alloc = 0;
            var samples = BenchMeasure.Interleave(ctx.CheapRuns, ctx.Ct, () =>
            {
                var (fps, bytes) = Run(dets, frames);
                alloc = bytes;
                return fps;
            })[0];
            var s = Summary.Of(samples);
            if (objects == ObjectCounts[0]) baseline = s.Median;
            table.Row(("objects", objects), ("fps", s), ("us", 1e6 / s.Median), ("alloc", alloc), ("ratio", s.Median / baseline));
            if (objects == 50)
                table.Targets.Add(new BenchTarget("tracker frames/s at 50 objects (one core)", ">= 2000", s.Median, s.Median >= 2000));
        }
        table.Notes.Add("each run is a fresh tracker over the same pre-made detections (one in thirty objects missed per frame, ~3% low-score false positives); 25 fps timestamps");
        table.Notes.Add("allocation per frame on the tracker's thread (GC.GetAllocatedBytesForCurrentThread): the returned track list and matching scratch");
        ctx.Add(table);
        return Task.CompletedTask;
    }

    /// <summary>Tracks <paramref name="count"/> frames with a new tracker: frames/s and bytes allocated per frame.</summary>
    private static (double Fps, double BytesPerFrame) Run(Detections[] dets, int count)
    {
        var tracker = new ByteTracker();
        long a0 = GC.GetAllocatedBytesForCurrentThread();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < count; i++) tracker.Update(dets[i], TimeSpan.FromSeconds(i / BenchInputs.Fps));
        sw.Stop();
        return (count / sw.Elapsed.TotalSeconds, (GC.GetAllocatedBytesForCurrentThread() - a0) / (double)count);
    }
}
