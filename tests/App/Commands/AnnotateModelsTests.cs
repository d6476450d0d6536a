using System.Text.Json;
using StreamVision.App.Commands;
using StreamVision.App.Config;
using StreamVision.App.Service;

namespace StreamVision.App.Tests;

/// <summary>The classifier and mask options from the command line and the configuration file.</summary>
public class AnnotateModelsTests
{
    private static string ColourModel => Path.Combine(TestEnvironment.RepoRoot, "models", "colour-classifier.onnx");

    [Fact]
    public void AnnotateWithTheShippedColourClassifierLabelsAMovingRedBox()
    {
        // A red box sliding over a grey background: the motion detector finds it, the tracker follows it, the colour
        // classifier trained here (models/colour-classifier.onnx) labels it.
        string clip = TestMedia.Make("red-box-over-grey.mp4",
            "-f lavfi -i color=c=gray:size=320x180:rate=25 -f lavfi -i color=c=red:size=48x40:rate=25 " +
            "-filter_complex \"[0][1]overlay=x='20+4*n':y=70:shortest=1\" -frames:v 50 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");
        string dir = TestEnvironment.NewTempDir();
        string events = Path.Combine(dir, "e.jsonl");
        int rc = Program.Main(["annotate", clip, "-o", Path.Combine(dir, "a.mp4"), "--model", "motion", "--classifier", ColourModel,
            "--events", events, "--preset", "ultrafast"]);
        Assert.Equal(ExitCodes.Ok, rc);
        var all = File.ReadAllLines(events).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var classified = all.Where(e => e.GetProperty("type").GetString() == "track_classified").ToList();
        Assert.NotEmpty(classified);
        Assert.All(classified, e => Assert.Equal("red", e.GetProperty("attributes").GetProperty("label").GetString()));
        var ended = all.Where(e => e.GetProperty("type").GetString() == "track_ended" && e.TryGetProperty("attributes", out _)).ToList();
        Assert.NotEmpty(ended);
        Assert.Equal("colour-classifier.onnx", ended[0].GetProperty("attributes").GetProperty("model").GetString());
    }

    [Fact]
    public void AMissingClassifierIsAUsageErrorNamingTheOption()
    {
        var (rc, _, error) = ConsoleCapture.Run(() => Program.Main(["annotate", TestMedia.H264(), "-o", Path.Combine(TestEnvironment.NewTempDir(), "x.mp4"),
            "--model", "motion", "--classifier", "/nonexistent/c.onnx"]));
        Assert.Equal(ExitCodes.Usage, rc);
        Assert.Contains("--classifier", error);
        Assert.Contains("/nonexistent/c.onnx", error);
    }

    [Fact]
    public void ClassifierMasksAndZoneOccupancyKeysBindAndBadValuesAreNamed()
    {
        var empty = new Dictionary<string, string>();
        var c = ConfigLoader.LoadText("""
            classifier:
              model: models/colour-classifier.onnx
              classes: [car]
              every_frames: 10
              max_per_second: 20
              mean: [0.485, 0.456, 0.406]
            masks:
              polygon_tolerance: 3
            streams:
              - id: a
                uri: a.mp4
                classify: false
                masks: false
                zones:
                  - name: bay
                    polygon: [[0, 0], [100, 0], [100, 100]]
                    occupancy: mask
                    min_occupancy: 0.3
            """, "c.yaml", empty);
        Assert.True(c.Classifier.Enabled);
        Assert.Equal(["car"], c.Classifier.Classes);
        Assert.Equal((10, 20.0), (c.Classifier.EveryFrames, c.Classifier.MaxPerSecond));
        Assert.Equal(3, c.Classifier.Mean.Count);
        Assert.Equal(3, c.Masks.PolygonTolerancePixels);
        Assert.False(c.Streams[0].Classify);
        Assert.False(c.Streams[0].Masks);
        Assert.Equal(Analytics.ZoneOccupancy.Mask, c.Streams[0].Zones[0].Occupancy);
        Assert.False(ConfigLoader.LoadText("", "d.yaml", empty).Classifier.Enabled);

        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("classifier:\n  growth: 0.5\n  top_k: 50\nmasks:\n  threshold: 2\n", "b.yaml", empty));
        var paths = ex.Errors.Select(e => e.Path).ToList();
        Assert.Contains("classifier.top_k", paths);
        Assert.Contains("masks.threshold", paths);
    }

    [Fact]
    public async Task TheExampleConfigClassifiesTheStreamThatAsksForItAndNotTheOther()
    {
        // config/classify-segment.yaml as the README shows it: config check accepts it, and the service runs it (its
        // outputs moved to a temporary folder, no HTTP listener): stream "red" is labelled, stream "blue" is not.
        string example = Path.Combine(TestEnvironment.RepoRoot, "config", "classify-segment.yaml");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Ok, ConfigCommand.Check(example, output, error));
        Assert.Contains("colour-classifier.onnx", output.ToString());
        Assert.DoesNotContain("detector.model", error.ToString()); // motion is no file

        string dir = TestEnvironment.NewTempDir();
        string yaml = File.ReadAllText(example)
            .Replace("models/colour-classifier.onnx", ColourModel, StringComparison.Ordinal)
            .Replace("out/", dir + "/", StringComparison.Ordinal)
            .Replace("http://127.0.0.1:8080", "\"\"", StringComparison.Ordinal);
        var config = ConfigLoader.LoadText(yaml, "classify-segment.yaml", new Dictionary<string, string>());
        Assert.Equal([true, false], config.Streams.Select(s => s.Classify));
        Assert.Equal([true, false], config.Streams.Select(s => s.Masks));
        var m = new StreamManager(config, new CapturingLogger());
        try
        {
            await m.StartAsync();
            foreach (var host in m.Streams) await host.Completion.WaitAsync(TimeSpan.FromSeconds(180));
        }
        finally
        {
            await m.DisposeAsync();
        }
        List<JsonElement> Events(string stream) =>
            File.ReadAllLines(Path.Combine(dir, $"{stream}.events.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var red = Events("red");
        var classified = red.Where(e => e.GetProperty("type").GetString() == "track_classified").ToList();
        Assert.NotEmpty(classified);
        Assert.All(classified, e => Assert.Equal("red", e.GetProperty("attributes").GetProperty("label").GetString()));
        var blue = Events("blue");
        Assert.Contains(blue, e => e.GetProperty("type").GetString() == "track_started");
        Assert.DoesNotContain(blue, e => e.TryGetProperty("attributes", out _));
        string frames = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{Path.Combine(dir, "red.annotated.mp4")}\"");
        Assert.Equal("250", frames.Trim()); // d=10 at 25 fps, every frame (file mode)
    }

    [Fact]
    public void ConfigCheckWarnsAboutAMissingClassifierModelAndNotAboutTheMotionDetector()
    {
        string file = Path.Combine(TestEnvironment.NewTempDir(), "c.yaml");
        File.WriteAllText(file, "detector:\n  model: motion\nclassifier:\n  model: nowhere/c.onnx\nstreams:\n  - id: p\n    uri: testsrc\n");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Ok, ConfigCommand.Check(file, output, error)); // files travel between machines: a warning
        Assert.Equal("config: warning: classifier.model: file not found here: 'nowhere/c.onnx'", error.ToString().Trim());
    }
}
