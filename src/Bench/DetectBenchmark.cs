using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Preprocessing;
using StreamVision.Ingest;
using StreamVision.Native;

namespace StreamVision.Bench;

/// <summary>
/// detect: throughput of the detection stage (BatcherClient -> DetectionBatcher -> OnnxDetector: preprocess, IOBinding
/// run, decode, NMS) against a bare loop of <c>InferenceSession.Run</c> on a prepared input tensor, same model, same batch
/// (1: BlazeFace's fixed batch) and the same session options, for both BlazeFace models and two thread settings. Frames
/// are 720p frames of the faces clip decoded beforehand, so decoding is not in these figures; the last row adds it back:
/// a 720p file decoded by a VideoSource and detected through the stage (default model and threads).
/// </summary>
public static class DetectBenchmark
{
    public const string Name = "detect";
    private const string Yolo = "yolov8n-structure";

    public static async Task RunAsync(BenchContext ctx)
    {
        NativeInfo.SetFfmpegLogging(false);
        string clip = ctx.Inputs.Faces720;
        var frames = DecodeFrames(clip, ctx.Quick ? 8 : 24);
        var table = new BenchTable
        {
            Name = Name,
            Title = "detection stage vs a bare session.Run loop: BlazeFace and a YOLO-sized model (720p frames, batch 1, frames/s)",
            Baseline = "bare `InferenceSession.Run` on a prepared input tensor: same model, batch and session options (threads)",
        };
        table.Column("model", "model").Column("threads", "threads").Column("path", "path").Column("fps", "frames/s").Column("ms", "ms/frame", 3)
             .Column("alloc", "bytes allocated/frame", 0).Column("ratio", "ratio vs bare", 3)
             .Column("cpu", "CPU ms/frame", 3).Column("cpu_ratio", "ratio vs bare (CPU)", 3);
        var preprocessMs = new List<string>();
        try
        {
            var configs = ctx.Quick
                ? new[] { (Model: ModelCatalog.DefaultModel, Threads: 0) }
                : [(ModelCatalog.DefaultModel, 0), (ModelCatalog.DefaultModel, 1), ("blazeface-back", 0), ("blazeface-back", 1), (Yolo, 0), (Yolo, 1)];
            foreach (var (model, threads) in configs)
            {
                bool main = model == ModelCatalog.DefaultModel && threads == 0;
                // The YOLO-sized workload (YOLOv8n's layer structure, random weights) is made on first use (tools/make-yolo-workload).
                string path = model == Yolo ? ctx.Inputs.YoloWorkload : ModelCatalog.Resolve(model);
                var r = await MeasureAsync(ctx, model, path, threads, frames, clip, withFile: main).ConfigureAwait(false);
                string t = threads == 0 ? "auto" : threads.ToString(CultureInfo.InvariantCulture);
                string m = $"{model} {r.InputSize}x{r.InputSize}";
                table.Row(("model", m), ("threads", t), ("path", "bare session.Run (baseline)"), ("fps", r.Bare), ("ms", 1000 / r.Bare.Median), ("alloc", r.Alloc[0]), ("ratio", 1.0), ("cpu", r.CpuMs[0]), ("cpu_ratio", 1.0));
                table.Row(("model", m), ("threads", t), ("path", "OnnxDetector.Detect: preprocess + run + decode + NMS"), ("fps", r.Detect), ("ms", 1000 / r.Detect.Median), ("alloc", r.Alloc[1]), ("ratio", r.Detect.Median / r.Bare.Median), ("cpu", r.CpuMs[1]), ("cpu_ratio", r.CpuMs[0] / r.CpuMs[1]));
                table.Row(("model", m), ("threads", t), ("path", "stage: BatcherClient -> DetectionBatcher -> detector"), ("fps", r.Stage), ("ms", 1000 / r.Stage.Median), ("alloc", r.Alloc[2]), ("ratio", r.Stage.Median / r.Bare.Median), ("cpu", r.CpuMs[2]), ("cpu_ratio", r.CpuMs[0] / r.CpuMs[2]));
                if (r.File is { } file)
                    table.Row(("model", m), ("threads", t), ("path", $"720p file: VideoSource decode -> stage ({r.FileFrames} frames)"), ("fps", file), ("ms", 1000 / file.Median), ("alloc", r.Alloc[3]), ("ratio", file.Median / r.Bare.Median), ("cpu", r.CpuMs[3]), ("cpu_ratio", r.CpuMs[0] / r.CpuMs[3]));
                preprocessMs.Add(string.Create(CultureInfo.InvariantCulture, $"{m} {r.PreprocessMs:0.000} ms"));
                if (model == ModelCatalog.DefaultModel || model == Yolo)
                {
                    double ratio = r.Stage.Median / r.Bare.Median;
                    table.Targets.Add(new BenchTarget($"{m} stage / bare session.Run, threads {t}", ">= 0.95", ratio, ratio >= 0.95,
                        string.Create(CultureInfo.InvariantCulture,
                            $"CPU per frame {r.CpuMs[0] / r.CpuMs[2]:0.000} of bare; Detect alone {r.Detect.Median / r.Bare.Median:0.000} of bare; the batcher's hand-off adds {1000 / r.Stage.Median - 1000 / r.Detect.Median:0.000} ms/frame; preprocessing the 720p frame {r.PreprocessMs:0.000} of the stage's {1000 / r.Stage.Median:0.000} ms")));
                }
            }
        }
        finally
        {
            foreach (var f in frames) f.Dispose();
        }
        table.Notes.Add($"threads: ONNX Runtime intra-op threads, auto = one per core ({Environment.ProcessorCount} here); batch 1 is both models' fixed input batch; providers: CPU (no GPU here)");
        table.Notes.Add("preprocessing one 720p frame, timed alone: " + string.Join(", ", preprocessMs));
        table.Notes.Add($"frames/s: median of {(ctx.Quick ? ctx.Runs : 4 * ctx.Runs)} blocks per path, blocks of the three paths interleaved; CPU ms/frame: the process's user + sys time per frame over the same blocks (less dependent than wall time on how a loaded machine shares its cores)");
        table.Notes.Add("bytes allocated per frame: the whole process (GC.GetTotalAllocatedBytes) — the bare Run's output tensors, the detector's Detections arrays");
        if (!ctx.Quick)
            table.Notes.Add($"{Yolo}: YOLOv8n's published layer structure (3.15 M parameters) with random weights, output [1,84,8400] (80 classes), made by tools/make-yolo-workload with Debian's PyTorch; speed is the graph's; it finds nothing real, but decode still scans all 8,400 x 80 class scores per frame (default confidence 0.5)");
        table.Notes.Add(ctx.Inputs.HasFaces ? "frames: the Megamind sample scaled and padded to 1280x720 (faces in almost every frame)" : "frames: testsrc2 720p (the faces sample is not installed, so there is nothing to find)");
        ctx.Add(table);
    }

