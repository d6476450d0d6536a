using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Core;
using StreamVision.Sinks;
using StreamVision.Analytics;

namespace StreamVision.App.Service;

/// <summary>Shared by every stream of the service (one per instance).</summary>
public sealed class ServiceResources
{
    /// <summary>
    /// Where sinks rent the frames they draw on (video, preview, snapshots): never the decoders' pool, so a decoder waiting
    /// on a full pool cannot hold up the sinks that would free it. Uncapped: each sink holds at most two frames at a time
    /// (video, preview), so its size follows the streams; a cap could only make a sink holding one copy wait for a second.
    /// </summary>
    public FramePool SinkPool { get; } = new(new FramePoolOptions { MaxBytes = long.MaxValue });

    /// <summary>Each running stream's live preview, for the dashboard's MJPEG endpoint.</summary>
    public ConcurrentDictionary<string, MjpegPreviewSink> Previews { get; } = new(StringComparer.Ordinal);

    /// <summary>The instance's MQTT connections: streams naming the same broker and client id share one.</summary>
    public MqttConnections Mqtt { get; } = new();

    /// <summary>The camera-tamper models streams use (one session per file).</summary>
    public SharedModels<Inference.Tamper.CameraTamperModel> TamperModels { get; } = new((path, _) => Inference.Tamper.CameraTamperModel.Load(path));

    /// <summary>The enhancement models streams use (one session per file and thread count).</summary>
    public SharedModels<Inference.Enhance.ImageEnhancerModel> EnhanceModels { get; } = new(Inference.Enhance.ImageEnhancerModel.Load);

    /// <summary>The web interface's event store (review page): every stream feeds it through an <see cref="EventStoreSink"/>; null = off.</summary>
    public EventStore? Events { get; set; }
    /// <summary>The instance's Kafka producers: streams with the same producer settings share one.</summary>
    public KafkaProducers Kafka { get; } = new();
}

/// <summary>A sink and, when it needs one, its own queue policy (preview: always drop; snapshots: lossless for files).</summary>
public sealed record SinkSpec(ISink Sink, SinkRunnerOptions? Runner = null);

/// <summary>Builds a stream's analytics and sinks from its configuration. Paths and topics carry the instance and stream ids.</summary>
public static class SinkFactory
{
    /// <summary>Replaces {instance} and {stream} in a path, URL or topic template.</summary>
    public static string Expand(string template, string instance, string stream) =>
        template.Replace("{instance}", instance, StringComparison.Ordinal).Replace("{stream}", stream, StringComparison.Ordinal);

    /// <summary>The stream's zones and lines, or null when it has none.</summary>
    public static StreamAnalytics? CreateAnalytics(StreamConfig stream, int index, IReadOnlyList<string> classNames)
    {
        if (stream.Zones.Count == 0 && stream.Lines.Count == 0) return null;
        return new StreamAnalytics(stream.Analytics, classNames, $"streams[{index}]");
    }

