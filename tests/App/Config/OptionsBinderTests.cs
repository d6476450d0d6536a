using System.Collections;
using System.Globalization;
using StreamVision.App.Config;
using StreamVision.Core;
using YamlDotNet.Serialization;

namespace StreamVision.App.Tests.Config;

/// <summary>
/// Every option of every stage is reachable from YAML: the test walks the options types the configuration is made of
/// (so a new option is covered the day it is added), sets each key in a file and checks the bound value moved off its
/// default.
/// </summary>
public class OptionsBinderTests
{
    private static readonly Dictionary<string, string> NoEnv = new();

    /// <summary>Keys a record needs before anything else in it can be set (the file's required keys).</summary>
    private static readonly Dictionary<string, object> Required = new()
    {
        ["streams[].uri"] = "clip.mp4",
        ["streams[].zones[].name"] = "zone",
        ["streams[].zones[].polygon"] = Points((0, 0), (10, 0), (10, 10)),
        ["streams[].lines[].name"] = "line",
        ["streams[].lines[].points"] = Points((0, 0), (10, 10)),
        ["sinks.video.path"] = "out/{stream}.mp4",
        ["sinks.events.path"] = "out/{stream}.jsonl",
        ["sinks.mqtt.host"] = "broker.local",
        ["sinks.webhook.url"] = "http://127.0.0.1:9/hook",
        ["sinks.snapshots.directory"] = "out/snapshots",
        ["sinks.kafka.brokers"] = "k1:9092",
        ["cluster.endpoints"] = new List<object> { "http://127.0.0.1:2379" },
    };

    /// <summary>Keys that are only valid together with another (MQTT's key pair, a password's user, coordinates in fractions).</summary>
    private static Dictionary<string, (string Key, object Value)> Partners(string file) => new()
    {
        ["sinks.mqtt.tls.cert_file"] = ("sinks.mqtt.tls.key_file", file),
        ["sinks.mqtt.tls.key_file"] = ("sinks.mqtt.tls.cert_file", file),
        ["sinks.mqtt.password"] = ("sinks.mqtt.username", "user"),
        ["streams[].zones[].units"] = ("streams[].zones[].polygon", new List<object> { Point(0, 0), Point(0.5, 0), Point(0.5, 1) }),
        ["streams[].lines[].units"] = ("streams[].lines[].points", new List<object> { Point(0, 0.5), Point(1, 0.5) }),
    };

    private static List<object> Point(double x, double y) => [x, y];

    [Fact]
    public void EveryOptionOfEveryStageIsReadFromYaml()
    {
        string dir = TestEnvironment.NewTempDir();
        string file = Path.Combine(dir, "some.pem");
        File.WriteAllText(file, "pem");
        var partners = Partners(file);
        var keys = Keys(typeof(SvConfig), "", new HashSet<Type>()).ToList();
        var failures = new List<string>();
        foreach (var (path, member) in keys)
        {
            var context = Required.Where(r => path.StartsWith(Parent(r.Key) is { Length: > 0 } p ? p + "." : "", StringComparison.Ordinal))
                .Select(r => (r.Key, r.Value)).ToList();
            var before = Get(Load(Yaml(context)), path);
            if (partners.TryGetValue(path, out var partner)) context.Add(partner);
            string? reason = null;
            bool read = false;
            foreach (var candidate in Candidates(member, before, file))
            {
                try
                {
                    var after = Get(Load(Yaml([.. context, (path, candidate)])), path);
                    if (!Same(before, after)) { read = true; break; }
                    reason = $"{Show(candidate)} left it at {Show(after)}";
                }
                catch (ConfigException ex)
                {
                    reason = $"{Show(candidate)}: {string.Join("; ", ex.Errors)}";
                }
            }
            if (!read) failures.Add($"{path}: {reason ?? "no value to try"}");
        }
        Assert.True(failures.Count == 0, "options not read from YAML:\n" + string.Join("\n", failures));
        // The walk met every options record the configuration is made of, and the stages' own types among them.
        var walked = keys.Select(k => k.Member.Owner).ToHashSet();
        Assert.Equal(OptionModel.Reachable(typeof(SvConfig)).Select(t => t.Name).Order(), walked.Select(t => t.Name).Order());
        foreach (var stage in new[] { typeof(Ingest.SourceOptions), typeof(Inference.DetectorStageOptions), typeof(Inference.ModelSessionOptions),
                     typeof(Inference.CudaProviderOptions), typeof(Inference.TensorRtProviderOptions), typeof(Inference.DetectorOptions),
                     typeof(Inference.BatcherOptions), typeof(Imaging.BackgroundSubtractorOptions), typeof(Tracking.ByteTrackerOptions),
                     typeof(Tracking.Motion.KalmanMotionOptions), typeof(Analytics.AnalyticsOptions), typeof(Analytics.ZoneOptions),
                     typeof(Analytics.LineOptions), typeof(Sinks.VideoSinkOptions), typeof(Sinks.AnnotatorOptions), typeof(Sinks.JsonLinesOptions),
                     typeof(Sinks.MqttOptions), typeof(Sinks.MqttTlsOptions), typeof(Sinks.WebhookOptions), typeof(Sinks.SnapshotOptions),
                     typeof(Sinks.MjpegPreviewOptions), typeof(Sinks.SinkRunnerOptions) })
            Assert.Contains(stage, walked);
        Assert.True(keys.Count > 150, $"only {keys.Count} keys");
    }

