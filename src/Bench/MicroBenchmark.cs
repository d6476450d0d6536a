using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Decoders;
using StreamVision.Inference.Preprocessing;
using StreamVision.Sinks;
using StreamVision.Tracking.Assignment;
using StreamVision.Tracking.Motion;

namespace StreamVision.Bench;

/// <summary>
/// micro: the hot loops of the frame path, each timed alone in a Stopwatch loop on one thread, with the bytes it
/// allocates per call (GC.GetAllocatedBytesForCurrentThread): preprocessing, NMS, the Kalman filter, assignment,
/// drawing, frame copies and pool round trips. BenchmarkDotNet would add a process per benchmark and minutes of run time
/// for figures these loops give within a few percent, so it is not used.
/// </summary>
public static class MicroBenchmark
{
    public const string Name = "micro";
    private const double FrameBudgetUs = 1e6 / BenchInputs.Fps;

    public static Task RunAsync(BenchContext ctx)
    {
        double seconds = ctx.Quick ? 0.05 : 0.3;
        var rng = new Random(3);
        using var frame = Frame.CreateUnpooled(1280, 720);
        rng.NextBytes(frame.Data);
        frame.StreamId = "bench";
        frame.CaptureTime = DateTimeOffset.UtcNow;
        using var target = Frame.CreateUnpooled(1280, 720);

        // Preprocessing a 720p frame for BlazeFace 128 (letterbox, RGB, [-1, 1], NHWC), as the detector sets it up.
        var spec = new InputSpec { Name = "input", Width = 128, Height = 128, Layout = TensorLayout.Nhwc, Resize = ResizeMode.Letterbox, Scale = 1f / 127.5f, Offset = -1f, PadValue = 0 };
        var pre = new Preprocessor(spec);
        var tensor = new float[spec.ElementsPerImage];
        var yoloSpec = new InputSpec { Name = "images", Width = 640, Height = 640 };
        var yoloPre = new Preprocessor(yoloSpec);
        var yoloTensor = new float[yoloSpec.ElementsPerImage];

        // NMS over 200 candidates in 20 clusters (a crowded frame before suppression).
        var nmsBoxes = new Box[200];
        var nmsScores = new float[200];
        var nmsClasses = new int[200];
        for (int i = 0; i < 200; i++)
        {
            float cx = 60 + 60 * (i % 20), cy = 100 + 25 * (i % 20);
            nmsBoxes[i] = Box.FromCenter(cx + rng.NextSingle() * 8, cy + rng.NextSingle() * 8, 50 + rng.NextSingle() * 10, 60 + rng.NextSingle() * 10);
            nmsScores[i] = rng.NextSingle();
        }
        var keep = new int[300];
        var scratch = new ulong[200];

        // Kalman filter: one track's predict + update, and a frame's batched predict of 50 tracks.
        var kalman = KalmanMotionModel.Default;
        var state = kalman.Initiate(Box.FromXywh(100, 100, 60, 80), 0);
        var box = Box.FromXywh(100, 100, 60, 80);
        var many = new MotionState[50];
        for (int i = 0; i < many.Length; i++) many[i] = kalman.Initiate(Box.FromXywh(20 * i, 10 * i, 50, 70), 0);
        var dts = Enumerable.Repeat(1 / BenchInputs.Fps, many.Length).ToArray();

        // Assignment on IoU costs between tracks and slightly moved detections.
        var (costs50, n50) = IouCosts(50, rng);
        var (costs200, n200) = IouCosts(200, rng);
        var rowToCol = new int[200];
        var colToRow = new int[200];

        // Drawing 10 tracked faces (boxes, labels, trails) and the header on a 720p frame.
        var tracks = Enumerable.Range(0, 10).Select(i => new Track(i + 1, Box.FromXywh(50 + 110 * i, 200 + 20 * i, 90, 110), 0.9f, 0, TrackState.Tracked, 10, 10, TimeSpan.Zero, 5, 0, i)).ToArray();
        var annotator = new Annotator(new AnnotatorOptions { ClassNames = ["face"] });
        using var item = new AnalyzedFrame(frame.AddRef(), Detections.Empty, tracks, []);
        int drawn = 0;

        var pool = new FramePool(new FramePoolOptions { MaxBytes = 64L << 20 });

        // Decoding a COCO YOLOv8 output [1, 84, 8400]: scores like a trained model's (almost all near 0, a few anchors high).
        const int anchors = 8400, yoloRows = 84;
        var yoloOut = new float[yoloRows * anchors];
        for (int j = 0; j < anchors; j++)
        {
            yoloOut[j] = rng.NextSingle() * 640;
            yoloOut[anchors + j] = rng.NextSingle() * 640;
            yoloOut[2 * anchors + j] = 10 + rng.NextSingle() * 100;
            yoloOut[3 * anchors + j] = 10 + rng.NextSingle() * 100;
        }
        for (int k = 4 * anchors; k < yoloOut.Length; k++) yoloOut[k] = rng.NextDouble() < 0.001 ? 0.5f + 0.5f * rng.NextSingle() : 0.02f * rng.NextSingle();
        var yoloOutputs = new[] { new OutputTensor("output0", [1, yoloRows, anchors], yoloOut) };
        var yoloDecoder = new YoloDecoder(v5: false);
        var candidates = new CandidateBuffer();

        var ops = new (string Name, Action Op)[]
        {
            ("preprocess 1280x720 -> BlazeFace 128x128 NHWC (letterbox)", () => pre.Prepare(frame, tensor)),
            ("preprocess 1280x720 -> YOLO 640x640 NCHW (letterbox)", () => yoloPre.Prepare(frame, yoloTensor)),
            ("YOLOv8 decode [1,84,8400], 80 classes, threshold 0.5 (class rows outer, vectorised)", () =>
            {
                candidates.Clear();
                yoloDecoder.Decode(yoloOutputs, 0, 0.5f, candidates);
            }),
            ("the same, anchor by anchor (the scan it replaced: a 33 KB stride per class)", () =>
            {
                candidates.Clear();
                AnchorByAnchor(yoloOut, anchors, yoloRows - 4, 0.5f, candidates);
            }),
            ("NMS, 200 candidates in 20 clusters", () => Nms.Run(nmsBoxes, nmsScores, nmsClasses, 0.45f, true, keep, scratch)),
            ("Kalman predict + update, one track", () =>
            {
                kalman.Predict(ref state, 1 / BenchInputs.Fps);
                kalman.Update(ref state, box);
            }),
            ("Kalman batched predict, 50 tracks", () => kalman.PredictMany(many, dts)),
            ("linear assignment 50 x 50 (IoU costs)", () => LinearAssignment.Solve(costs50, n50, n50, 0.8, rowToCol, colToRow)),
            ("linear assignment 200 x 200 (IoU costs)", () => LinearAssignment.Solve(costs200, n200, n200, 0.8, rowToCol, colToRow)),
            ("draw 10 tracks + header on 1280x720 (Annotator)", () =>
            {
                frame.Pts = TimeSpan.FromSeconds(++drawn / BenchInputs.Fps);
                annotator.Draw(item, target);
            }),
            ("copy a 1280x720 frame (video sink's drawing copy, now only while another owner holds the frame)", () => target.CopyFrom(frame)),
            ("frame pool rent + return, 1280x720", () =>
            {
                if (pool.TryRent(1280, 720, out var f)) f.Dispose();
            }),
        };

        var table = new BenchTable
        {
            Name = Name,
            Title = "hot loops of the frame path, one thread (time and allocation per call)",
            Baseline = "the time budget of one frame at 25 fps (40 ms)",
        };
        table.Column("op", "operation").Column("us", "µs/call", 2).Column("alloc", "bytes allocated/call", 0).Column("budget", "% of a 25 fps frame", 3);
        foreach (var (name, op) in ops)
        {
            ctx.Ct.ThrowIfCancellationRequested();
            ctx.Progress($"micro: {name}");
            double alloc = 0;
            var us = BenchMeasure.Interleave(ctx.Runs, ctx.Ct, () =>
            {
                var (ns, bytes) = BenchMeasure.Micro(op, seconds);
                alloc = bytes;
                return ns / 1000;
            })[0];
            var s = Summary.Of(us);
            table.Row(("op", name), ("us", s), ("alloc", Math.Round(alloc, 1)), ("budget", 100 * s.Median / FrameBudgetUs));
        }
        table.Notes.Add("the steady-state goal is no allocation per frame; drawing allocates its label and header strings (a few hundred bytes per frame)");
        table.Notes.Add("whole-stage allocation per frame is in the detect, track and overhead tables");
        ctx.Add(table);
        return Task.CompletedTask;
    }

