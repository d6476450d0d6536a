using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Native;
using StreamVision.Sinks;

namespace StreamVision.Pipeline;

/// <summary>Options of <c>streamvision annotate</c>.</summary>
public sealed record AnnotateOptions
{
    public required string Input { get; init; }
    public required string Output { get; init; }
    /// <summary>Model name or path; "none" disables detection.</summary>
    public string Model { get; init; } = ModelCatalog.DefaultModel;
    public float Confidence { get; init; } = 0.5f;
    public string? EventsPath { get; init; }
    public string? TracksPath { get; init; }
    public IReadOnlySet<string>? Obscure { get; init; }
    public string Codec { get; init; } = "libx264";
    public string Preset { get; init; } = "veryfast";
    public int Crf { get; init; } = 23;
    public long MaxFrames { get; init; }
    public bool Track { get; init; } = true;
    public IReadOnlyList<string> Providers { get; init; } = ["tensorrt", "cuda", "cpu"];
    /// <summary>Tracker motion model: kalman or a learned ONNX model.</summary>
    public string Motion { get; init; } = "kalman";
    /// <summary>Replay this MOTChallenge detection file instead of running a model.</summary>
    public string? DetectionsFile { get; init; }
    /// <summary>Options of the <c>motion</c> detector (background subtraction); null = defaults.</summary>
    public Imaging.BackgroundSubtractorOptions? MotionDetector { get; init; }
    /// <summary>Tracker options; null = defaults.</summary>
    public Tracking.ByteTrackerOptions? Tracker { get; init; }
    /// <summary>Let ONNX Runtime's worker threads busy-wait (<see cref="ModelSessionOptions.AllowSpinning"/>). Default false.</summary>
    public bool AllowSpinning { get; init; }
}

/// <summary>Summary of an annotate run.</summary>
public sealed record AnnotateSummary(long Frames, long Detections, int Tracks, long Events, TimeSpan Elapsed)
{
    public double Fps => Elapsed.TotalSeconds > 0 ? Frames / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Offline annotation of one file, as fast as the machine allows and losslessly: decode -> detect -> track -> annotated
/// video + MOT tracks + JSON-lines events. What <c>streamvision annotate</c> and the annotate benchmark run.
/// </summary>
public static class AnnotateJob
{
    /// <summary>Waits until the source has opened its input; a source that cannot open throws its error here.</summary>
    private static async Task<MediaInfo> WaitForInfoAsync(VideoSource source, CancellationToken ct)
    {
        while (source.Info is null)
        {
            if (source.State == SourceState.Failed || source.Completion.IsCompleted)
            {
                await source.Frames.Completion.ConfigureAwait(false); // throws the source's error, naming the input
                throw new SourceException(source.StreamId, $"'{Ingest.SourceUri.Redact(source.Options.Uri)}' holds no frames");
            }
            await Task.Delay(10, ct).ConfigureAwait(false);
        }
        return source.Info;
    }