    [Fact]
    public void MistakesAcrossStagesAreAllReportedWithTheFilesKeyPaths()
    {
        const string yaml = """
            detector:
              providers: [cpu, npu]
              batch:
                max_wait_ms: soon
            tracker:
              high_score: 0.3
              low_score: 0.4
            sinks:
              preview: maybe
              snapshots:
                directory: out/snaps
                qualty: 80
            streams:
              - uri: a.mp4
                decoder_threads: 99
                zones:
                  - name: z
                    polygon: [[0, 0], [10], [10, 10]]
              - uri: rtsp://cam/1
                loop: true
                lines:
                  - name: l
                    points: [[0, 0], [1, 1], [2, 2]]
              - uri: b.mp4
                reconnect_initial_seconds: 5
                reconnect_max_seconds: 1
                sinks:
                  webhook:
                    url: http://hooks.local/x
                    max_attempts: 0
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "bad.yaml", NoEnv));
        Assert.Equal(
            ["detector.batch.max_wait_ms", "detector.providers", "sinks.preview", "sinks.snapshots.qualty", "streams[0].decoder_threads",
             "streams[0].zones[0].polygon[1]", "streams[1].lines[0].points", "streams[1].loop", "streams[2].reconnect_max_seconds",
             "streams[2].sinks.webhook.max_attempts", "tracker.low_score"],
            ex.Errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        string[] expected =
        [
            "detector.batch.max_wait_ms: must be a number 0..1000, got 'soon'",
            "detector.providers: unknown execution provider 'npu' (expected tensorrt, cuda or cpu)",
            "sinks.preview: must be a mapping (key: value lines), true or false",
            "sinks.snapshots.qualty: unknown key (expected one of: crop, crop_padding, directory, enabled, full_frame, max_bytes, max_live_tracks, min_score, quality)",
            "streams[0].decoder_threads: must be 0..64, got 99",
            "streams[0].zones[0].polygon[1]: must be a point [x, y]",
            "streams[1].lines[0].points: must be two points [[x1, y1], [x2, y2]], got 3",
            "streams[2].sinks.webhook.max_attempts: must be 1..100, got 0",
        ];
        foreach (var e in expected) Assert.Contains(e, ex.Errors.Select(x => x.ToString()));
        // Checks of the stages' own Validate methods come out under the file's keys, not the properties' names.
        Assert.StartsWith("tracker.low_score: must not exceed", ex.Errors.Single(e => e.Path == "tracker.low_score").ToString());
        Assert.Contains("applies to files only", ex.Errors.Single(e => e.Path == "streams[1].loop").Message);
        Assert.Contains("at least", ex.Errors.Single(e => e.Path == "streams[2].reconnect_max_seconds").Message);
    }

    [Fact]
    public void KindsOfValueAreCheckedWithTheirKeyPath()
    {
        const string yaml = """
            instance: "has space"
            frame_pool_mb: 12.5
            http: [a, b]
            detector:
              classes: {a: b}
              allow_spinning: maybe
              motion:
                history: 0
            streams:
              - uri: [x]
                mode: sometimes
                ffmpeg_options: [a]
                max_fps: -1
            """;
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText(yaml, "kinds.yaml", NoEnv));
        Assert.Equal(
        [
            "detector.allow_spinning: must be true or false, got 'maybe'",
            "detector.classes: must be a list",
            "detector.motion.history: must be 1..100000, got 0",
            "frame_pool_mb: must be a whole number 64..65536, got '12.5'",
            "http: must be a mapping (key: value lines)",
            "instance: must be 1..64 letters, digits, '-', '_' or '.', not starting with '.' (ids become file names), got 'has space'",
            "streams[0].ffmpeg_options: must be a mapping (key: value lines)",
            "streams[0].max_fps: must be 0..1000, got -1",
            "streams[0].mode: must be one of auto, file, live, got 'sometimes'",
            "streams[0].uri: must be a single value, got a list",
        ], ex.Errors.Select(e => e.ToString()).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ShorthandsSwitchesAndInheritedSinks()
    {
        const string yaml = """
            instance: node-1
            sinks:
              events: out/{instance}/{stream}.jsonl
              snapshots: out/snaps
              queue: 32
              video:
                path: out/{stream}.mp4
                crf: 30
                annotator:
                  labels: false
            streams:
              - id: a
                uri: a.mp4
              - id: b
                uri: b.mp4
                sinks:
                  preview: false
                  video:
                    crf: 18
                  snapshots:
                    quality: 70
              - id: c
                uri: c.mp4
                sinks:
                  video:
                    enabled: false
                    crf: 99
                  events: false
                  queue:
                    max_consecutive_errors: 0
            """;
        var c = ConfigLoader.LoadText(yaml, "s.yaml", NoEnv);
        Assert.Equal("out/{instance}/{stream}.jsonl", c.Sinks.Events!.Path);
        Assert.Equal(5, c.Sinks.Events.Keep);
        Assert.Equal("out/snaps", c.Sinks.Snapshots!.Directory);
        Assert.Equal(32, c.Sinks.QueueCapacity);
        Assert.NotNull(c.Sinks.Preview);
        Assert.False(c.Sinks.Video!.Annotator.Labels);
        Assert.Null(c.Streams[0].Sinks);
        // Stream b overrides key by key and inherits the rest.
        var b = c.Streams[1].Sinks!;
        Assert.Null(b.Preview);
        Assert.Equal((18, "out/{stream}.mp4", false), (b.Video!.Crf, b.Video.Path, b.Video.Annotator.Labels));
        Assert.Equal(("out/snaps", 70), (b.Snapshots!.Directory, b.Snapshots.Quality));
        Assert.Equal(c.Sinks.Events, b.Events);
        Assert.Equal(32, b.QueueCapacity);
        // Switched off: nothing inside is checked (crf 99 is out of range) and the instance's output is not inherited.
        var cs = c.Streams[2].Sinks!;
        Assert.Null(cs.Video);
        Assert.Null(cs.Events);
        Assert.Equal((32, 0), (cs.Queue.Capacity, cs.Queue.MaxConsecutiveErrors));
        // The instance's own records are untouched by what the streams changed.
        Assert.Equal(30, c.Sinks.Video.Crf);
        Assert.Equal(90, c.Sinks.Snapshots.Quality);
    }

    [Fact]
    public void DurationsTakeTheUnitOfTheirKey()
    {
        var c = ConfigLoader.LoadText("""
            detector:
              batch:
                max_wait_ms: 12.5
            streams:
              - uri: rtsp://cam/1
                open_timeout_seconds: 2.5
                reconnect_max_seconds: 90
            """, "d.yaml", NoEnv);
        Assert.Equal(TimeSpan.FromMilliseconds(12.5), c.Detector.Batch.MaxWait);
        Assert.Equal(TimeSpan.FromSeconds(2.5), c.Streams[0].Source.OpenTimeout);
        Assert.Equal(TimeSpan.FromSeconds(90), c.Streams[0].Source.ReconnectMaxDelay);
        Assert.Equal("cam_1", c.Streams[0].Id);
    }

    [Fact]
    public void EnvironmentOverridesReachNestedStageOptions()
    {
        var env = new Dictionary<string, string>
        {
            ["SV__DETECTOR__CUDA__CONV_ALGO_SEARCH"] = "heuristic",
            ["SV__TRACKER__KALMAN__REFERENCE_FPS"] = "25",
            ["SV__SINKS__WEBHOOK__URL"] = "https://hooks.example/x",
            ["SV__SINKS__WEBHOOK__HEADERS__AUTHORIZATION"] = "Bearer t0ken",
            ["SV__STREAMS__0__LINES__0__HYSTERESIS_PIXELS"] = "9",
        };
        var c = ConfigLoader.LoadText("""
            streams:
              - uri: a.mp4
                lines:
                  - name: door
                    points: [[0, 5], [10, 5]]
            """, "e.yaml", env);
        Assert.Equal(Inference.CudnnConvAlgoSearch.Heuristic, c.Detector.Session.Cuda.ConvAlgoSearch);
        Assert.Equal(25, c.Tracker.Options.Kalman.ReferenceFps);
        Assert.Equal("Bearer t0ken", c.Sinks.Webhook!.Headers!["authorization"]);
        Assert.Equal(9f, c.Streams[0].Lines[0].HysteresisPixels);
        Assert.Equal(((0f, 5f), (10f, 5f)), (c.Streams[0].Lines[0].From, c.Streams[0].Lines[0].To));
    }

    [Fact]
    public void OptionKeysAreSnakeCaseOfThePropertyNames()
    {
        Assert.Equal("max_batch", OptionModel.SnakeCase("MaxBatch"));
        Assert.Equal("hw_accel", OptionModel.SnakeCase("HwAccel"));
        Assert.Equal("use_tf32", OptionModel.SnakeCase("UseTf32"));
        Assert.Equal("io_timeout_seconds", OptionModel.SnakeCase("IoTimeoutSeconds"));
        Assert.Equal("frame_pool_mb", OptionModel.SnakeCase("FramePoolMb"));
        Assert.Equal("url", OptionModel.SnakeCase("URL"));
        // Every key of the configuration is snake_case, unique at its level, and durations say their unit.
        foreach (var type in OptionModel.Reachable(typeof(SvConfig)))
        {
            var keys = OptionModel.Keyed(type).Select(k => k.Key).ToList();
            Assert.All(keys, k => Assert.Matches("^[a-z][a-z0-9_]*$", k));
            Assert.Equal(keys.Count, keys.Distinct().Count());
        }
    }

    private static SvConfig Load(string yaml) => ConfigLoader.LoadText(yaml, "walk.yaml", NoEnv);

    private static string Parent(string path) => path.LastIndexOf('.') is var i and >= 0 ? path[..i] : "";

    /// <summary>Every key below <paramref name="type"/> with its member; each record type once (per-stream sinks are the instance's type).</summary>
    private static IEnumerable<(string Path, OptionMember Member)> Keys(Type type, string path, HashSet<Type> seen)
    {
        seen.Add(type);
        foreach (var m in OptionModel.Keyed(type))
        {
            string p = path.Length == 0 ? m.Key : $"{path}.{m.Key}";
            var v = m.ValueType;
            var child = OptionModel.IsRecord(v) ? v : OptionModel.ElementType(v) is { } e && OptionModel.IsRecord(e) ? e : null;
            if (child is null)
            {
                yield return (p, m);
                continue;
            }
            if (seen.Contains(child)) continue;
            foreach (var k in Keys(child, OptionModel.IsRecord(v) ? p : p + "[]", seen)) yield return k;
        }
    }

    /// <summary>The bound value at a key path (<c>streams[]</c> is the first item).</summary>
    private static object? Get(object root, string path)
    {
        object? current = root;
        foreach (var part in path.Split('.'))
        {
            if (current is null) return null;
            string key = part.Replace("[]", "", StringComparison.Ordinal);
            var m = OptionModel.Keyed(current.GetType()).Single(k => k.Key == key);
            current = OptionModel.ValueOf(current, m);
            if (part.EndsWith("[]", StringComparison.Ordinal)) current = current is IList { Count: > 0 } l ? l[0] : null;
        }
        return current;
    }

    /// <summary>Values to try for a key, each different from <paramref name="current"/>: a later one is tried when an earlier one is refused.</summary>
    private static IEnumerable<object> Candidates(OptionMember m, object? current, string file)
    {
        var t = m.ValueType;
        if (t == typeof(string)) return new object[] { "sv-test", "models/sv.onnx", "http://127.0.0.1:9/x", "#112233", file, "zstd", "ssl", "SCRAM-SHA-256", "k2:9093", "bgr", "medium" }.Where(v => !Equals(v, current));
        if (t == typeof(bool)) return current is bool b ? [!b] : [true, false]; // bool? keys (unset: inherit) try both
        if (t.IsEnum) return Enum.GetValues(t).Cast<object>().Where(v => !Equals(v, current)).Select(v => (object)OptionModel.EnumName(v));
        if (OptionModel.IsNumber(t) || t == typeof(TimeSpan))
        {
            double now = current switch { TimeSpan ts => OptionModel.FromDuration(ts, m.Key), null => double.NaN, _ => Convert.ToDouble(current, CultureInfo.InvariantCulture) };
            var r = m.Range;
            var values = r is null ? [now + 1, now - 1, 1, 2] : new[] { r.Min + (r.Max - r.Min) / 2, r.Min, r.Max, r.Min + (r.Max - r.Min) / 4 };
            bool whole = OptionModel.IsWholeNumber(t);
            return values.Select(v => whole ? Math.Round(v) : v).Where(v => v != now).Distinct()
                .Select(v => (object)(whole ? ((long)v).ToString(CultureInfo.InvariantCulture) : v.ToString("R", CultureInfo.InvariantCulture)));
        }
        if (OptionModel.ElementType(t) is { } e)
        {
            if (OptionModel.IsPoint(e)) return [Points((1, 1), (20, 1), (20, 20)), Points((1, 1), (20, 20))];
            if (OptionModel.IsNumber(e)) return [new List<object> { 0.5 }, new List<object> { 0.25, 0.5, 0.75 }];
            // URL lists: http.allowed_targets (a prefix) and cluster.endpoints (a base URL); tamper states.
            return [new List<object> { "cpu" }, new List<object> { "sv-test" }, new List<object> { "http://127.0.0.1:9/" }, new List<object> { "http://127.0.0.1:9" }, new List<object> { "covered" }];
        }
        if (OptionModel.DictionaryValueType(t) is not null) return [new Dictionary<string, object> { ["sv-key"] = "sv-value" }];
        throw new InvalidOperationException($"{m.Key}: no test values for {t}");
    }

    private static List<object> Points(params (int X, int Y)[] points) => points.Select(p => (object)new List<object> { p.X, p.Y }).ToList();

    /// <summary>A file that sets each key path to its value (<c>streams[]</c>: the first item).</summary>
    private static string Yaml(IEnumerable<(string Path, object Value)> values)
    {
        var root = new Dictionary<string, object>();
        foreach (var (path, value) in values)
        {
            var map = root;
            var parts = path.Split('.');
            for (int i = 0; i < parts.Length - 1; i++)
            {
                string key = parts[i].Replace("[]", "", StringComparison.Ordinal);
                if (parts[i].EndsWith("[]", StringComparison.Ordinal))
                {
                    if (!map.TryGetValue(key, out var list)) map[key] = list = new List<object> { new Dictionary<string, object>() };
                    map = (Dictionary<string, object>)((List<object>)list)[0];
                }
                else
                {
                    if (!map.TryGetValue(key, out var next)) map[key] = next = new Dictionary<string, object>();
                    map = (Dictionary<string, object>)next;
                }
            }
            map[parts[^1]] = value;
        }
        return new SerializerBuilder().Build().Serialize(root);
    }

    private static bool Same(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (null, _) or (_, null) => false,
        (string x, string y) => x == y,
        (IDictionary x, IDictionary y) => x.Count == y.Count && x.Keys.Cast<object>().All(k => y.Contains(k) && Same(x[k], y[k])),
        (IEnumerable x, IEnumerable y) => x.Cast<object>().Count() == y.Cast<object>().Count() && x.Cast<object>().Zip(y.Cast<object>()).All(p => Same(p.First, p.Second)),
        _ => a.Equals(b),
    };

    private static string Show(object? v) => v switch
    {
        null => "null",
        string s => $"'{s}'",
        IDictionary d => "{" + string.Join(", ", d.Keys.Cast<object>().Select(k => $"{k}: {Show(d[k])}")) + "}",
        IEnumerable e => "[" + string.Join(", ", e.Cast<object>().Select(Show)) + "]",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };
}