    /// <summary>1 - IoU between n boxes and the same boxes moved a little (row-major n x n), as the tracker's association sees them.</summary>
    private static (double[] Costs, int N) IouCosts(int n, Random rng)
    {
        var a = new Box[n];
        var b = new Box[n];
        for (int i = 0; i < n; i++)
        {
            a[i] = Box.FromXywh(rng.NextSingle() * 1200, rng.NextSingle() * 640, 40 + rng.NextSingle() * 60, 50 + rng.NextSingle() * 60);
            b[i] = Box.FromXywh(a[i].X1 + rng.NextSingle() * 6 - 3, a[i].Y1 + rng.NextSingle() * 6 - 3, a[i].Width, a[i].Height);
        }
        var costs = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                costs[i * n + j] = 1 - a[i].IoU(b[j]);
        return (costs, n);
    }

    /// <summary>YOLOv8 decoding as it was: each anchor's classes in order (for the micro table's comparison).</summary>
    private static void AnchorByAnchor(float[] d, int n, int classes, float minScore, CandidateBuffer candidates)
    {
        for (int j = 0; j < n; j++)
        {
            int best = 0;
            float bestP = d[4 * n + j];
            for (int c = 1; c < classes; c++)
            {
                float p = d[(4 + c) * n + j];
                if (p > bestP) { bestP = p; best = c; }
            }
            if (bestP >= minScore) candidates.Add(Box.FromCenter(d[j], d[n + j], d[2 * n + j], d[3 * n + j]), bestP, best);
        }
    }
}
