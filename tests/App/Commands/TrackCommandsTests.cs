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
        Assert.Contains("ONNX Runtime   1.", s);
        Assert.Contains("CPUExecutionProvider", s);
    }
}
