using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StreamVision.Core;

namespace StreamVision.Ingest;

/// <summary>Ingest's instruments on <see cref="SvMetrics.Meter"/>; the gauges observe every running source.</summary>
internal static class IngestMetrics
{
    public const string Stage = "ingest";
    public const string ReasonQueueFull = "queue_full";
    public const string ReasonPoolExhausted = "pool_exhausted";
    public const string ReasonMaxFps = "max_fps";

    private static readonly ConcurrentDictionary<VideoSource, byte> s_sources = new();
    private static readonly SourceState[] s_states = System.Enum.GetValues<SourceState>();

    public static readonly Counter<long> FramesDecoded =
        SvMetrics.Meter.CreateCounter<long>(SvMetrics.FramesDecoded, "{frame}", "Frames decoded by the source (also skipped or dropped ones)");
    public static readonly Counter<long> FramesDropped =
        SvMetrics.Meter.CreateCounter<long>(SvMetrics.FramesDropped, "{frame}", "Frames lost because a consumer lagged or memory was capped");
    public static readonly Counter<long> FramesSkipped =
        SvMetrics.Meter.CreateCounter<long>(SvMetrics.FramesSkipped, "{frame}", "Frames left out on purpose (max fps)");
    public static readonly Histogram<double> DecodeSeconds =
        SvMetrics.Meter.CreateHistogram<double>(SvMetrics.DecodeSeconds, "s", "Time to get a frame out of the decoder and convert it (live: includes waiting for the network)");
    public static readonly Counter<long> CorruptPackets =
        SvMetrics.Meter.CreateCounter<long>(SvMetrics.CorruptPackets, "{packet}", "Packets the decoder rejected and skipped");
    public static readonly Counter<long> Reconnects =
        SvMetrics.Meter.CreateCounter<long>(SvMetrics.Reconnects, "{attempt}", "Reconnect attempts of live sources, by outcome");

    static IngestMetrics()
    {
        SvMetrics.Meter.CreateObservableGauge(SvMetrics.SourceState, ObserveStates, "{state}", "1 for the state each source is in, 0 for the others");
        SvMetrics.Meter.CreateObservableGauge(SvMetrics.QueueDepth, ObserveQueues, "{frame}", "Frames waiting in each stage's channel");
    }

    public static void Register(VideoSource source) => s_sources.TryAdd(source, 0);

    public static void Unregister(VideoSource source) => s_sources.TryRemove(source, out _);

    public static KeyValuePair<string, object?> StreamTag(string stream) => new("stream", stream);

    private static IEnumerable<Measurement<int>> ObserveStates()
    {
        foreach (var source in s_sources.Keys)
        {
            var current = source.State;
            foreach (var state in s_states)
            {
                yield return new Measurement<int>(state == current ? 1 : 0,
                    StreamTag(source.StreamId), new KeyValuePair<string, object?>("state", StateName(state)));
            }
        }
    }

    private static IEnumerable<Measurement<int>> ObserveQueues()
    {
        foreach (var source in s_sources.Keys)
        {
            yield return new Measurement<int>(source.QueueDepth, StreamTag(source.StreamId), new KeyValuePair<string, object?>("stage", Stage));
        }
    }

    public static string StateName(SourceState state) => state switch
    {
        SourceState.Idle => "idle",
        SourceState.Connecting => "connecting",
        SourceState.Streaming => "streaming",
        SourceState.Backoff => "backoff",
        SourceState.Ended => "ended",
        SourceState.Failed => "failed",
        _ => "unknown",
    };
}
