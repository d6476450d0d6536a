namespace StreamVision.Core;

/// <summary>
/// The metric names exactly as <c>/metrics</c> exports them (Prometheus conventions: snake_case, base units, counters end
/// in <c>_total</c>) and their label names. The collectors themselves live in <see cref="PipelineMetrics"/>.
/// </summary>
public static class SvMetrics
{
    public const string FramesDecoded = "sv_frames_decoded_total";            // counter, labels stream
    public const string FramesDropped = "sv_frames_dropped_total";            // counter, labels stream, stage, reason
    public const string FramesSkipped = "sv_frames_skipped_total";            // counter, labels stream, reason (max_fps: by choice, not loss)
    public const string DecodeSeconds = "sv_decode_seconds";                  // histogram, labels stream
    public const string CorruptPackets = "sv_corrupt_packets_total";          // counter, labels stream
    public const string Reconnects = "sv_source_reconnects_total";            // counter, labels stream, outcome (ok, failed); live sources
    public const string SourceState = "sv_source_state";                      // gauge, labels stream, state (1 for the current state, 0 for the others)
    public const string QueueDepth = "sv_queue_depth";                        // gauge, labels stream, stage
    public const string FramesAnalyzed = "sv_frames_analyzed_total";          // counter, labels stream
    public const string StageSeconds = "sv_stage_seconds";                    // histogram, labels stream, stage
    public const string EndToEndSeconds = "sv_end_to_end_latency_seconds";    // histogram, labels stream
    public const string InferenceBatchSize = "sv_inference_batch_size";       // histogram (frames per batch), no labels
    public const string InferenceSeconds = "sv_inference_seconds";            // histogram, no labels
    public const string DetectionsNonFinite = "sv_detections_nonfinite_dropped_total"; // counter, no labels (model outputs with NaN/Inf box or score, dropped)
    public const string StreamUp = "sv_stream_up";                            // gauge, labels stream (1 while the stream runs)
    public const string ActiveTracks = "sv_tracker_active_tracks";            // gauge, labels stream (tracks in state Tracked)
    public const string CameraTamperState = "sv_camera_tamper_state";         // gauge, labels stream, state (1 for the camera's current state, 0 for the others)
    public const string Events = "sv_events_total";                           // counter, labels stream, type
    public const string SinkWritten = "sv_sink_items_written_total";          // counter, labels stream, sink
    public const string SinkDropped = "sv_sink_items_dropped_total";          // counter, labels stream, sink
    public const string SinkErrors = "sv_sink_errors_total";                  // counter, labels stream, sink
    public const string SinkWriteSeconds = "sv_sink_write_seconds";           // histogram, labels stream, sink
    public const string SinkQueueDepth = "sv_sink_queue_depth";               // gauge, labels stream, sink
    public const string SinkEventsSent = "sv_sink_events_sent_total";         // counter, labels stream, sink (delivered: broker ack, HTTP 2xx)
    public const string SinkEventsDropped = "sv_sink_events_dropped_total";   // counter, labels stream, sink, reason (overflow, failed, rejected, shutdown)
    public const string SinkEventBufferDepth = "sv_sink_event_buffer_depth";  // gauge, labels stream, sink (events waiting or unacknowledged)
    public const string SinkRetries = "sv_sink_retries_total";                // counter, labels stream, sink (webhook attempts after the first)
    public const string SinkConnected = "sv_sink_connected";                  // gauge, labels stream, sink (1 connected, 0 not)
    public const string SinkState = "sv_sink_state";                          // gauge, labels stream, sink (0 connected, 1 buffering, 2 faulted)
    public const string SinkReconnects = "sv_sink_reconnects_total";          // counter, labels stream, sink, outcome (ok, failed)
    public const string ClassifierCrops = "sv_classifier_crops_total";        // counter, labels stream (crops classified)
    public const string ClassifierDeferred = "sv_classifier_deferred_total";  // counter, labels stream (crops over the per-second budget, tried again later)
    public const string ClassifierLabels = "sv_classifier_labels_total";      // counter, labels stream, label (answers by best label)
    public const string ClassifierBatchSize = "sv_classifier_batch_size";     // histogram (crops per classifier run), no labels
    public const string ClassifierSeconds = "sv_classifier_seconds";          // histogram (classifier time per batch: crop, resize, run), no labels
    public const string InstanceInfo = "sv_instance_info";                    // gauge, labels instance_id (always 1)
    public const string NativeHandles = "sv_native_handles";                  // gauge, labels kind (native objects alive: ffmpeg_reader, ffmpeg_writer, background_model, camera_motion, onnx_session)
    public const string NativeHeapBytes = "sv_native_heap_bytes";             // gauge, labels kind (glibc malloc heap: in_use, free, mmap)
    public const string NativeHeapArenas = "sv_native_heap_arenas";           // gauge, no labels (glibc malloc arenas)

    public const string LabelStream = "stream";
    public const string LabelStage = "stage";
    public const string LabelReason = "reason";
    public const string LabelSink = "sink";
    public const string LabelOutcome = "outcome";
    public const string LabelType = "type";
    public const string LabelState = "state";
    public const string LabelLabel = "label";
    public const string LabelInstanceId = "instance_id";
    public const string LabelKind = "kind";
}