    /// <summary>Runs the whole job. <paramref name="progress"/> gets (frames done, frames expected or 0, fps) every 200 ms.</summary>
    /// <param name="metrics">Where the stages record (the benchmark reads their times there); null = a registry of this run's own.</param>
    /// <param name="frameAnalyzed">Called on the pipeline's loop after every frame (frames analysed so far).</param>
    /// <exception cref="OperationCanceledException"><paramref name="ct"/> was cancelled; the outputs hold what was done and are finalised.</exception>
    public static async Task<AnnotateSummary> RunAsync(AnnotateOptions o, ILogger logger, Action<long, long, double>? progress, CancellationToken ct,
        PipelineMetrics? metrics = null, Action<long>? frameAnalyzed = null)
    {
        var sw = Stopwatch.StartNew();
        metrics ??= new PipelineMetrics();
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 512L << 20 });
        if (o.DetectionsFile is not null && !File.Exists(o.DetectionsFile))
            throw new OptionsException("--detections", $"file not found: '{o.DetectionsFile}'");
        var detector = DetectorFactory.Create(new DetectorStageOptions
        {
            Model = o.DetectionsFile is not null ? "detections-file" : o.Model,
            DetectionsFile = o.DetectionsFile,
            Session = new ModelSessionOptions { Providers = o.Providers, AllowSpinning = o.AllowSpinning },
            Options = new DetectorOptions { ConfidenceThreshold = o.Confidence },
            Motion = o.MotionDetector ?? new Imaging.BackgroundSubtractorOptions(),
        }, logger);
        try
        {
            string streamId = SourceUri.DeriveStreamId(o.Input);
            // Offline: the file mode waits instead of dropping, so every frame is analysed. Opened first: the video's frame
            // rate comes from it.
            var source = new VideoSource(new SourceOptions { Id = streamId, Uri = o.Input, Mode = SourceMode.File }, pool, logger, metrics).Start();
            MediaInfo info;
            try
            {
                info = await WaitForInfoAsync(source, ct).ConfigureAwait(false);
            }
            catch
            {
                await source.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            var classNames = detector?.ClassNames ?? [];
            await using var batcher = detector is null ? null : new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, logger, metrics);
            using var motionModel = new MotionModelLease(o.Track && detector is not null ? o.Motion : "kalman");
            var builder = new PipelineBuilder(streamId, pool).Logger(logger).Metrics(metrics).Source(source).Detector(batcher)
                .Lossless(true).QueueCapacity(8).MaxFrames(o.MaxFrames);
            if (o.Track) builder.Tracker(o.Tracker, motionModel.Model);
            var video = new VideoFileSink(new VideoSinkOptions
            {
                Path = o.Output,
                Codec = o.Codec,
                Preset = o.Preset,
                Crf = o.Crf,
                Annotator = new AnnotatorOptions { ClassNames = classNames, ObscureClasses = o.Obscure },
            }, info.Fps, builder.SinkPool, metrics: metrics);
            builder.Sink(video);
            if (o.TracksPath is not null) builder.Sink(new MotTrackSink(o.TracksPath));
            if (o.EventsPath is not null) builder.Sink(new JsonLinesEventSink(new JsonLinesOptions { Path = o.EventsPath }));
            await using var run = builder.Build();
            run.FrameAnalyzed = frameAnalyzed;
            long expected = info.FrameCount > 0 ? info.FrameCount : (long)((info.Duration?.TotalSeconds ?? 0) * info.Fps);
            if (o.MaxFrames > 0) expected = expected > 0 ? Math.Min(expected, o.MaxFrames) : o.MaxFrames;
            using var reporter = new Timer(_ => progress?.Invoke(run.Stats.Frames, expected, run.Stats.Frames / Math.Max(1e-3, sw.Elapsed.TotalSeconds)), null, 200, 200);
            run.Start();
            try
            {
                await run.Completion.WaitAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Every path finalises the outputs: a cancelled run still leaves a playable file.
                await run.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
                throw;
            }
            // A frame limit ends the loop before the file does: the run stops its source (lossless: nothing queued is lost).
            await run.StopAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            if (run.Fault is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(run.Fault).Throw();
            progress?.Invoke(run.Stats.Frames, expected, run.Stats.Frames / Math.Max(1e-3, sw.Elapsed.TotalSeconds));
            if (video.FallbackReason is not null) logger.LogWarning("encoder {Codec} unavailable, used libx264: {Reason}", o.Codec, video.FallbackReason);
            return new AnnotateSummary(run.Stats.Frames, run.Stats.Detections, run.Stats.Tracks, run.Stats.Events, sw.Elapsed);
        }
        finally
        {
            detector?.Dispose();
        }
    }
}

/// <summary>A motion model for one run, disposed with it.</summary>
public sealed class MotionModelLease(string spec) : IDisposable
{
    public Tracking.Motion.IMotionModel Model { get; } = Tracking.Motion.MotionModels.Create(spec);

    public void Dispose() => Tracking.Motion.MotionModels.DisposeIfNeeded(Model);
}
