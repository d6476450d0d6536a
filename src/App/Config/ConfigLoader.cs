using System.Collections;
using System.Globalization;
using StreamVision.Cluster;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;
using StreamVision.Tracking.Motion;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Config;

/// <summary>The configuration could not be loaded; <see cref="Errors"/> lists every problem with its key path.</summary>
public sealed class ConfigException : StreamVisionException
{
    public ConfigException(string source, IReadOnlyList<ConfigError> errors)
        : base($"{source}: {errors.Count} error(s)\n  " + string.Join("\n  ", errors)) => Errors = errors;

    public IReadOnlyList<ConfigError> Errors { get; }
}

/// <summary>
/// Loads the YAML configuration, applies environment overrides and validates everything, listing every error at once.
/// Overrides: <c>SV__KEY__SUBKEY=value</c>, list items by index, e.g. <c>SV__DETECTOR__CONFIDENCE=0.6</c>,
/// <c>SV__STREAMS__0__URI=rtsp://cam/1</c>, <c>SV__HTTP__LISTEN=http://0.0.0.0:8080</c>.
/// </summary>
public static class ConfigLoader
{
    public const string EnvPrefix = "SV__";

    public static SvConfig LoadFile(string path, IDictionary? environment = null)
    {
        if (!File.Exists(path)) throw new ConfigException(path, [new ConfigError("(file)", "not found")]);
        return LoadText(File.ReadAllText(path), path, environment);
    }

