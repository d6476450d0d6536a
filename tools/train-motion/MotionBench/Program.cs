// Motion-model report: Kalman vs a learned ONNX motion model on the MOT15 TUD sequences (read in place from
// ../shared/data beside the repository). Prints the markdown tables of models/README.md.
//
//   dotnet run -c Release --project tools/train-motion/MotionBench -- [model.onnx] [--runs N]
using System.Diagnostics;
using System.Globalization;
using StreamVision.Tracking.Mot;
using StreamVision.Tracking.Motion;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

string repo = FindRepoRoot();
string modelPath = Path.Combine(repo, "models", "motion-gru.onnx");
int runs = 7;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs") runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
    else modelPath = args[i];
}
string data = Path.GetFullPath(Path.Combine(repo, "..", "shared", "data", "mot15"));
if (!Directory.Exists(data)) { Console.Error.WriteLine($"MOT15 data not found at {data} (see ../shared/data/README.md)"); return 1; }

string[] sequences = ["TUD-Campus", "TUD-Stadtmitte"];
string[] detectors = ["det-frcnn", "det-acf"];
using var learned = OnnxMotionModel.Load(modelPath);
var models = new (string Name, IMotionModel Model)[] { ("Kalman", KalmanMotionModel.Default), ("learned", learned) };

// 1. Tracking metrics (default tracker options, every detection, 25 fps).
Console.WriteLine($"model: {Path.GetFileName(modelPath)}, K = {learned.HistoryLength}");
Console.WriteLine();
Console.WriteLine("| sequence | detections | motion | MOTA | IDF1 | HOTA | IDSW | FP | FN |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
var inputs = new List<(string Seq, string Det, List<MotRow> Rows, List<MotRow> Gt)>();
foreach (var seq in sequences)
    foreach (var det in detectors)
        inputs.Add((seq, det, MotFile.Read(Path.Combine(data, seq, "det", det + ".txt")), MotFile.Read(Path.Combine(data, seq, "gt", "gt.txt"))));
foreach (var (seq, det, rows, gt) in inputs)
    foreach (var (name, model) in models)
    {
        var tracks = MotReplay.Run(rows, fps: 25, motionModel: model);
        var m = MotEvaluation.Evaluate(gt, tracks, $"{seq}/{det}");
        Console.WriteLine($"| {seq} | {det} | {name} | {m.Mota * 100:0.0} | {m.Idf1 * 100:0.0} | {m.Hota * 100:0.0} | {m.IdSwitches} | {m.FalsePositives} | {m.Misses} |");
    }

// 2. One-step prediction error on the held-out ground-truth tracks (even ids; train.py trains on the odd ones), clean and
// through independent noise the size of the MOT15 public detections' error, and through the real detections matched to them;
// then coasting (a lost track predicted frame by frame, observations ahead = frames unless the detector missed some).
Console.WriteLine();
Console.WriteLine("| held-out TUD tracks (even ids) | observations ahead | steps | Kalman centre error px (/height) | learned centre error px (/height) | Kalman IoU | learned IoU |");
Console.WriteLine("|---|---|---|---|---|---|---|");
var heldOut = sequences.SelectMany(seq => MotionEvaluation.FromGroundTruth(MotFile.Read(Path.Combine(data, seq, "gt", "gt.txt")), 25, id => id % 2 == 0, seq)).ToList();
var noisy = MotionEvaluation.WithNoise(heldOut, (0.12, 0.045, 0.17, 0.10), seed: 1);
var throughDetections = inputs.SelectMany(x => MotionEvaluation.FromMatchedDetections(x.Gt, x.Rows, 25, id => id % 2 == 0, $"{x.Seq}/{x.Det}")).ToList();
foreach (var (label, set, aheads) in new[]
{
    ("clean ground truth", heldOut, new[] { 1, 10 }),
    ("ground truth + independent noise", noisy, new[] { 1, 5, 10, 20 }),
    ("observed through matched real detections", throughDetections, new[] { 1, 5, 10 }),
})
    foreach (int ahead in aheads)
    {
        var k = MotionEvaluation.Ahead(KalmanMotionModel.Default, set, ahead);
        var l = MotionEvaluation.Ahead(learned, set, ahead);
        Console.WriteLine($"| {label} | {ahead} | {k.Steps} | {k.CentreErrorPixels:0.00} ({k.CentreErrorHeights:0.0000}) | {l.CentreErrorPixels:0.00} ({l.CentreErrorHeights:0.0000}) | {k.MeanIoU:0.000} | {l.MeanIoU:0.000} |");
    }

// 3. Tracker speed: all four sequence/detection pairs replayed back to back, median of several runs after a warm-up.
Console.WriteLine();
Console.WriteLine($"| motion | tracker frames/s (median of {runs}) | session runs per frame |");
Console.WriteLine("|---|---|---|");
int frames = inputs.Sum(x => x.Rows.Max(r => r.Frame));
foreach (var (name, model) in models)
{
    foreach (var x in inputs) MotReplay.Run(x.Rows, fps: 25, motionModel: model); // warm-up
    long before = learned.SessionRuns;
    var times = new List<double>();
    for (int r = 0; r < runs; r++)
    {
        var sw = Stopwatch.StartNew();
        foreach (var x in inputs) MotReplay.Run(x.Rows, fps: 25, motionModel: model);
        times.Add(sw.Elapsed.TotalSeconds);
    }
    times.Sort();
    double perFrame = (learned.SessionRuns - before) / (double)(runs * frames);
    Console.WriteLine($"| {name} | {frames / times[times.Count / 2]:0} | {perFrame:0.00} |");
}
return 0;

static string FindRepoRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Directory.Packages.props"))) return dir.FullName;
    throw new InvalidOperationException("repository root (Directory.Packages.props) not found above " + AppContext.BaseDirectory);
}