    /// <param name="CpuMs">Process CPU (user + sys, every thread) per frame, median over blocks: bare, Detect, stage, file.</param>
    private sealed record Result(int InputSize, Summary Bare, Summary Detect, Summary Stage, Summary? File, long FileFrames, double[] Alloc, double PreprocessMs,
        double[] CpuMs);

    private static async Task<Result> MeasureAsync(BenchContext ctx, string model, string path, int threads, List<Frame> frames, string clip, bool withFile)
    {
        var sessionOptions = new ModelSessionOptions { IntraOpThreads = threads };
        var logger = ctx.Loggers.CreateLogger("bench");
        using var detector = OnnxDetector.Load(path, new OnnxDetectorOptions { Session = sessionOptions }, logger);
        using var bare = ModelSession.Create(path, sessionOptions, logger);
        await using var batcher = new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, logger);
        using var client = batcher.CreateClient("bench");
        // Short blocks, many of them, interleaved: on a shared machine the load drifts within seconds, and a long block of one
        // path against a long block of another measures the drift. About 0.1 s of work per block at BlazeFace's speed, about
        // one second for the YOLO-sized model; 4 blocks per run.
        int iterations = ctx.Quick ? 40 : detector.Spec.Width >= 640 ? 8 : detector.Spec.Width > 128 ? 40 : 100;
        int blocks = ctx.Quick ? ctx.Runs : 4 * ctx.Runs;

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

        ctx.Progress($"detect: {model}, threads {(threads == 0 ? "auto" : threads)}: warm-up, then {blocks} interleaved blocks of {iterations} frames each way");
        Bare(20);
        Detector(20);
        await Stage(20).ConfigureAwait(false);

        var alloc = new double[4];
        var cpu = new[] { new List<double>(), new List<double>(), new List<double>(), new List<double>() };
        using var self = Process.GetCurrentProcess();
        async Task<double> Timed(int index, Func<Task<double>> body)
        {
            BenchMeasure.Settle();
            long a0 = GC.GetTotalAllocatedBytes(precise: true);
            self.Refresh();
            var c0 = self.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            double n = await body().ConfigureAwait(false);
            double fps = n / sw.Elapsed.TotalSeconds;
            self.Refresh();
            cpu[index].Add((self.TotalProcessorTime - c0).TotalMilliseconds / n);
            alloc[index] = (GC.GetTotalAllocatedBytes(precise: true) - a0) / n;
            return fps;
        }
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 256L << 20 });
        long fileFrames = 0;
        var measures = new List<Func<Task<double>>>
        {
            () => Timed(0, () => Task.FromResult(Bare(iterations))),
            () => Timed(1, () => Task.FromResult(Detector(iterations))),
            () => Timed(2, () => Stage(iterations)),
        };
        if (withFile) measures.Add(() => Timed(3, async () => fileFrames = await FileThroughStageAsync(clip, pool, client).ConfigureAwait(false)));
        var s = await BenchMeasure.InterleaveAsync(blocks, ctx.Ct, measures.ToArray()).ConfigureAwait(false);
        var preMs = BenchMeasure.Interleave(ctx.Runs, ctx.Ct, () =>
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < iterations; i++) pre.Prepare(frames[i % frames.Count], preBuffer);
            return sw.Elapsed.TotalMilliseconds / iterations;
        })[0];
        return new Result(detector.Spec.Width, Summary.Of(s[0]), Summary.Of(s[1]), Summary.Of(s[2]), withFile ? Summary.Of(s[3]) : null, fileFrames, alloc,
            Summary.Of(preMs).Median, cpu.Select(c => c.Count > 0 ? Summary.Of(c).Median : 0).ToArray());
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
