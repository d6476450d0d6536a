using StreamVision.App.Config;
using StreamVision.Ingest;

namespace StreamVision.App.Tests.Config;

public partial class ConfigLoaderTests
{
    [Theory]
    [InlineData("annotate-file.yaml")]
    [InlineData("classify-segment.yaml")]
    [InlineData("rtsp-cameras-mqtt.yaml")]
    [InlineData("webcam-preview.yaml")]
    [InlineData("web-ui.yaml")]
    public void EveryExampleLoads(string name)
    {
        var c = ConfigLoader.LoadFile(Path.Combine(TestEnvironment.RepoRoot, "config", name), new Dictionary<string, string>());
        // web-ui.yaml starts empty: its streams are added in the browser.
        if (name != "web-ui.yaml") Assert.NotEmpty(c.Streams);
        Assert.All(c.Streams, s => Assert.False(string.IsNullOrEmpty(s.Id)));
    }

    [Fact]
    public void NoTwoExamplesShareAStateFileOrAnEventStore()
    {
        // The examples live in one folder and relative ui paths are relative to it: with the same file names, a stream
        // added in the browser under web-ui.yaml started again under annotate-file.yaml (one state file for all of them).
        string dir = Path.Combine(TestEnvironment.RepoRoot, "config");
        var examples = Directory.GetFiles(dir, "*.yaml").Select(f => ConfigLoader.LoadFile(f, new Dictionary<string, string>())).ToList();
        Assert.True(examples.Count >= 5, $"{examples.Count} examples in config/");
        string Resolved(SvConfig c, string path) => path.Replace("{instance}", c.Instance, StringComparison.Ordinal);
        var stateFiles = examples.Select(c => Resolved(c, c.Ui.StateFile)).ToList();
        var eventStores = examples.Select(c => Resolved(c, c.Ui.Events.Path)).ToList();
        Assert.Equal(stateFiles.Count, stateFiles.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(eventStores.Count, eventStores.Distinct(StringComparer.Ordinal).Count());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void CameraMotionCompensationIsChosenPerStreamOverTheInstanceDefault(bool instanceDefault)
    {
        string yaml = $$"""
            tracker:
              compensate_camera_motion: {{(instanceDefault ? "true" : "false")}}
              camera_motion: { max_features: 200 }
            streams:
              - id: ptz
                uri: rtsp://ptz/stream
                compensate_camera_motion: true
              - id: door
                uri: rtsp://door/stream
                compensate_camera_motion: false
              - id: other
                uri: rtsp://other/stream
            """;
        var c = ConfigLoader.LoadText(yaml, "cmc.yaml", new Dictionary<string, string>());
        Assert.Equal(200, c.Tracker.CameraMotion.MaxFeatures);
        bool Compensates(string id) => StreamVision.App.Service.StreamHost.TrackerOptions(c.Streams.Single(s => s.Id == id), c).CompensateCameraMotion;
        Assert.True(Compensates("ptz"));
        Assert.False(Compensates("door"));
        Assert.Equal(instanceDefault, Compensates("other"));
    }

    [Fact]
    public void CameraMotionMistakesNameTheirKeys()
    {
        const string yaml = """
            tracker:
              camera_motion: { min_inliers: 1 }
            streams:
              - id: ptz
                uri: rtsp://ptz/stream
                compensate_camera_motion: sometimes
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "bad.yaml", new Dictionary<string, string>()));
        var paths = ex.Errors.Select(e => e.Path).ToList();
        Assert.Contains("tracker.camera_motion.min_inliers", paths);
        Assert.Contains("streams[0].compensate_camera_motion", paths);
    }

    [Fact]
    public void FiveMistakesAreAllReportedWithTheirKeyPaths()
    {
        const string yaml = """
            detector:
              confidence: 2
              batch:
                max_size: 0
            streams:
              - id: a
                uri: testsrc
                max_fsp: 10
              - id: b
              - id: c
                uri: lavfi:testsrc2
                mode: sometimes
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "bad.yaml", new Dictionary<string, string>()));
        var paths = ex.Errors.Select(e => e.Path).ToList();
        Assert.Equal(5, ex.Errors.Count);
        Assert.Contains("detector.confidence", paths);
        Assert.Contains("detector.batch.max_size", paths);
        Assert.Contains("streams[0].max_fsp", paths);
        Assert.Contains("streams[1].uri", paths);
        Assert.Contains("streams[2].mode", paths);
        Assert.Contains(ex.Errors, e => e.ToString() == "detector.batch.max_size: must be 1..64, got 0");
        Assert.Contains(ex.Errors, e => e.ToString() == "streams[1].uri: missing");
    }

