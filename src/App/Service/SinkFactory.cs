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
    /// on a full pool cannot hold up the sinks that would free it.
    /// </summary>
    public FramePool SinkPool { get; } = new();

    /// <summary>Each running stream's live preview, for the dashboard's MJPEG endpoint.</summary>
    public ConcurrentDictionary<string, MjpegPreviewSink> Previews { get; } = new(StringComparer.Ordinal);

    /// <summary>The instance's MQTT connections: streams naming the same broker and client id share one.</summary>
    public MqttConnections Mqtt { get; } = new();

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
        return new StreamAnalytics(new AnalyticsOptions
        {
            Zones = stream.Zones.Select(z => new ZoneOptions { Name = z.Name, Polygon = z.Polygon, Classes = z.Classes }).ToList(),
            Lines = stream.Lines.Select(l => new LineOptions { Name = l.Name, From = l.From, To = l.To, Classes = l.Classes }).ToList(),
        }, classNames, $"streams[{index}]");
    }

    public static List<SinkSpec> Create(StreamConfig stream, SvConfig instance, SinksConfig sinks, IReadOnlyList<string> classNames,
        FramePool pool, ServiceResources resources, IReadOnlyList<IOverlay>? overlays, bool lossless, ILogger logger, PipelineMetrics? metrics = null)
    {
        var list = new List<SinkSpec>();
        string Path(string t) => Expand(t, instance.Instance, stream.Id);
        var obscure = sinks.Obscure.Count > 0 ? new HashSet<string>(sinks.Obscure, StringComparer.OrdinalIgnoreCase) : null;
        var annotator = new AnnotatorOptions { ClassNames = classNames, ObscureClasses = obscure };
        try
        {
            if (sinks.Video is { } v)
            {
                string path = Path(v.Path);
                var o = path.EndsWith(".m3u8", StringComparison.OrdinalIgnoreCase)
                    ? VideoSinkOptions.ForHls(path, v.SegmentSeconds > 0 ? v.SegmentSeconds : 2)
                    : path.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase)
                        ? VideoSinkOptions.ForRtspPush(path)
                        : new VideoSinkOptions { Path = path, SegmentSeconds = v.SegmentSeconds };
                o = o with { Codec = v.Codec, Preset = v.Preset, Crf = v.Crf, Annotator = annotator };
                o.Validate("sinks.video");
                list.Add(new SinkSpec(new VideoFileSink(o, 0, pool, overlays, logger, metrics)));
            }
            if (sinks.Tracks is { } t) list.Add(new SinkSpec(new MotTrackSink(Path(t))));
            if (sinks.Events is { } e)
            {
                list.Add(new SinkSpec(new JsonLinesEventSink(new JsonLinesOptions
                {
                    Path = Path(e),
                    RotateBytes = sinks.EventsRotateMb * 1024L * 1024L,
                    InstanceId = instance.Instance,
                })));
            }
            if (sinks.Mqtt is { } m)
            {
                var mo = m with { InstanceId = instance.Instance };
                mo.Validate("sinks.mqtt");
                list.Add(new SinkSpec(new MqttEventSink(mo, stream.Id, logger, resources.Mqtt, metrics)));
            }
            if (sinks.Kafka is { } k)
            {
                var ko = k with { InstanceId = instance.Instance };
                ko.Validate("sinks.kafka");
                list.Add(new SinkSpec(new KafkaEventSink(ko, stream.Id, logger, resources.Kafka, metrics)));
            }
            if (sinks.Webhook is { } w)
            {
                var wo = new WebhookOptions { Url = w.Url, MaxAttempts = w.MaxAttempts, InstanceId = instance.Instance };
                wo.Validate("sinks.webhook");
                list.Add(new SinkSpec(new WebhookEventSink(wo, stream.Id, null, logger, metrics)));
            }
            if (sinks.Snapshots is { } sn)
            {
                list.Add(new SinkSpec(new SnapshotSink(new SnapshotOptions { Directory = Path(sn), InstanceId = instance.Instance }, null, logger),
                    new SinkRunnerOptions { Capacity = sinks.QueueCapacity, Policy = lossless ? SinkQueuePolicy.Wait : SinkQueuePolicy.DropOldest }));
            }
            if (sinks.Preview)
            {
                var preview = new MjpegPreviewSink(new MjpegPreviewOptions { Annotator = annotator }, pool, overlays);
                resources.Previews[stream.Id] = preview;
                // A preview never holds anything up: it shows the newest picture and drops the rest.
                list.Add(new SinkSpec(preview, new SinkRunnerOptions { Capacity = 2, Policy = SinkQueuePolicy.DropOldest }));
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
