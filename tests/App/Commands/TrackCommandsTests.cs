using System.Text.Json;

namespace StreamVision.App.Tests;

public class TrackCommandsTests
{
    [Fact]
    public void TrackThenEvalOnTudCampusPrintsMetrics()
    {
        string seq = Path.Combine(TestEnvironment.SharedData, "mot15", "TUD-Campus");
        string tracks = Path.Combine(TestEnvironment.NewTempDir(), "tracks.txt");
        var output = new StringWriter();
        var stdout = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, Program.Main(["track", "-d", Path.Combine(seq, "det", "det-frcnn.txt"), "-o", tracks]));
            Assert.Equal(0, Program.Main(["eval-mot", "--gt", Path.Combine(seq, "gt", "gt.txt"), "--tracks", tracks, "--json"]));
        }
        finally
        {
            Console.SetOut(stdout);
        }
        string text = output.ToString();
        var json = JsonDocument.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..]).RootElement;
        Assert.True(json.GetProperty("mota").GetDouble() > 0.6, text);
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
