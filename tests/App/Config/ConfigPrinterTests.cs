using StreamVision.App.Commands;
using StreamVision.App.Config;

namespace StreamVision.App.Tests.Config;

/// <summary>config check prints what the service would run with: every key, loadable again, secrets hidden.</summary>
public class ConfigPrinterTests
{
    private static readonly Dictionary<string, string> NoEnv = new();

    [Fact]
    public void ThePrintedConfigurationLoadsBackToTheSameSettings()
    {
        const string yaml = """
            instance: node-7
            http:
              listen: ""
            detector:
              model: motion
              motion:
                min_area: 900
              providers: [cuda, cpu]
              cuda:
                conv_algo_search: heuristic
              batch:
                max_wait_ms: 2.5
            tracker:
              min_hits: 3
              kalman:
                reference_fps: 25
            sinks:
              video:
                path: "out/{stream}: annotated.mp4"
                extra_options:
                  movflags: +faststart
              events: out/{stream}.jsonl
              mqtt:
                host: broker.local
                protocol: 5
                state_topic: ""
                tls: {}
              preview: false
              obscure: [face, "a, b"]
            streams:
              - uri: /data/clip one.mp4
                mode: file
                zones:
                  - name: door
                    polygon: [[0, 0], [0.5, 0], [0.5, 1]]
                    units: fraction
                lines:
                  - name: gate
                    points: [[0, 5], [10, 5]]
                sinks:
                  queue: 3
              - id: cam
                uri: rtsp://10.0.0.1/live
                open_timeout_seconds: 2
                ffmpeg_options:
                  fflags: nobuffer
            """;
        string first = Print(ConfigLoader.LoadText(yaml, "p.yaml", NoEnv));
        var again = ConfigLoader.LoadText(first, "printed.yaml", NoEnv);
        Assert.Equal(first, Print(again));
        Assert.Contains("  path: \"out/{stream}: annotated.mp4\"", first);
        Assert.Contains("    port: 8883", first);
        Assert.Contains("  preview: false", first);
        Assert.Equal(TimeSpan.FromMilliseconds(2.5), again.Detector.Batch.MaxWait);
        Assert.Equal(Analytics.CoordinateUnits.Fraction, again.Streams[0].Zones[0].Units);
        Assert.Equal(3, again.Streams[0].Sinks!.QueueCapacity);
        Assert.Equal("clip_one", again.Streams[0].Id);
    }

    [Fact]
    public void SecretsArePrintedAsSet()
    {
        const string yaml = """
            sinks:
              mqtt:
                host: broker.local
                username: sv
                password: hunter2-mqtt
              webhook:
                url: https://user:hunter2-url@hooks.example/x
                headers:
                  Authorization: Bearer hunter2-token
            streams:
              - uri: rtsp://admin:hunter2-cam@10.0.0.1/live
            """;
        string printed = Print(ConfigLoader.LoadText(yaml, "s.yaml", NoEnv));
        Assert.DoesNotContain("hunter2", printed);
        Assert.Contains("    password: (set)", printed);
        Assert.Contains("    headers: (set)", printed);
        Assert.Contains("uri: rtsp://admin:***@10.0.0.1/live", printed);
    }

    [Fact]
    public void ConfigCheckPrintsTheSettingsOrEveryError()
    {
        string dir = TestEnvironment.NewTempDir();
        string good = Path.Combine(dir, "good.yaml");
        File.WriteAllText(good, "detector:\n  model: none\nstreams:\n  - id: pattern\n    uri: testsrc\n");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(ExitCodes.Ok, ConfigCommand.Check(good, output, error));
        Assert.Contains("  - id: pattern\n", output.ToString());
        Assert.Equal("", error.ToString());

        string bad = Path.Combine(dir, "bad.yaml");
        File.WriteAllText(bad, "detector:\n  batch:\n    max_size: 0\nstreams:\n  - max_fsp: 10\n");
        output = new StringWriter();
        error = new StringWriter();
        Assert.Equal(ExitCodes.Usage, ConfigCommand.Check(bad, output, error));
        Assert.Equal("", output.ToString());
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"config: {bad}: 3 error(s)", lines[0]);
        Assert.Contains("  detector.batch.max_size: must be 1..64, got 0", lines);
        Assert.Contains("  streams[0].uri: missing", lines);
        Assert.Contains(lines, l => l.StartsWith("  streams[0].max_fsp: unknown key (expected one of: ", StringComparison.Ordinal)
            && l.Contains("decoder_threads, detect, enabled,", StringComparison.Ordinal) && l.Contains(" max_fps, ", StringComparison.Ordinal));
    }

    private static string Print(SvConfig c)
    {
        var w = new StringWriter();
        ConfigPrinter.Print(c, w);
        return w.ToString();
    }
}