    /// <summary>
    /// The video output for <paramref name="path"/> (expanded): an <c>.m3u8</c> path or an <c>rtsp://</c> URL starts from
    /// <see cref="VideoSinkOptions.ForHls"/> or <see cref="VideoSinkOptions.ForRtspPush"/>, and every key the configuration
    /// changed from its default wins over the preset (extra options merge, the configuration's winning).
    /// </summary>
    public static VideoSinkOptions VideoOptions(VideoSinkOptions v, string path)
    {
        VideoSinkOptions? preset = path.EndsWith(".m3u8", StringComparison.OrdinalIgnoreCase)
            ? VideoSinkOptions.ForHls(path, v.SegmentSeconds > 0 ? v.SegmentSeconds : 2)
            : path.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase) ? VideoSinkOptions.ForRtspPush(path) : null;
        if (preset is null) return v with { Path = path };
        var d = new VideoSinkOptions { Path = path };
        var extra = new Dictionary<string, string>(preset.ExtraOptions ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var (k, val) in v.ExtraOptions ?? new Dictionary<string, string>()) extra[k] = val;
        return v with
        {
            Path = path,
            Name = v.Name != d.Name ? v.Name : preset.Name,
            Format = v.Format ?? preset.Format,
            Codec = v.Codec != d.Codec ? v.Codec : preset.Codec,
            Preset = v.Preset != d.Preset ? v.Preset : preset.Preset,
            ExtraOptions = extra,
            // HLS cuts its own segments (hls_time above).
            SegmentSeconds = preset.Format == "hls" ? 0 : v.SegmentSeconds,
        };
    }

    public static List<SinkSpec> Create(StreamConfig stream, SvConfig instance, SinksConfig sinks, IReadOnlyList<string> classNames,
        FramePool pool, ServiceResources resources, IReadOnlyList<IOverlay>? overlays, bool lossless, ILogger logger, PipelineMetrics? metrics = null)
    {
        var list = new List<SinkSpec>();
        string Path(string t) => Expand(t, instance.Instance, stream.Id);
        var obscure = sinks.Obscure.Count > 0 ? new HashSet<string>(sinks.Obscure, StringComparer.OrdinalIgnoreCase) : null;
        // A misspelt class would leave faces or plates on show without a word: it must be one the detector reports.
        ClassSelection.CheckNames(sinks.Obscure, classNames, "sinks.obscure");
        AnnotatorOptions Annotator(AnnotatorOptions a) => a with { ClassNames = classNames, ObscureClasses = obscure };
        // Every sink's queue: the configured one, waiting (files) or dropping the oldest (live).
        var queue = sinks.Queue with { Policy = lossless ? SinkQueuePolicy.Wait : SinkQueuePolicy.DropOldest };
        try
        {
            if (sinks.Video is { } v)
            {
                var o = VideoOptions(v, Path(v.Path));
                o = o with { Annotator = Annotator(o.Annotator) };
                o.Validate("sinks.video");
                list.Add(new SinkSpec(new VideoFileSink(o, 0, pool, overlays, logger, metrics), queue));
            }
            if (sinks.Tracks is { } t) list.Add(new SinkSpec(new MotTrackSink(Path(t)), queue));
            if (sinks.Events is { } e)
            {
                list.Add(new SinkSpec(new JsonLinesEventSink(e with
                {
                    Path = Path(e.Path),
                    RotateBytes = e.RotateBytes > 0 ? e.RotateBytes : sinks.EventsRotateMb * 1024L * 1024L,
                    InstanceId = instance.Instance,
                }, metrics), queue));
            }
            if (sinks.Mqtt is { } m)
            {
                var mo = m with { InstanceId = instance.Instance };
                mo.Validate("sinks.mqtt");
                list.Add(new SinkSpec(new MqttEventSink(mo, stream.Id, logger, resources.Mqtt, metrics), queue));
            }
            if (sinks.Kafka is { } k)
            {
                var ko = k with { InstanceId = instance.Instance };
                ko.Validate("sinks.kafka");
                list.Add(new SinkSpec(new KafkaEventSink(ko, stream.Id, logger, resources.Kafka, metrics)));
            }
            if (sinks.Webhook is { } w)
            {
                var wo = w with { InstanceId = instance.Instance };
                wo.Validate("sinks.webhook");
                list.Add(new SinkSpec(new WebhookEventSink(wo, stream.Id, null, logger, metrics), queue));
            }
            if (sinks.Snapshots is { } sn)
            {
                // Snapshots keep copies for as long as tracks live: a pool of their own, capped by their max_bytes (a copy that
                // does not fit is skipped, never waited for), so they bound their memory and never touch the decoders' pool.
                list.Add(new SinkSpec(new SnapshotSink(sn with { Directory = Path(sn.Directory), InstanceId = instance.Instance }, null, logger), queue));
            }
            if (resources.Events is { } store) list.Add(new SinkSpec(new EventStoreSink(store, instance.Instance), queue));
            if (sinks.Preview is { } p)
            {
                var preview = new MjpegPreviewSink(p with { Annotator = Annotator(p.Annotator) }, pool, overlays);
                resources.Previews[stream.Id] = preview;
                // A preview never holds anything up: it shows the newest picture and drops the rest.
                list.Add(new SinkSpec(preview, queue with { Capacity = 2, Policy = SinkQueuePolicy.DropOldest }));
            }
            return list;
        }
        catch
        {
            resources.Previews.TryRemove(stream.Id, out _);
            foreach (var s in list) s.Sink.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }
}