    [Fact]
    public void EnvironmentOverridesApplyByKeyPath()
    {
        const string yaml = """
            instance: a
            streams:
              - id: cam
                uri: rtsp://old/stream
            """;
        var env = new Dictionary<string, string>
        {
            ["SV__INSTANCE"] = "node-b",
            ["SV__DETECTOR__CONFIDENCE"] = "0.7",
            ["SV__STREAMS__0__URI"] = "rtsp://new/stream",
            ["SV__STREAMS__1__URI"] = "lavfi:testsrc2",
            ["SV__STREAMS__1__ID"] = "pattern",
            ["SV_LOG_LEVEL"] = "Debug",
        };
        var c = ConfigLoader.LoadText(yaml, "env.yaml", env);
        Assert.Equal("node-b", c.Instance);
        Assert.Equal(0.7f, c.Detector.Options.ConfidenceThreshold);
        Assert.Equal("rtsp://new/stream", c.Streams[0].Source.Uri);
        Assert.Equal("pattern", c.Streams[1].Id);
    }

    [Fact]
    public void DefaultsAreFilledAndStreamFieldsBound()
    {
        const string yaml = """
            streams:
              - uri: rtsp://cam.local/live
                rtsp_transport: udp
                max_fps: 12.5
                zones:
                  - name: door
                    polygon: [[0, 0], [10, 0], [10, 10]]
                lines:
                  - name: gate
                    points: [[0, 5], [10, 5]]
                    classes: [person]
            """;
        var c = ConfigLoader.LoadText(yaml, "s.yaml", new Dictionary<string, string>());
        var s = c.Streams[0];
        Assert.False(string.IsNullOrEmpty(s.Id));
        Assert.Equal(RtspTransport.Udp, s.Source.RtspTransport);
        Assert.Equal(12.5, s.Source.MaxFps);
        Assert.Equal(3, s.Zones[0].Polygon.Count);
        Assert.Equal((10f, 5f), s.Lines[0].To);
        Assert.Equal("blazeface", c.Detector.Model);
        Assert.Equal(8, c.Detector.Batch.MaxBatch);
    }

    [Fact]
    public void TrackerMotionIsKalmanOrAnOnnxModel()
    {
        var ok = ConfigLoader.LoadText("tracker:\n  motion: models/motion-gru.onnx\n", "m.yaml", new Dictionary<string, string>());
        Assert.Equal("models/motion-gru.onnx", ok.Tracker.Motion);
        Assert.Equal("kalman", ConfigLoader.LoadText("", "d.yaml", new Dictionary<string, string>()).Tracker.Motion);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("tracker:\n  motion: lstm\n", "b.yaml", new Dictionary<string, string>()));
        Assert.Equal("tracker.motion", ex.Errors.Single().Path);
    }

    [Fact]
    public void OnnxRuntimeSpinningIsOffUnlessAsked()
    {
        var empty = new Dictionary<string, string>();
        Assert.False(ConfigLoader.LoadText("", "d.yaml", empty).Detector.Session.AllowSpinning);
        Assert.True(ConfigLoader.LoadText("detector:\n  allow_spinning: true\n", "s.yaml", empty).Detector.Session.AllowSpinning);
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("detector:\n  allow_spinning: often\n", "b.yaml", empty));
        Assert.Equal("detector.allow_spinning", ex.Errors.Single().Path);
    }

    [Fact]
    public void InvalidYamlNamesTheLine()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("streams:\n  - id: a\n   uri: x\n", "y.yaml", new Dictionary<string, string>()));
        Assert.Contains("line", ex.Errors[0].Path);
    }
}
