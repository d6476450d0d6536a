using StreamVision.App.Config;
using StreamVision.Core;
using StreamVision.Sinks;

namespace StreamVision.App.Service;

/// <summary>Shared by every stream of the service (one per instance).</summary>
public sealed class ServiceResources
{
    public required string InstanceId { get; init; }
}

/// <summary>Builds a stream's sinks from its configuration. Paths and topics carry the instance and stream ids.</summary>
public static class SinkFactory
{
    /// <summary>Replaces {instance} and {stream} in a path, URL or topic template.</summary>
    public static string Expand(string template, string instance, string stream) =>
        template.Replace("{instance}", instance, StringComparison.Ordinal).Replace("{stream}", stream, StringComparison.Ordinal);

    public static List<ISink> Create(StreamConfig stream, SvConfig instance, SinksConfig sinks, IReadOnlyList<string> classNames, FramePool pool, ServiceResources resources)
    {
        var list = new List<ISink>();
        string Path(string t) => Expand(t, instance.Instance, stream.Id);
        var obscure = sinks.Obscure.Count > 0 ? new HashSet<string>(sinks.Obscure, StringComparer.OrdinalIgnoreCase) : null;
        try
        {
            if (sinks.Video is { } v)
            {
                list.Add(new VideoFileSink(new VideoSinkOptions
                {
                    Path = Path(v.Path),
                    Codec = v.Codec,
                    Preset = v.Preset,
                    Crf = v.Crf,
                    Annotator = new AnnotatorOptions { ClassNames = classNames, ObscureClasses = obscure },
                }, 0, pool));
            }
            if (sinks.Tracks is { } t) list.Add(new MotTrackSink(Path(t)));
            if (sinks.Events is { } e)
            {
                list.Add(new JsonLinesEventSink(new JsonLinesOptions
                {
                    Path = Path(e),
                    RotateBytes = sinks.EventsRotateMb * 1024L * 1024L,
                    InstanceId = instance.Instance,
                }));
            }
            return list;
        }
        catch
        {
            foreach (var s in list) s.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }
}
