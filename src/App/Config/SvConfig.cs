using StreamVision.Cluster;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.App.Config;

/// <summary>The whole instance, as one YAML file describes it (see config/*.yaml and README "Configuration").</summary>
public sealed record SvConfig
{
    /// <summary>Instance id: carried in topics, file names and metrics so instances never collide. Default: the host name.</summary>
    public string Instance { get; init; } = Environment.MachineName.ToLowerInvariant();
    public HttpConfig Http { get; init; } = new();
    public DetectorStageOptions Detector { get; init; } = new();
    public TrackerConfig Tracker { get; init; } = new();
    public SinksConfig Sinks { get; init; } = new();
    public IReadOnlyList<StreamConfig> Streams { get; init; } = [];
    /// <summary>Bytes of frame buffers in flight across all streams (MiB). Bounds memory whatever the inputs. Default 1024.</summary>
    public int FramePoolMb { get; init; } = 1024;
    /// <summary>Seconds a graceful shutdown may take to drain queues and finalise outputs. Default 10.</summary>
    public double ShutdownSeconds { get; init; } = 10;
    /// <summary>Membership of a cluster of instances sharing one camera list in etcd; null = a stand-alone instance (the default).</summary>
    public ClusterOptions? Cluster { get; init; }
}

public sealed record HttpConfig
{
    /// <summary>Address of the HTTP server (dashboard, API, /metrics). Empty disables it. Default http://127.0.0.1:8080.</summary>
    public string Listen { get; init; } = "http://127.0.0.1:8080";
}

public sealed record TrackerConfig
{
    public bool Enabled { get; init; } = true;
    /// <summary>Motion model: kalman (default) or a path to a learned ONNX model such as models/motion-gru.onnx.</summary>
    public string Motion { get; init; } = "kalman";
    public ByteTrackerOptions Options { get; init; } = new();
}

public sealed record VideoOutputConfig
{
    /// <summary>Path or URL template; {instance} and {stream} are replaced. Formats by extension, or rtsp://, or .m3u8 for HLS.</summary>
    public required string Path { get; init; }
    public string Codec { get; init; } = "libx264";
    public string Preset { get; init; } = "veryfast";
    public int Crf { get; init; } = 23;
    /// <summary>Start a new file every this many seconds (0 = one file).</summary>
    public double SegmentSeconds { get; init; }
}

public sealed record SinksConfig
{
    public VideoOutputConfig? Video { get; init; }
    /// <summary>JSON-lines events file template ({instance}, {stream}).</summary>
    public string? Events { get; init; }
    /// <summary>MOT track file template.</summary>
    public string? Tracks { get; init; }
    /// <summary>Rotate event files after this many MiB (0 = never).</summary>
    public int EventsRotateMb { get; init; }
    /// <summary>Events to an MQTT broker (every option of <see cref="MqttOptions"/>; its InstanceId is set from <see cref="SvConfig.Instance"/>).</summary>
    public MqttOptions? Mqtt { get; init; }
    /// <summary>Events to Kafka (every option of <see cref="KafkaOptions"/>; its InstanceId is set from <see cref="SvConfig.Instance"/>).</summary>
    public KafkaOptions? Kafka { get; init; }
    public WebhookConfig? Webhook { get; init; }
    /// <summary>Folder for best-frame JPEG snapshots of each track, written when it ends.</summary>
    public string? Snapshots { get; init; }
    /// <summary>MJPEG preview for the dashboard.</summary>
    public bool Preview { get; init; } = true;
    /// <summary>Items each sink may queue before it drops (live) or waits (files). Default 16.</summary>
    public int QueueCapacity { get; init; } = 16;
    /// <summary>Classes pixelated instead of boxed in video and preview.</summary>
    public IReadOnlyList<string> Obscure { get; init; } = [];
}

public sealed record WebhookConfig
{
    public required string Url { get; init; }
    public int MaxAttempts { get; init; } = 5;
}

public sealed record ZoneConfig(string Name, IReadOnlyList<(float X, float Y)> Polygon, IReadOnlyList<string> Classes);

public sealed record LineConfig(string Name, (float X, float Y) From, (float X, float Y) To, IReadOnlyList<string> Classes);

public sealed record StreamConfig
{
    public required string Id { get; init; }
    public required SourceOptions Source { get; init; }
    public IReadOnlyList<ZoneConfig> Zones { get; init; } = [];
    public IReadOnlyList<LineConfig> Lines { get; init; } = [];
    /// <summary>Per-stream sink settings; null uses the instance's.</summary>
    public SinksConfig? Sinks { get; init; }
    /// <summary>false: configured but not started.</summary>
    public bool Enabled { get; init; } = true;
}
