using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Preprocessing;
using StreamVision.Ingest;
using StreamVision.Native;

namespace StreamVision.App.Bench;

/// <summary>
/// detect: throughput of the detection stage (BatcherClient -> DetectionBatcher -> OnnxDetector: preprocess, IOBinding
/// run, decode, NMS) against a bare loop of <c>InferenceSession.Run</c> on a prepared input tensor, same model (BlazeFace
/// 128), same batch (1: the model's fixed batch) and the same session options (threads, providers). Frames are 720p
/// frames of the faces clip decoded beforehand, so decoding is not in these figures; the last row adds it back: a 720p
/// file decoded by a VideoSource and detected through the stage.
/// </summary>
public static class DetectBenchmark
{
    public const string Name = "detect";

    public static async Task RunAsync(BenchContext ctx)
    {
        NativeInfo.SetFfmpegLogging(false);
        string model = ModelCatalog.Resolve(ModelCatalog.DefaultModel);
        var sessionOptions = new ModelSessionOptions(); // the defaults annotate and run use: threads = one per core
        var logger = ctx.Loggers.CreateLogger("bench");
        using var detector = OnnxDetector.Load(model, new OnnxDetectorOptions { Session = sessionOptions }, logger);
        using var bare = ModelSession.Create(model, sessionOptions, logger);
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, logger);
        using var client = batcher.CreateClient("bench");

        string clip = ctx.Inputs.Faces720;
        var frames = DecodeFrames(clip, ctx.Quick ? 8 : 24);
        try
        {
            int iterations = ctx.Quick ? 40 : 400;
            // Bare session: the input tensor holds a real preprocessed frame; outputs are allocated by Run (its plain form).
            var session = bare.Session;
            var (inputName, meta) = session.InputMetadata.First();
            long[] shape = meta.Dimensions.Select(d => (long)Math.Max(1, d)).ToArray();
            var input = new float[shape.Aggregate(1L, (a, d) => a * d)];
            var pre = new Preprocessor(detector.Spec);
            pre.Prepare(frames[0], input);
            using var inputValue = OrtValue.CreateTensorValueFromMemory(input, shape);
            var inputNames = new[] { inputName };
            var inputValues = new[] { inputValue };
            var outputNames = session.OutputMetadata.Keys.ToArray();
            using var runOptions = new RunOptions();
            var one = new Frame[1];
            var preBuffer = new float[detector.Spec.ElementsPerImage];

            double Bare(int n)
            {
                for (int i = 0; i < n; i++)
                {
                    using var outputs = session.Run(runOptions, inputNames, inputValues, outputNames);
                }
                return n;
            }
            double Detector(int n)
            {
                for (int i = 0; i < n; i++)
                {
                    one[0] = frames[i % frames.Count];
                    detector.Detect(one);
                }
                return n;
            }
            async Task<double> Stage(int n)
            {
                for (int i = 0; i < n; i++) await client.DetectAsync(frames[i % frames.Count]).ConfigureAwait(false);
                return n;
            }
            double Preprocess(int n)
            {
                for (int i = 0; i < n; i++) pre.Prepare(frames[i % frames.Count], preBuffer);
                return n;
            }

            ctx.Progress("detect: warm-up");
            Bare(20);
            Detector(20);
            await Stage(20).ConfigureAwait(false);
            Preprocess(20);

            var allocs = new double[4];
            async Task<double> Timed(int index, Func<Task<double>> body)
            {
                BenchMeasure.Settle();
                long a0 = GC.GetTotalAllocatedBytes(precise: true);
                var sw = Stopwatch.StartNew();
                double n = await body().ConfigureAwait(false);
                double fps = n / sw.Elapsed.TotalSeconds;
                allocs[index] = (GC.GetTotalAllocatedBytes(precise: true) - a0) / n;
                return fps;
            }
            var pool = new FramePool(new FramePoolOptions { MaxBytes = 256L << 20 });
            long fileFrames = 0;
            ctx.Progress($"detect: {ctx.Runs} runs of {iterations} frames each way, and the 720p file through the stage");
            var s = await BenchMeasure.InterleaveAsync(ctx.Runs, ctx.Ct,
                () => Timed(0, () => Task.FromResult(Bare(iterations))),
                () => Timed(1, () => Task.FromResult(Detector(iterations))),
                () => Timed(2, () => Stage(iterations)),
                () => Timed(3, async () => fileFrames = await FileThroughStageAsync(clip, pool, client).ConfigureAwait(false))).ConfigureAwait(false);
            var preSamples = BenchMeasure.Interleave(ctx.Runs, ctx.Ct, () =>
            {
                var sw = Stopwatch.StartNew();
                Preprocess(iterations);
                return sw.Elapsed.TotalMilliseconds / iterations;
            })[0];

            var bareS = Summary.Of(s[0]);
            var detS = Summary.Of(s[1]);
            var stageS = Summary.Of(s[2]);
            var fileS = Summary.Of(s[3]);
            double preMs = Summary.Of(preSamples).Median;
            double stageWithoutPre = 1000.0 / (1000.0 / stageS.Median - preMs);

            var table = new BenchTable
            {
                Name = Name,
                Title = $"BlazeFace 128 detection stage vs a bare session.Run loop ({detector.Spec.Width}x{detector.Spec.Height} input, batch 1, frames/s)",
                Baseline = "bare `InferenceSession.Run` on a prepared input tensor, same model, batch and session options",
            };
            table.Column("path", "path").Column("fps", "frames/s").Column("ms", "ms/frame", 2).Column("alloc", "bytes allocated/frame", 0).Column("ratio", "ratio vs bare", 3);
            table.Row(("path", "bare session.Run (baseline)"), ("fps", bareS), ("ms", 1000 / bareS.Median), ("alloc", allocs[0]), ("ratio", 1.0));
            table.Row(("path", "OnnxDetector.Detect: preprocess 720p + run + decode + NMS"), ("fps", detS), ("ms", 1000 / detS.Median), ("alloc", allocs[1]), ("ratio", detS.Median / bareS.Median));
            table.Row(("path", "detection stage: BatcherClient -> DetectionBatcher -> detector"), ("fps", stageS), ("ms", 1000 / stageS.Median), ("alloc", allocs[2]), ("ratio", stageS.Median / bareS.Median));
            table.Row(("path", "  stage less its 720p preprocessing (derived: preprocessing timed alone)"), ("fps", stageWithoutPre), ("ms", 1000 / stageWithoutPre), ("ratio", stageWithoutPre / bareS.Median));
            table.Row(("path", $"720p file: VideoSource decode -> stage ({fileFrames} frames)"), ("fps", fileS), ("ms", 1000 / fileS.Median), ("alloc", allocs[3]), ("ratio", fileS.Median / bareS.Median));
            double ratio = stageS.Median / bareS.Median;
            table.Targets.Add(new BenchTarget("detection stage / bare session.Run", ">= 0.95", ratio, ratio >= 0.95,
                string.Create(CultureInfo.InvariantCulture,
                    $"Detect alone is {detS.Median / bareS.Median:0.000} of bare; the batcher's thread hand-off adds {1000 / stageS.Median - 1000 / detS.Median:0.000} ms/frame; preprocessing a 720p frame is {preMs:0.000} ms of the stage's {1000 / stageS.Median:0.000} ms")));
            table.Notes.Add($"providers {string.Join(" > ", detector.ActiveProviders)}; ONNX Runtime intra-op threads: default (one per core, {Environment.ProcessorCount}); {iterations} frames per run over {frames.Count} distinct 720p frames");
            table.Notes.Add("allocation is per frame over the whole process (GC.GetTotalAllocatedBytes), so it includes the bare Run's output tensors and the detector's Detections");
            table.Notes.Add(ctx.Inputs.HasFaces ? "frames: Megamind sample scaled and padded to 1280x720 (faces in almost every frame)" : "frames: testsrc2 720p (the faces sample is not installed, so there is nothing to find)");
            ctx.Add(table);
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
    }

