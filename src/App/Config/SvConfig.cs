using StreamVision.Analytics;
using StreamVision.Cluster;
using StreamVision.Core;
using StreamVision.Pipeline;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.App.Config;

// The configuration file is these records bound by OptionsBinder: every stage is configured by its own options type
// (SourceOptions, DetectorStageOptions, ByteTrackerOptions, AnalyticsOptions, the sinks' options). The records here hold
// only what the file needs beyond the stages: the instance, the HTTP server, which sinks a stream has, templates with
// {instance} and {stream}, and switches. docs/configuration.md is generated from all of them (config reference).

/// <summary>The whole instance, as one YAML file describes it (see config/*.yaml and docs/configuration.md).</summary>
public sealed record SvConfig
{
    /// <summary>
    /// Instance id: carried in topics, file names, events and metrics (<c>{instance}</c> in templates) so that instances
    /// never collide. Default: the host name in lower case.
    /// </summary>
    [OptionPattern(IdPattern, IdRule), OptionDefault("the host name, lower case")]
    public string Instance { get; init; } = Environment.MachineName.ToLowerInvariant();
    /// <summary>The HTTP server: dashboard, API, <c>/metrics</c>.</summary>
    public HttpConfig Http { get; init; } = new();
    /// <summary>The web interface's storage: event store (review), chart samples, state file of changes made in the browser.</summary>
    public UiConfig Ui { get; init; } = new();
    /// <summary>The detection stage, shared by all streams and batched across them.</summary>
    public DetectorStageOptions Detector { get; init; } = new();
    /// <summary>The tracker each stream runs.</summary>
    public TrackerConfig Tracker { get; init; } = new();
    /// <summary>A second model on the crops of confirmed tracks (label, score, top-k), shared by all streams; off while its model is empty.</summary>
    public Inference.Classification.ClassifierOptions Classifier { get; init; } = new();
    /// <summary>Masks of a segmentation detector (YOLOv8/11-seg, recognised from the model): threshold and outline simplification.</summary>
    public Inference.Segmentation.MaskOptions Masks { get; init; } = new();
    /// <summary>Camera-tamper detection (covered, defocused, moved, frozen) for every stream; a stream's own <c>tamper</c> replaces it.</summary>
    public Inference.Tamper.CameraTamperOptions Tamper { get; init; } = new();
    /// <summary>Image enhancement (low light, noise) of every stream's frames before detection and/or the outputs; a stream's own <c>enhance</c> replaces it.</summary>
    public Inference.Enhance.EnhanceOptions Enhance { get; init; } = new();
    /// <summary>Outputs of every stream; a stream's own <c>sinks</c> override these key by key.</summary>
    public SinksConfig Sinks { get; init; } = new();
    /// <summary>The streams (cameras, files) this instance runs. Empty: none (add them over the HTTP API).</summary>
    public IReadOnlyList<StreamConfig> Streams { get; init; } = [];
    /// <summary>Bytes of decoded frames in flight across all streams, MiB: bounds memory whatever the inputs. Default 1024.</summary>
    [OptionRange(64, 65536)]
    public int FramePoolMb { get; init; } = 1024;
    /// <summary>Seconds a graceful shutdown (or a stream's removal) may take to drain queues and finalise outputs. 0 = stop at once. Default 10.</summary>
    [OptionRange(0, 600)]
    public double ShutdownSeconds { get; init; } = 10;
    /// <summary>
    /// Membership of a cluster of instances that share one camera list in etcd (<c>cluster:</c>); absent = a stand-alone
    /// instance, which is the default.
    /// </summary>
    [OptionDefault("none: a stand-alone instance")]
    public ClusterOptions? Cluster { get; init; }

    /// <summary>Ids of instances and streams: they become parts of file names, topics and metric labels.</summary>
    public const string IdPattern = "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$";
    public const string IdRule = "1..64 letters, digits, '-', '_' or '.', not starting with '.' (ids become file names)";

    /// <summary>Throws <see cref="OptionsException"/> for what involves several streams (unique ids).</summary>
    public void Validate(string path = "")
    {
        foreach (var dup in Streams.GroupBy(s => s.Id).Where(g => g.Key.Length > 0 && g.Count() > 1))
            throw new OptionsException(path.Length == 0 ? "streams" : $"{path}.streams", $"stream id '{dup.Key}' is used {dup.Count()} times; ids must be unique");
    }
}

