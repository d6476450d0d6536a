using System.Globalization;

namespace StreamVision.App.Config;

/// <summary>Prints the effective configuration (after defaults and environment overrides) as YAML-like text.</summary>
public static class ConfigPrinter
{
    public static void Print(SvConfig c, TextWriter o)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine($"instance: {c.Instance}");
        o.WriteLine($"http:\n  listen: {(c.Http.Listen.Length == 0 ? "\"\" (off)" : c.Http.Listen)}");
        o.WriteLine(string.Create(ci, $"frame_pool_mb: {c.FramePoolMb}\nshutdown_seconds: {c.ShutdownSeconds}"));
        if (c.Cluster is { } cl)
        {
            o.WriteLine($"cluster:\n  endpoints: [{string.Join(", ", cl.Endpoints)}]\n  name: {cl.Name}\n  lease_seconds: {cl.LeaseSeconds}");
            o.WriteLine($"  advertise_url: {cl.AdvertiseUrl ?? "(the http listen address)"}");
            o.WriteLine(string.Create(ci, $"  poll_ms: {cl.PollInterval.TotalMilliseconds}\n  request_timeout_seconds: {cl.RequestTimeout.TotalSeconds}"));
        }
        var d = c.Detector;
        o.WriteLine("detector:");
        o.WriteLine($"  model: {d.Model}\n  family: {d.Family.ToString().ToLowerInvariant()}\n  providers: [{string.Join(", ", d.Providers)}]\n  threads: {d.Threads}");
        o.WriteLine(string.Create(ci, $"  confidence: {d.Options.ConfidenceThreshold}\n  nms_iou: {d.Options.NmsIouThreshold}\n  max_detections: {d.Options.MaxDetections}"));
        o.WriteLine($"  classes: [{string.Join(", ", d.Classes)}]");
        o.WriteLine(string.Create(ci, $"  batch:\n    max_size: {d.Batch.MaxBatch}\n    max_wait_ms: {d.Batch.MaxWait.TotalMilliseconds}"));
        var t = c.Tracker.Options;
        o.WriteLine($"tracker:\n  enabled: {c.Tracker.Enabled.ToString().ToLowerInvariant()}");
        o.WriteLine(string.Create(ci, $"  high_score: {t.HighScore}\n  low_score: {t.LowScore}\n  new_track_score: {t.NewTrackScore}\n  min_hits: {t.MinHits}\n  lost_timeout_seconds: {t.LostTimeoutSeconds}\n  class_aware: {t.ClassAware.ToString().ToLowerInvariant()}\n  max_tracks: {t.MaxTracks}"));
        PrintSinks(c.Sinks, o, "");
        o.WriteLine($"streams:{(c.Streams.Count == 0 ? " []" : "")}");
        foreach (var s in c.Streams)
        {
            var src = s.Source;
            o.WriteLine($"  - id: {s.Id}\n    uri: {Ingest.SourceUri.Redact(src.Uri)}\n    mode: {src.Mode.ToString().ToLowerInvariant()}\n    enabled: {s.Enabled.ToString().ToLowerInvariant()}");
            o.WriteLine(string.Create(ci, $"    max_fps: {src.MaxFps}\n    loop: {src.Loop.ToString().ToLowerInvariant()}\n    rtsp_transport: {src.RtspTransport.ToString().ToLowerInvariant()}\n    open_timeout_seconds: {src.OpenTimeout.TotalSeconds}\n    read_timeout_seconds: {src.ReadTimeout.TotalSeconds}"));
            foreach (var z in s.Zones) o.WriteLine($"    zone {z.Name}: {z.Polygon.Count} points{(z.Classes.Count > 0 ? ", classes " + string.Join("/", z.Classes) : "")}");
            foreach (var l in s.Lines) o.WriteLine(string.Create(ci, $"    line {l.Name}: ({l.From.X},{l.From.Y}) -> ({l.To.X},{l.To.Y})"));
            if (s.Sinks is not null) PrintSinks(s.Sinks, o, "    ");
        }
    }

    private static void PrintSinks(SinksConfig s, TextWriter o, string indent)
    {
        o.WriteLine($"{indent}sinks:");
        if (s.Video is { } v) o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{indent}  video: {{path: {v.Path}, codec: {v.Codec}, preset: {v.Preset}, crf: {v.Crf}, segment_seconds: {v.SegmentSeconds}}}"));
        if (s.Events is { } e) o.WriteLine($"{indent}  events: {e}");
        if (s.Tracks is { } t) o.WriteLine($"{indent}  tracks: {t}");
        if (s.Mqtt is { } m) PrintMqtt(m, o, indent + "  ");
        if (s.Kafka is { } k) PrintKafka(k, o, indent + "  ");
        if (s.Webhook is { } w) o.WriteLine($"{indent}  webhook: {{url: {Ingest.SourceUri.Redact(w.Url)}, max_attempts: {w.MaxAttempts}}}");
        if (s.Snapshots is { } sn) o.WriteLine($"{indent}  snapshots: {sn}");
        o.WriteLine($"{indent}  preview: {s.Preview.ToString().ToLowerInvariant()}\n{indent}  queue: {s.QueueCapacity}");
        if (s.Obscure.Count > 0) o.WriteLine($"{indent}  obscure: [{string.Join(", ", s.Obscure)}]");
    }

    private static void PrintKafka(Sinks.KafkaOptions k, TextWriter o, string indent)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine($"{indent}kafka:\n{indent}  brokers: {k.Brokers}\n{indent}  topic: {k.Topic}\n{indent}  client_id: {k.ClientId ?? "streamvision-{instance}"}");
        o.WriteLine(string.Create(ci, $"{indent}  buffer: {k.BufferCapacity}\n{indent}  max_inflight: {k.MaxInflight}\n{indent}  delivery_timeout_seconds: {k.DeliveryTimeoutSeconds}"));
        o.WriteLine(string.Create(ci, $"{indent}  linger_ms: {k.LingerMs}\n{indent}  compression: {k.Compression}\n{indent}  security_protocol: {k.SecurityProtocol}"));
        if (k.SecurityProtocol.StartsWith("sasl", StringComparison.Ordinal)) o.WriteLine($"{indent}  sasl_mechanism: {k.SaslMechanism}");
        if (k.Username is not null) o.WriteLine($"{indent}  username: {k.Username}");
        if (k.Password is not null) o.WriteLine($"{indent}  password: (set)");
        if (k.CaFile is not null) o.WriteLine($"{indent}  ca_file: {k.CaFile}");
        o.WriteLine(string.Create(ci, $"{indent}  drain_timeout_seconds: {k.DrainTimeoutSeconds}"));
        foreach (var (key, value) in k.Properties ?? new Dictionary<string, string>())
            o.WriteLine($"{indent}  properties.{key}: {(key.Contains("password", StringComparison.OrdinalIgnoreCase) || key.Contains("secret", StringComparison.OrdinalIgnoreCase) ? "(set)" : value)}");
    }

    private static void PrintMqtt(Sinks.MqttOptions m, TextWriter o, string indent)
    {
        var ci = CultureInfo.InvariantCulture;
        o.WriteLine($"{indent}mqtt:");
        o.WriteLine($"{indent}  host: {m.Host}\n{indent}  port: {m.Port}\n{indent}  protocol: {(m.Protocol == Sinks.MqttProtocol.V5 ? "5" : "3.1.1")}");
        o.WriteLine($"{indent}  client_id: {m.ClientId ?? "streamvision-{instance}"}");
        if (m.Username is not null) o.WriteLine($"{indent}  username: {m.Username}");
        if (m.Password is not null) o.WriteLine($"{indent}  password: (set)");
        if (m.Tls is { } t)
        {
            o.WriteLine($"{indent}  tls:\n{indent}    enabled: true\n{indent}    ca_file: {t.CaFile ?? "(system trust store)"}");
            if (t.CertFile is not null) o.WriteLine($"{indent}    cert_file: {t.CertFile}\n{indent}    key_file: {t.KeyFile}");
            if (t.ServerName is not null) o.WriteLine($"{indent}    server_name: {t.ServerName}");
        }
        o.WriteLine($"{indent}  qos: {m.Qos}\n{indent}  topic: {m.Topic}\n{indent}  state_topic: {Topic(m.StateTopic)}\n{indent}  instance_state_topic: {Topic(m.InstanceStateTopic)}");
        o.WriteLine(string.Create(ci, $"{indent}  keepalive_seconds: {m.KeepAliveSeconds}\n{indent}  buffer: {m.BufferCapacity}\n{indent}  max_inflight: {m.MaxInflight}"));
        o.WriteLine(string.Create(ci, $"{indent}  reconnect_delay_seconds: {m.ReconnectDelaySeconds}\n{indent}  max_reconnect_delay_seconds: {m.MaxReconnectDelaySeconds}"));
        o.WriteLine(string.Create(ci, $"{indent}  connect_timeout_seconds: {m.ConnectTimeoutSeconds}\n{indent}  drain_timeout_seconds: {m.DrainTimeoutSeconds}"));

        static string Topic(string? t) => string.IsNullOrEmpty(t) ? "\"\" (none)" : t;
    }
}