    public static SvConfig LoadText(string yaml, string source = "(config)", IDictionary? environment = null)
    {
        var errors = new List<ConfigError>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ConfigException(source, [new ConfigError($"(line {ex.Start.Line}, column {ex.Start.Column})", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}")]);
        }
        YamlMappingNode root;
        if (stream.Documents.Count == 0) root = new YamlMappingNode();
        else if (stream.Documents[0].RootNode is YamlMappingNode m) root = m;
        else throw new ConfigException(source, [new ConfigError("(root)", "must be a mapping (key: value lines)")]);

        ApplyEnvironment(root, environment ?? Environment.GetEnvironmentVariables(), errors);
        var config = Bind(new ConfigNode(root, "", errors));
        if (errors.Count > 0) throw new ConfigException(source, errors);
        return config;
    }

    /// <summary>Binds a stream given as a mapping (the HTTP API's POST body), with the same rules.</summary>
    public static StreamConfig LoadStream(string yamlOrJson, int index = 0)
    {
        var errors = new List<ConfigError>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yamlOrJson));
        }
        catch (YamlException ex)
        {
            throw new ConfigException("stream", [new ConfigError("(body)", $"not valid JSON/YAML: {ex.Message}")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
            throw new ConfigException("stream", [new ConfigError("(body)", "must be an object with at least id and uri")]);
        var s = BindStream(new ConfigNode(m, $"streams[{index}]", errors));
        if (errors.Count > 0) throw new ConfigException("stream", errors);
        return s;
    }

    private static void ApplyEnvironment(YamlMappingNode root, IDictionary env, List<ConfigError> errors)
    {
        foreach (DictionaryEntry e in env)
        {
            if (e.Key is not string name || !name.StartsWith(EnvPrefix, StringComparison.Ordinal) || e.Value is not string value) continue;
            var parts = name[EnvPrefix.Length..].ToLowerInvariant().Split("__", StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            YamlNode node = root;
            for (int i = 0; i < parts.Length; i++)
            {
                bool last = i == parts.Length - 1;
                string part = parts[i];
                if (node is YamlMappingNode map)
                {
                    var key = new YamlScalarNode(part);
                    if (last) { map.Children[key] = new YamlScalarNode(value); break; }
                    if (!map.Children.TryGetValue(key, out var next))
                    {
                        next = int.TryParse(parts[i + 1], out _) ? new YamlSequenceNode() : new YamlMappingNode();
                        map.Children[key] = next;
                    }
                    node = next;
                }
                else if (node is YamlSequenceNode seq && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int idx) && idx <= seq.Children.Count)
                {
                    if (idx == seq.Children.Count) seq.Children.Add(last ? new YamlScalarNode(value) : new YamlMappingNode());
                    else if (last) seq.Children[idx] = new YamlScalarNode(value);
                    if (last) break;
                    node = seq.Children[idx];
                }
                else
                {
                    errors.Add(new ConfigError(name, $"environment override does not fit the configuration at '{part}'"));
                    break;
                }
            }
        }
    }

    private static SvConfig Bind(ConfigNode r)
    {
        var defaults = new SvConfig();
        var http = r.Child("http");
        var cluster = r.Child("cluster");
        var streams = r.Children("streams");
        var config = new SvConfig
        {
            Instance = Id(r, "instance", defaults.Instance),
            Http = new HttpConfig { Listen = http.String("listen", defaults.Http.Listen) },
            Detector = BindDetector(r.Child("detector")),
            Tracker = BindTracker(r.Child("tracker")),
            Sinks = BindSinks(r.Child("sinks"), new SinksConfig()),
            FramePoolMb = r.Int("frame_pool_mb", defaults.FramePoolMb, 64, 65536),
            ShutdownSeconds = r.Double("shutdown_seconds", defaults.ShutdownSeconds, 0, 600),
        };
        if (cluster.Exists) config = config with { Cluster = BindCluster(cluster, config.Instance) };
        if (config.Http.Listen.Length > 0 && !Uri.TryCreate(config.Http.Listen, UriKind.Absolute, out _))
            r.Error("http.listen", $"must be a URL like http://127.0.0.1:8080, got '{config.Http.Listen}'");
        http.ReportUnknown();
        var list = streams.Select(s => BindStream(s, config.Sinks)).ToList();
        foreach (var dup in list.GroupBy(s => s.Id).Where(g => g.Key.Length > 0 && g.Count() > 1))
            r.Error("streams", $"stream id '{dup.Key}' is used {dup.Count()} times; ids must be unique");
        r.ReportUnknown();
        return config with { Streams = list };
    }

    /// <summary>Every <see cref="ClusterOptions"/> key, then the options' own checks under the node's path.</summary>
    private static ClusterOptions BindCluster(ConfigNode c, string instance)
    {
        var d = new ClusterOptions();
        // One URL, a list, or comma-separated URLs (handy in SV__CLUSTER__ENDPOINTS).
        var endpoints = c.Strings("endpoints", []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
        var o = new ClusterOptions
        {
            Endpoints = endpoints,
            Name = c.String("name", d.Name),
            InstanceId = instance,
            LeaseSeconds = c.Int("lease_seconds", d.LeaseSeconds, 2, 600),
            AdvertiseUrl = c.OptionalString("advertise_url"),
            PollInterval = TimeSpan.FromMilliseconds(c.Int("poll_ms", (int)d.PollInterval.TotalMilliseconds, 50, 10000)),
            RequestTimeout = TimeSpan.FromSeconds(c.Double("request_timeout_seconds", d.RequestTimeout.TotalSeconds, 0.1, 30)),
        };
        c.ReportUnknown();
        if (!c.Errors.Any(e => e.Path.StartsWith(c.Path + ".", StringComparison.Ordinal)))
        {
            try
            {
                o.Validate(c.Path);
            }
            catch (OptionsException ex)
            {
                c.Errors.Add(new ConfigError(ex.Path, ex.Message[(ex.Path.Length + 2)..]));
            }
        }
        return o;
    }

    private static string Id(ConfigNode r, string key, string fallback)
    {
        string v = r.String(key, fallback);
        if (v.Length == 0 || v.Length > 64 || !v.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            r.Error(key, $"must be 1..64 letters, digits, '-', '_' or '.', got '{v}'");
            return fallback;
        }
        return v;
    }

    private static DetectorStageOptions BindDetector(ConfigNode r)
    {
        var d = new DetectorStageOptions();
        var o = new DetectorOptions();
        var batch = r.Child("batch");
        var b = new BatcherOptions
        {
            MaxBatch = batch.Int("max_size", 8, 1, 64),
            MaxWait = TimeSpan.FromMilliseconds(batch.Int("max_wait_ms", 5, 0, 1000)),
        };
        batch.ReportUnknown();
        var motion = r.Child("motion");
        var md = new Imaging.BackgroundSubtractorOptions();
        var mo = new Imaging.BackgroundSubtractorOptions
        {
            History = motion.Int("history", md.History, 1, 100000),
            VarThreshold = motion.Double("var_threshold", md.VarThreshold, 0.01, 10000),
            DetectShadows = motion.Bool("detect_shadows", md.DetectShadows),
            MinArea = motion.Int("min_area", md.MinArea, 0, int.MaxValue),
            MorphKernel = motion.Int("morph_kernel", md.MorphKernel, 0, 101),
            Downscale = motion.Int("downscale", md.Downscale, 1, 16),
            MaxObjects = motion.Int("max_objects", md.MaxObjects, 1, 4096),
            LearningRate = motion.Double("learning_rate", md.LearningRate, -1, 1),
        };
        motion.ReportUnknown();
        var providers = r.Strings("providers", d.Providers);
        for (int i = 0; i < providers.Count; i++)
        {
            if (!ModelSessionOptions.KnownProviders.Contains(providers[i]))
                r.Error($"providers[{i}]", $"must be tensorrt, cuda or cpu, got '{providers[i]}'");
        }
        var result = new DetectorStageOptions
        {
            Model = r.String("model", d.Model),
            DetectionsFile = r.OptionalString("detections"),
            Motion = mo,
            Family = r.Enum("family", ModelFamily.Auto),
            Providers = providers,
            Threads = r.Int("threads", 0, 0, 256),
            AllowSpinning = r.Bool("allow_spinning", d.AllowSpinning),
            Classes = r.Strings("classes", []),
            Options = new DetectorOptions
            {
                ConfidenceThreshold = (float)r.Double("confidence", o.ConfidenceThreshold, 0, 1),
                NmsIouThreshold = (float)r.Double("nms_iou", o.NmsIouThreshold, 0.01, 1),
                MaxDetections = r.Int("max_detections", o.MaxDetections, 1, 10000),
                ClassAgnosticNms = r.Bool("class_agnostic_nms", o.ClassAgnosticNms),
            },
            Batch = b,
        };
        if (result.Model.Length == 0) r.Error("model", $"must be a model file, {string.Join(", ", ModelCatalog.BuiltInNames)}, detections-file, motion or none");
        if (result.Model == "detections-file" && string.IsNullOrEmpty(result.DetectionsFile)) r.Error("detections", "missing (model detections-file replays this MOTChallenge file)");
        r.ReportUnknown();
        return result;
    }

    private static TrackerConfig BindTracker(ConfigNode r)
    {
        var t = new ByteTrackerOptions();
        var k = r.Child("kalman");
        var kd = new KalmanMotionOptions();
        var opts = new ByteTrackerOptions
        {
            HighScore = (float)r.Double("high_score", t.HighScore, 0, 1),
            LowScore = (float)r.Double("low_score", t.LowScore, 0, 1),
            NewTrackScore = (float)r.Double("new_track_score", t.NewTrackScore, 0, 1),
            HighMatchMinSimilarity = (float)r.Double("high_match_min_similarity", t.HighMatchMinSimilarity, 0, 1),
            LowMatchMinIoU = (float)r.Double("low_match_min_iou", t.LowMatchMinIoU, 0, 1),
            TentativeMatchMinSimilarity = (float)r.Double("tentative_match_min_similarity", t.TentativeMatchMinSimilarity, 0, 1),
            FuseScore = r.Bool("fuse_score", t.FuseScore),
            MinHits = r.Int("min_hits", t.MinHits, 1, 100),
            ConfirmAtStart = r.Bool("confirm_at_start", t.ConfirmAtStart),
            LostTimeoutSeconds = r.Double("lost_timeout_seconds", t.LostTimeoutSeconds, 0, 3600),
            ClassAware = r.Bool("class_aware", t.ClassAware),
            ReportDetectionBox = r.Bool("report_detection_box", t.ReportDetectionBox),
            MaxTracks = r.Int("max_tracks", t.MaxTracks, 1, 100000),
            Kalman = new KalmanMotionOptions
            {
                PositionNoise = k.Double("position_noise", kd.PositionNoise, 1e-6, 10),
                VelocityNoise = k.Double("velocity_noise", kd.VelocityNoise, 1e-6, 10),
                ReferenceFps = k.Double("reference_fps", kd.ReferenceFps, 1, 1000),
            },
        };
        bool enabled = r.Bool("enabled", true);
        string motion = r.String("motion", "kalman");
        if (motion != "kalman" && !motion.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            r.Error("motion", $"must be kalman or a path to an .onnx motion model, got '{motion}'");
        if (opts.LowScore > opts.HighScore) r.Error("low_score", $"must not exceed high_score ({opts.HighScore}), got {opts.LowScore}");
        k.ReportUnknown();
        r.ReportUnknown();
        return new TrackerConfig { Enabled = enabled, Options = opts, Motion = motion };
    }

    private static SinksConfig BindSinks(ConfigNode r, SinksConfig inherit)
    {
        if (!r.Exists) return inherit;
        VideoOutputConfig? video = inherit.Video;
        if (r.Has("video"))
        {
            var v = r.Child("video");
            video = new VideoOutputConfig
            {
                Path = v.RequiredString("path"),
                Codec = v.String("codec", "libx264"),
                Preset = v.String("preset", "veryfast"),
                Crf = v.Int("crf", 23, 0, 51),
                SegmentSeconds = v.Double("segment_seconds", 0, 0, 86400),
            };
            v.ReportUnknown();
        }
        var mqtt = r.Has("mqtt") ? BindMqtt(r.Child("mqtt")) : inherit.Mqtt;
        var kafka = r.Has("kafka") ? BindKafka(r.Child("kafka")) : inherit.Kafka;
        WebhookConfig? webhook = inherit.Webhook;
        if (r.Has("webhook"))
        {
            var w = r.Child("webhook");
            webhook = new WebhookConfig { Url = w.RequiredString("url"), MaxAttempts = w.Int("max_attempts", 5, 1, 100) };
            if (webhook.Url.Length > 0 && !(Uri.TryCreate(webhook.Url, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
                w.Error("url", $"must be an http(s) URL, got '{webhook.Url}'");
            w.ReportUnknown();
        }
        var result = new SinksConfig
        {
            Video = video,
            Events = r.OptionalString("events") ?? inherit.Events,
            EventsRotateMb = r.Int("events_rotate_mb", inherit.EventsRotateMb, 0, 1 << 20),
            Tracks = r.OptionalString("tracks") ?? inherit.Tracks,
            Mqtt = mqtt,
            Kafka = kafka,
            Webhook = webhook,
            Snapshots = r.OptionalString("snapshots") ?? inherit.Snapshots,
            Preview = r.Bool("preview", inherit.Preview),
            QueueCapacity = r.Int("queue", inherit.QueueCapacity, 1, 1024),
            Obscure = r.Strings("obscure", inherit.Obscure),
        };
        r.ReportUnknown();
        return result;
    }

    /// <summary>Every <see cref="MqttOptions"/> key, then the options' own checks (files, topics, pairs) under the node's path.</summary>
    private static MqttOptions BindMqtt(ConfigNode m)
    {
        var d = new MqttOptions();
        MqttTlsOptions? tls = null;
        if (m.Has("tls"))
        {
            var t = m.Child("tls");
            var read = new MqttTlsOptions
            {
                CaFile = t.OptionalString("ca_file"),
                CertFile = t.OptionalString("cert_file"),
                KeyFile = t.OptionalString("key_file"),
                ServerName = t.OptionalString("server_name"),
            };
            if (t.Bool("enabled", true)) tls = read;
            t.ReportUnknown();
        }
        else
        {
            m.Child("tls"); // known key, even when absent or null
        }
        string protocol = m.String("protocol", "3.1.1");
        var version = protocol switch
        {
            "3.1.1" or "311" => MqttProtocol.V311,
            "5" or "5.0" => MqttProtocol.V5,
            _ => (MqttProtocol?)null,
        };
        if (version is null) m.Error("protocol", $"must be 3.1.1 or 5, got '{protocol}'");
        var o = new MqttOptions
        {
            Host = m.RequiredString("host"),
            Port = m.Int("port", tls is null ? 1883 : 8883, 1, 65535),
            Protocol = version ?? d.Protocol,
            Tls = tls,
            Username = m.OptionalString("username"),
            Password = m.OptionalString("password"),
            ClientId = m.OptionalString("client_id"),
            Qos = m.Int("qos", d.Qos, 0, 2),
            Topic = m.String("topic", d.Topic),
            StateTopic = m.String("state_topic", d.StateTopic!),
            InstanceStateTopic = m.String("instance_state_topic", d.InstanceStateTopic!),
            KeepAliveSeconds = m.Int("keepalive_seconds", d.KeepAliveSeconds, 5, 3600),
            BufferCapacity = m.Int("buffer", d.BufferCapacity, 1, 1_000_000),
            MaxInflight = m.Int("max_inflight", d.MaxInflight, 1, 1000),
            ReconnectDelaySeconds = m.Double("reconnect_delay_seconds", d.ReconnectDelaySeconds, 0.01, 3600),
            MaxReconnectDelaySeconds = m.Double("max_reconnect_delay_seconds", d.MaxReconnectDelaySeconds, 0.01, 3600),
            ConnectTimeoutSeconds = m.Double("connect_timeout_seconds", d.ConnectTimeoutSeconds, 0.1, 600),
            DrainTimeoutSeconds = m.Double("drain_timeout_seconds", d.DrainTimeoutSeconds, 0, 600),
        };
        m.ReportUnknown();
        if (o.Host.Length > 0 && !m.Errors.Any(e => e.Path.StartsWith(m.Path + ".", StringComparison.Ordinal)))
        {
            try
            {
                o.Validate(m.Path);
            }
            catch (OptionsException ex)
            {
                m.Errors.Add(new ConfigError(ex.Path, ex.Message[(ex.Path.Length + 2)..]));
            }
        }
        return o;
    }

    /// <summary>Every <see cref="KafkaOptions"/> key, then the options' own checks under the node's path.</summary>
    private static KafkaOptions BindKafka(ConfigNode k)
    {
        var d = new KafkaOptions();
        var o = new KafkaOptions
        {
            // One host:port, a list, or comma-separated (handy in SV__SINKS__KAFKA__BROKERS).
            Brokers = string.Join(",", k.Strings("brokers", []).SelectMany(b => b.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))),
            Topic = k.String("topic", d.Topic),
            ClientId = k.OptionalString("client_id"),
            BufferCapacity = k.Int("buffer", d.BufferCapacity, 1, 1_000_000),
            MaxInflight = k.Int("max_inflight", d.MaxInflight, 1, 100_000),
            DeliveryTimeoutSeconds = k.Double("delivery_timeout_seconds", d.DeliveryTimeoutSeconds, 0, 86400),
            LingerMs = k.Double("linger_ms", d.LingerMs, 0, 10000),
            Compression = k.String("compression", d.Compression),
            SecurityProtocol = k.String("security_protocol", d.SecurityProtocol),
            SaslMechanism = k.String("sasl_mechanism", d.SaslMechanism),
            Username = k.OptionalString("username"),
            Password = k.OptionalString("password"),
            CaFile = k.OptionalString("ca_file"),
            DrainTimeoutSeconds = k.Double("drain_timeout_seconds", d.DrainTimeoutSeconds, 0, 600),
            Properties = k.Map("properties"),
        };
        if (o.Brokers.Length == 0) k.Error("brokers", "missing (host:port of one or more Kafka brokers)");
        k.ReportUnknown();
        if (!k.Errors.Any(e => e.Path.StartsWith(k.Path + ".", StringComparison.Ordinal)))
        {
            try
            {
                o.Validate(k.Path);
            }
            catch (OptionsException ex)
            {
                k.Errors.Add(new ConfigError(ex.Path, ex.Message[(ex.Path.Length + 2)..]));
            }
        }
        return o;
    }

    private static StreamConfig BindStream(ConfigNode r) => BindStream(r, new SinksConfig());

    private static StreamConfig BindStream(ConfigNode r, SinksConfig instanceSinks)
    {
        string id = r.Has("id") ? Id(r, "id", "") : "";
        string uri = r.RequiredString("uri");
        if (!r.Has("id") && uri.Length > 0) id = Ingest.SourceUri.DeriveStreamId(uri);
        var d = new SourceOptions();
        var source = new SourceOptions
        {
            Id = id,
            Uri = uri,
            Format = r.OptionalString("format"),
            Mode = r.Enum("mode", SourceMode.Auto),
            MaxFps = r.Double("max_fps", 0, 0, 1000),
            Loop = r.Bool("loop", false),
            DecoderThreads = r.Int("decoder_threads", 0, 0, 64),
            HwAccel = r.OptionalString("hwaccel"),
            RtspTransport = r.Enum("rtsp_transport", RtspTransport.Tcp),
            OpenTimeout = TimeSpan.FromSeconds(r.Double("open_timeout_seconds", d.OpenTimeout.TotalSeconds, 0.1, 600)),
            ReadTimeout = TimeSpan.FromSeconds(r.Double("read_timeout_seconds", d.ReadTimeout.TotalSeconds, 0.1, 600)),
            ReconnectInitialDelay = TimeSpan.FromSeconds(r.Double("reconnect_initial_seconds", d.ReconnectInitialDelay.TotalSeconds, 0.01, 600)),
            ReconnectMaxDelay = TimeSpan.FromSeconds(r.Double("reconnect_max_seconds", d.ReconnectMaxDelay.TotalSeconds, 0.01, 3600)),
            MaxReconnectAttempts = r.Int("max_reconnect_attempts", 0, 0, int.MaxValue),
            OutputWidth = r.Int("width", 0, 0, 16384),
            OutputHeight = r.Int("height", 0, 0, 16384),
            ChannelCapacity = r.Int("queue", d.ChannelCapacity, 1, 1024),
            FfmpegOptions = r.Map("ffmpeg_options"),
        };
        var zones = r.Children("zones").Select(z =>
        {
            var zone = new ZoneConfig(z.RequiredString("name"), z.Points("polygon", 3), z.Strings("classes", []));
            z.ReportUnknown();
            return zone;
        }).ToList();
        var lines = r.Children("lines").Select(l =>
        {
            var from = l.Points("points", 2);
            var line = new LineConfig(l.RequiredString("name"), from.Count > 0 ? from[0] : default, from.Count > 1 ? from[1] : default, l.Strings("classes", []));
            l.ReportUnknown();
            return line;
        }).ToList();
        var sinks = r.Has("sinks") ? BindSinks(r.Child("sinks"), instanceSinks) : null;
        bool enabled = r.Bool("enabled", true);
        r.ReportUnknown();
        return new StreamConfig { Id = id, Source = source, Zones = zones, Lines = lines, Sinks = sinks, Enabled = enabled };
    }
}