/// <summary>
/// The HTTP server of the instance, and what its API may do: who gets in (<see cref="Token"/>), how much it may send
/// (<see cref="MaxBodyBytes"/>, <see cref="ChangesPerMinute"/>), where streams added through it may write
/// (<see cref="OutputRoot"/>) and which servers they may send to (<see cref="AllowedTargets"/>).
/// </summary>
public sealed record HttpConfig
{
    /// <summary>Address the server listens on (dashboard, API, <c>/metrics</c>); port 0 picks a free one. Empty = no HTTP server. Default http://127.0.0.1:8080.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:8080";
    /// <summary>
    /// API token: every request but <c>/healthz</c>, <c>/readyz</c>, the dashboard page and <c>/api/login</c> must carry it
    /// (<c>Authorization: Bearer TOKEN</c>, or the cookie <c>/api/login</c> sets). At least 16 characters. Required when
    /// <c>listen</c> is not a loopback address (unless <c>allow_unauthenticated</c>). Null (default) = no token.
    /// </summary>
    [OptionSecret]
    public string? Token { get; init; }
    /// <summary>A file holding the API token (first line; e.g. a mounted secret), read at start. Null (default) = none. Not together with <c>token</c>.</summary>
    public string? TokenFile { get; init; }
    /// <summary>Serve a non-loopback <c>listen</c> address without a token: anyone who reaches the port may add streams. Default false.</summary>
    public bool AllowUnauthenticated { get; init; }
    /// <summary><c>/metrics</c> without the token (for a Prometheus that cannot send one). Default false: behind the token when one is set.</summary>
    public bool MetricsPublic { get; init; }
    /// <summary>Largest request body, bytes; larger ones are refused with 413 before they are read. Default 1048576 (1 MiB).</summary>
    [OptionRange(1024, 64L << 20)]
    public long MaxBodyBytes { get; init; } = 1 << 20;
    /// <summary>
    /// Stream additions, removals and reloads each client address may make per minute (a bucket of this many, refilled
    /// evenly); beyond it 429 with <c>Retry-After</c>. 0 = no limit. Default 60.
    /// </summary>
    [OptionRange(0, 1_000_000)]
    public int ChangesPerMinute { get; init; } = 60;
    /// <summary>
    /// The folder under which streams added through the API write (video, segments, events, tracks, snapshots): their
    /// paths must be relative to it, without <c>..</c>; a symbolic link leading out of it, or an existing file the service
    /// did not create, is refused. Relative to the working directory at start; created when missing.
    /// Configuration-file streams are not confined (the operator may use any path). Default <c>out</c>.
    /// </summary>
    public string OutputRoot { get; init; } = "out";
    /// <summary>
    /// Servers streams added through the API may send to (webhook URLs, MQTT brokers, Kafka brokers, network video pushes):
    /// URL prefixes such as <c>https://hooks.example.com/streamvision/</c>, <c>mqtt://broker.local:1883</c> or
    /// <c>kafka://k1:9092</c>. Empty (default) = none: API streams write files only (and send where the instance's own
    /// <c>sinks:</c> send). Configuration-file streams are not checked.
    /// </summary>
    public IReadOnlyList<string> AllowedTargets { get; init; } = [];

    /// <summary>True when <see cref="Listen"/> names a loopback address (127.0.0.0/8, ::1, localhost).</summary>
    public bool IsLoopback => Listen.Length == 0 || (Uri.TryCreate(Listen, UriKind.Absolute, out var u) && IsLoopbackHost(u.Host));

