using System.Diagnostics.Metrics;

namespace StreamVision.Core;

/// <summary>
/// The one <see cref="Meter"/> every stage records to, and the instrument names (Prometheus conventions:
/// snake_case, base units, counters end in <c>_total</c> when exported). Tags: <c>stream</c>, <c>stage</c>,
/// <c>reason</c>, <c>sink</c> as named per instrument.
/// </summary>
public static class SvMetrics
{
    public const string MeterName = "StreamVision";

    public const string FramesDecoded = "sv_frames_decoded";            // counter, tag stream
    public const string FramesDropped = "sv_frames_dropped";            // counter, tags stream, stage, reason
    public const string FramesSkipped = "sv_frames_skipped";            // counter, tags stream, reason (max_fps: by choice, not loss)
    public const string DecodeSeconds = "sv_decode_seconds";            // histogram, tag stream
    public const string CorruptPackets = "sv_corrupt_packets";          // counter, tag stream
    public const string Reconnects = "sv_source_reconnects";            // counter, tags stream, outcome (ok, failed)
    public const string SourceState = "sv_source_state";                // observable gauge, tags stream, state (1 for the current state, 0 for the others)
    public const string QueueDepth = "sv_queue_depth";                  // observable gauge, tags stream, stage
    public const string FramesAnalyzed = "sv_frames_analyzed";          // counter, tag stream
    public const string StageSeconds = "sv_stage_seconds";              // histogram, tags stream, stage
    public const string EndToEndSeconds = "sv_end_to_end_latency_seconds"; // histogram, tag stream
    public const string InferenceBatchSize = "sv_inference_batch_size";  // histogram
    public const string InferenceSeconds = "sv_inference_seconds";       // histogram
    public const string StreamUp = "sv_stream_up";                       // observable gauge, tag stream
    public const string ActiveTracks = "sv_tracker_active_tracks";       // observable gauge, tag stream
    public const string Events = "sv_events";                            // counter, tags stream, type
    public const string SinkWritten = "sv_sink_items_written";           // counter, tags stream, sink
    public const string SinkDropped = "sv_sink_items_dropped";           // counter, tags stream, sink
    public const string SinkErrors = "sv_sink_errors";                   // counter, tags stream, sink
    public const string SinkWriteSeconds = "sv_sink_write_seconds";      // histogram, tags stream, sink
    public const string SinkQueueDepth = "sv_sink_queue_depth";          // observable gauge, tags stream, sink
    public const string SinkEventsSent = "sv_sink_events_sent";          // counter, tags stream, sink (events an event sink delivered: broker ack, HTTP 2xx)
    public const string SinkEventsDropped = "sv_sink_events_dropped";    // counter, tags stream, sink, reason (overflow, failed, rejected, shutdown)
    public const string SinkEventBufferDepth = "sv_sink_event_buffer_depth"; // observable gauge, tags stream, sink (events waiting or unacknowledged)
    public const string SinkRetries = "sv_sink_retries";                 // counter, tags stream, sink (webhook attempts after the first)
    public const string SinkConnected = "sv_sink_connected";             // observable gauge, tags stream, sink (1 connected, 0 not)
    public const string SinkReconnects = "sv_sink_reconnects";           // counter, tags stream, sink, outcome (ok, failed)

    public static Meter Meter { get; } = new(MeterName, typeof(SvMetrics).Assembly.GetName().Version?.ToString());
}