    /// <summary>The first <paramref name="count"/> frames of <paramref name="path"/> as unpooled frames.</summary>
    public static List<Frame> DecodeFrames(string path, int count)
    {
        var list = new List<Frame>(count);
        using var reader = MediaReader.Open(path);
        while (list.Count < count)
        {
            var f = Frame.CreateUnpooled(reader.Info.Width, reader.Info.Height);
            if (!reader.TryReadFrame(f, out var info))
            {
                f.Dispose();
                break;
            }
            f.StreamId = "bench";
            f.Sequence = list.Count;
            f.Pts = info.Pts ?? TimeSpan.FromSeconds(list.Count / BenchInputs.Fps);
            list.Add(f);
        }
        if (list.Count == 0) throw new InvalidOperationException($"no frames in {path}");
        return list;
    }

    private static async Task<long> FileThroughStageAsync(string clip, FramePool pool, BatcherClient client)
    {
        await using var source = new VideoSource(new SourceOptions { Uri = clip, Mode = SourceMode.File }, pool);
        source.Start();
        long n = 0;
        while (await source.Frames.WaitToReadAsync().ConfigureAwait(false))
        {
            while (source.Frames.TryRead(out var f))
            {
                using (f) await client.DetectAsync(f).ConfigureAwait(false);
                n++;
            }
        }
        await source.Frames.Completion.ConfigureAwait(false);
        return n;
    }
}