    internal static bool IsLoopbackHost(string host)
    {
        host = host.Trim('[', ']');
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) return true;
        return System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip);
    }

    public void Validate(string path = "http")
    {
        if (Listen.Length > 0 && !Uri.TryCreate(Listen, UriKind.Absolute, out _))
            throw new OptionsException($"{path}.listen", $"must be a URL like http://127.0.0.1:8080, got '{Listen}'");
        if (Token is not null && TokenFile is not null)
            throw new OptionsException($"{path}.token_file", "give either token or token_file, not both");
        if (Token is not null && Token.Trim().Length < MinTokenLength)
            throw new OptionsException($"{path}.token", $"must be at least {MinTokenLength} characters (e.g. openssl rand -hex 24)");
        if (Token is null && TokenFile is null && !IsLoopback && !AllowUnauthenticated)
            throw new OptionsException($"{path}.token",
                $"required when listen ({Listen}) is not a loopback address: set token or token_file, or allow_unauthenticated: true to let anyone who reaches the port in");
        if (string.IsNullOrWhiteSpace(OutputRoot)) throw new OptionsException($"{path}.output_root", "must name a folder");
        for (int i = 0; i < AllowedTargets.Count; i++)
        {
            if (!Uri.TryCreate(AllowedTargets[i], UriKind.Absolute, out var u) || u.Host.Length == 0)
                throw new OptionsException($"{path}.allowed_targets[{i}]", $"must be a URL prefix like https://hooks.example.com/ or mqtt://broker:1883, got '{AllowedTargets[i]}'");
        }
    }

    /// <summary>Shortest token accepted.</summary>
    public const int MinTokenLength = 16;
}

/// <summary>
/// The tracker: the stage's own <see cref="ByteTrackerOptions"/> (keys at this level) plus what the configuration decides
/// around it, whether it runs and which motion model it uses.
/// </summary>
public sealed record TrackerConfig
{
    /// <summary>Track objects (false: detections go to analytics and sinks without track ids, so zones, lines and track events stay empty). Default true.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Motion model: <c>kalman</c> (constant velocity, default) or the path of a learned ONNX model such as <c>models/motion-gru.onnx</c>.</summary>
    public string Motion { get; init; } = "kalman";
    /// <summary>
    /// With a learned <c>motion</c> model: blend its prediction with the Kalman filter's per track, each coordinate weighted
    /// by the two predictions' variances (the network follows turns and dance steps it is sure of, the Kalman filter keeps
    /// the rest). Default false (the network alone).
    /// </summary>
    public bool MotionBlend { get; init; }
    /// <summary>The tracker's options.</summary>
    [OptionInline]
    public ByteTrackerOptions Options { get; init; } = new();
    /// <summary>How a moving camera's frame-to-frame motion is estimated, for streams with <c>compensate_camera_motion</c>.</summary>
    public Imaging.CameraMotionOptions CameraMotion { get; init; } = new();

    public void Validate(string path = "tracker")
    {
        CameraMotion.Validate($"{path}.camera_motion");
        if (Motion != "kalman" && !Motion.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            throw new OptionsException($"{path}.motion", $"must be kalman or a path to an .onnx motion model, got '{Motion}'");
        Options.Validate(path);
    }
}

/// <summary>
/// A stream's outputs. Each is its sink's own options record; paths, folders and the template keys say where with
/// <c>{instance}</c> and <c>{stream}</c>, replaced per stream. An output is off when absent (the preview is on unless
/// <c>preview: false</c>).
/// </summary>
public sealed record SinksConfig
{
    /// <summary>Annotated video: a file (<c>.mp4</c>, <c>.mkv</c>; cut with <c>segment_seconds</c>), an HLS playlist (<c>.m3u8</c>) or an <c>rtsp://</c> push. Off when absent.</summary>
    public VideoSinkOptions? Video { get; init; }
    /// <summary>Events as JSON lines; a single value is the file's path. Off when absent.</summary>
    public JsonLinesOptions? Events { get; init; }
    /// <summary>
    /// Rotate event files after this many MiB (older key, kept for existing files: used when <c>events.rotate_bytes</c> is 0).
    /// 0 = never. Default 0.
    /// </summary>
    [OptionRange(0, 1 << 20)]
    public int EventsRotateMb { get; init; }
    /// <summary>
    /// MOTChallenge track file (<c>frame,id,x,y,w,h,score,-1,-1,-1</c>), path template with <c>{instance}</c> and
    /// <c>{stream}</c>. The track writer has no other options. Off when absent.
    /// </summary>
    public string? Tracks { get; init; }
    /// <summary>Events to an MQTT broker; streams naming the same broker and client id share one connection. Off when absent.</summary>
    public MqttOptions? Mqtt { get; init; }
    /// <summary>Events to Kafka (keyed by stream id, one idempotent producer per instance and settings). Off when absent.</summary>
    public KafkaOptions? Kafka { get; init; }
    /// <summary>Events POSTed as JSON to an HTTP endpoint, with retries and backoff. Off when absent.</summary>
    public WebhookOptions? Webhook { get; init; }
    /// <summary>Best crop and frame of each track as JPEGs when it ends; a single value is the folder. Off when absent.</summary>
    public SnapshotOptions? Snapshots { get; init; }
    /// <summary>MJPEG live preview for the dashboard (<c>/api/streams/{id}/preview.mjpeg</c>). On by default; <c>false</c> switches it off.</summary>
    public MjpegPreviewOptions? Preview { get; init; } = new();
    /// <summary>
    /// The queue in front of each sink (the preview keeps its own: two pictures, oldest dropped); a single value is its
    /// capacity. When full, files wait and live streams drop the oldest (counted).
    /// </summary>
    public SinkRunnerOptions Queue { get; init; } = new();
    /// <summary>
    /// Class names pixelated instead of boxed in video and preview (privacy), e.g. <c>[face]</c>; each must be a class the
    /// detector reports (a stream that names another does not start, naming it). Empty = none.
    /// </summary>
    public IReadOnlyList<string> Obscure { get; init; } = [];

