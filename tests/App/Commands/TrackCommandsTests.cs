using System.Text.Json;
using Xunit.Abstractions;

namespace StreamVision.App.Tests;

// Both classes swap Console.Out/Error to read what a verb prints: one collection, so they never run at the same time.
[Collection("console")]
public partial class TrackCommandsTests(ITestOutputHelper log)
{
    [Fact]
    public void TrackThenEvalOnTudCampusPrintsMetrics()
    {
        string seq = Path.Combine(TestEnvironment.SharedData, "mot15", "TUD-Campus");
        string tracks = Path.Combine(TestEnvironment.NewTempDir(), "tracks.txt");
        Assert.Equal(0, ConsoleCapture.Run(() => Program.Main(["track", "-d", Path.Combine(seq, "det", "det-frcnn.txt"), "-o", tracks])).Code);
        var (rc, text, _) = ConsoleCapture.Run(() => Program.Main(["eval-mot", "--gt", Path.Combine(seq, "gt", "gt.txt"), "--tracks", tracks, "--json"]));
        Assert.Equal(0, rc);
        var json = JsonDocument.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..]).RootElement;
        Assert.True(json.GetProperty("mota").GetDouble() > 0.6, text);
    }

    [Fact]
    public void SequencesAreNamedAfterTheirFolderOrTheirOwnFile()
    {
        // Ground truth as gt/gt.txt in the sequence's folder, and the same file renamed (a resized copy, say) elsewhere.
        string gt = Path.Combine(TestEnvironment.SharedData, "mot15", "TUD-Campus", "gt", "gt.txt");
        string dir = TestEnvironment.NewTempDir();
        string renamed = Path.Combine(dir, "campus-small.txt"), tracks = Path.Combine(dir, "tracks.txt");
        File.Copy(gt, renamed);
        File.Copy(gt, tracks);
        var (code, text) = Run(["eval-mot", "--gt", gt, "--tracks", tracks, "--gt", renamed, "--tracks", tracks, "--gt", renamed, "--tracks", tracks]);
        Assert.Equal(0, code);
        string[] rows = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).SkipWhile(l => !l.StartsWith("Sequence", StringComparison.Ordinal)).ToArray();
        Assert.StartsWith("TUD-Campus ", rows[1]);
        Assert.StartsWith("campus-small ", rows[2]);
        Assert.StartsWith("campus-small#2 ", rows[3]);
    }

    [Fact]
    public void TrackAndEvalAFolderOfSequencesPrintEachAndThePooledRow()
    {
        string data = Path.Combine(TestEnvironment.SharedData, "mot15");
        string results = Path.Combine(TestEnvironment.NewTempDir(), "frcnn");
        var (code, text) = Run(["track", "-d", data, "--det-name", "det-frcnn.txt", "-o", results]);
        Assert.Equal(0, code);
        Assert.True(File.Exists(Path.Combine(results, "TUD-Campus.txt")) && File.Exists(Path.Combine(results, "TUD-Stadtmitte.txt")), text);

        (code, text) = Run(["eval-mot", "--gt", data, "--tracks", results]);
        Assert.Equal(0, code);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).SkipWhile(l => !l.StartsWith("Sequence", StringComparison.Ordinal)).ToArray();
        Assert.Contains("HOTA", lines[0]);
        Assert.Contains("AssA", lines[0]);
        Assert.StartsWith("TUD-Campus", lines[1]);
        Assert.StartsWith("TUD-Stadtmitte", lines[2]);
        Assert.StartsWith("OVERALL", lines[3]);

        // JSON: both sequences and the pool, which sums the counts of the two.
        (code, text) = Run(["eval-mot", "--gt", data, "--tracks", results, "--json"]);
        Assert.Equal(0, code);
        var root = Json(text);
        var seqs = root.GetProperty("sequences").EnumerateArray().ToList();
        Assert.Equal(2, seqs.Count);
        var overall = root.GetProperty("overall");
        foreach (string count in (string[])["falsePositives", "misses", "idSwitches", "gtBoxes", "trackBoxes", "idtp"])
            Assert.Equal(seqs.Sum(e => e.GetProperty(count).GetInt64()), overall.GetProperty(count).GetInt64());
        double mota = 1 - (double)(overall.GetProperty("falsePositives").GetInt64() + overall.GetProperty("misses").GetInt64()
            + overall.GetProperty("idSwitches").GetInt64()) / overall.GetProperty("gtBoxes").GetInt64();
        Assert.Equal(mota, overall.GetProperty("mota").GetDouble(), 6);

        // The same pair of sequences given as files, in order.
        (code, text) = Run(["eval-mot",
            "--gt", Path.Combine(data, "TUD-Campus", "gt", "gt.txt"), "--gt", Path.Combine(data, "TUD-Stadtmitte", "gt", "gt.txt"),
            "--tracks", Path.Combine(results, "TUD-Campus.txt"), "--tracks", Path.Combine(results, "TUD-Stadtmitte.txt"), "--json"]);
        Assert.Equal(0, code);
        Assert.Equal(overall.GetProperty("mota").GetDouble(), Json(text).GetProperty("overall").GetProperty("mota").GetDouble());
    }

    [Fact]
    public void TrackSetChangesTrackerOptions_AndMistakesAreUsageErrors()
    {
        string det = Path.Combine(TestEnvironment.SharedData, "mot15", "TUD-Campus", "det", "det-frcnn.txt");
        string dir = TestEnvironment.NewTempDir();
        Assert.Equal(0, Run(["track", "-d", det, "-o", Path.Combine(dir, "default.txt")]).Code);
        Assert.Equal(0, Run(["track", "-d", det, "-o", Path.Combine(dir, "one.txt"), "--set", "min_hits=1", "--set", "NewTrackScore=0.5"]).Code);
        // Confirming at the first hit reports more boxes than waiting for three.
        Assert.True(File.ReadAllLines(Path.Combine(dir, "one.txt")).Length > File.ReadAllLines(Path.Combine(dir, "default.txt")).Length);

        var (code, text) = Run(["track", "-d", det, "-o", Path.Combine(dir, "x.txt"), "--set", "min_hitz=2"]);
        Assert.Equal(2, code);
        Assert.Contains("tracker.min_hitz: unknown key", text);
        Assert.Contains("shared_detection_iou", text);
        (code, text) = Run(["track", "-d", det, "-o", Path.Combine(dir, "x.txt"), "--set", "lost_matching=sideways"]);
        Assert.Equal(2, code);
        Assert.Contains("joint or after_tracked", text);
        (code, text) = Run(["track", "-d", det, "-o", Path.Combine(dir, "x.txt"), "--set", "min_hits=0"]);
        Assert.Equal(2, code);
        Assert.Contains("tracker.minHits", text);
    }

    [Fact]
    public void EvalMotPairingMistakesAreNamed()
    {
        string data = Path.Combine(TestEnvironment.SharedData, "mot15");
        string empty = TestEnvironment.NewTempDir();
        var (code, text) = Run(["eval-mot", "--gt", data, "--tracks", empty]);
        Assert.Equal(1, code);
        Assert.Contains("TUD-Campus.txt", text);
        (code, text) = Run(["eval-mot", "--gt", Path.Combine(data, "TUD-Campus", "gt", "gt.txt"), "--gt", Path.Combine(data, "TUD-Stadtmitte", "gt", "gt.txt"),
            "--tracks", Path.Combine(data, "TUD-Campus", "gt", "gt.txt")]);
        Assert.Equal(2, code);
        Assert.Contains("2 --gt file(s) but 1 --tracks file(s)", text);
    }

    /// <summary>The JSON object in what a command printed (other tests may print to the console meanwhile).</summary>
    private static JsonElement Json(string text) =>
        JsonDocument.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..(text.LastIndexOf('}') + 1)]).RootElement;

    /// <summary>Runs the command line, capturing what it prints (standard output and error together).</summary>
    private static (int Code, string Text) Run(string[] args)
    {
        var (code, output, error) = ConsoleCapture.Run(() => Program.Main(args));
        return (code, output + error);
    }

    [Fact]
    public void VersionPrintsEveryComponent()
    {
        var output = new StringWriter();
        Assert.Equal(0, StreamVision.App.Commands.VersionCommand.Run(output));
        string s = output.ToString();
        Assert.Contains("FFmpeg", s);
        Assert.Matches(@"OpenCV +4\.\d+\.\d+ \(OpenCvSharp\)", s);
        string flavour = StreamVision.Inference.OnnxRuntimeInfo.Flavour;
        Assert.Matches($@"ONNX Runtime   1\.31\.\d+ \({flavour} build\)", s);
        // Providers are probed with a real session: the line lists those that work, each other one says why not.
        var probes = StreamVision.Inference.OnnxRuntimeInfo.ProbeProviders();
        Assert.Contains("providers      " + string.Join(", ", probes.Where(p => p.Usable).Select(p => p.Name)) + Environment.NewLine, s);
        Assert.Contains("cpu", probes.Where(p => p.Usable).Select(p => p.Name));
        foreach (var p in probes.Where(p => !p.Usable)) Assert.Contains($"{p.Name,-12} unavailable: {p.Reason}", s);
        if (flavour == "cpu")
        {
            Assert.Contains("cuda         unavailable: not in this ONNX Runtime build", s);
            Assert.Contains("tensorrt     unavailable: not in this ONNX Runtime build", s);
        }
    }
}