    /// <summary>Items each sink may queue (<see cref="SinkRunnerOptions.Capacity"/> of <see cref="Queue"/>).</summary>
    public int QueueCapacity => Queue.Capacity;
}

/// <summary>
/// One stream: its source (<see cref="SourceOptions"/>) and its zones and lines (<see cref="AnalyticsOptions"/>), both
/// with their keys at the stream's level, plus its own outputs and a switch.
/// </summary>
public sealed record StreamConfig
{
    /// <summary>Where frames come from and how.</summary>
    [OptionInline]
    public required SourceOptions Source { get; init; }
    /// <summary>Zones, lines and counts.</summary>
    [OptionInline]
    public AnalyticsOptions Analytics { get; init; } = new();
    /// <summary>On which frames the detector runs (every Nth, only on motion); the tracker predicts the frames between. Default: every frame.</summary>
    public DetectScheduleOptions Detect { get; init; } = new();
    /// <summary>This stream's outputs: keys given here override those of the instance's <c>sinks</c>, the rest are inherited. Absent = the instance's.</summary>
    [OptionDefault("the instance's sinks")]
    public SinksConfig? Sinks { get; init; }
    /// <summary>This stream's camera-tamper detection: replaces the instance's <c>tamper</c> as a whole. Absent = the instance's.</summary>
    [OptionDefault("the instance's tamper")]
    public Inference.Tamper.CameraTamperOptions? Tamper { get; init; }
    /// <summary>This stream's image enhancement: replaces the instance's <c>enhance</c> as a whole. Absent = the instance's.</summary>
    [OptionDefault("the instance's enhance")]
    public Inference.Enhance.EnhanceOptions? Enhance { get; init; }
    /// <summary>false: configured but not started. Default true.</summary>
    public bool Enabled { get; init; } = true;
    /// <summary>Run the instance's classifier on this stream's tracks (when one is configured). Default true.</summary>
    public bool Classify { get; init; } = true;
    /// <summary>Make masks for this stream when the detector is a segmentation model (false: boxes only). Default true.</summary>
    public bool Masks { get; init; } = true;
    /// <summary>
    /// Camera-motion compensation for this stream's tracker: true for a moving camera (pan-tilt-zoom, handheld, on a
    /// vehicle: each frame's camera motion is estimated from its pixels and the tracks move with it), false for a fixed one
    /// (nothing is estimated, no cost). Absent: the instance's <c>tracker.compensate_camera_motion</c>.
    /// </summary>
    [OptionDefault("tracker.compensate_camera_motion")]
    public bool? CompensateCameraMotion { get; init; }

    /// <summary>The stream id (<see cref="SourceOptions.StreamId"/>: given, or derived from the URI).</summary>
    public string Id => Source.StreamId;
    public IReadOnlyList<ZoneOptions> Zones => Analytics.Zones;
    public IReadOnlyList<LineOptions> Lines => Analytics.Lines;
}
