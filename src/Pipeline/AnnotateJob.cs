using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Inference.Classification;
using StreamVision.Inference.Segmentation;
using StreamVision.Ingest;
using StreamVision.Native;
using StreamVision.Sinks;

namespace StreamVision.Pipeline;

/// <summary>Options of <c>streamvision annotate</c>.</summary>
public sealed record AnnotateOptions
{
    public required string Input { get; init; }
    /// <summary>Annotated video to write; null = no video (analytics only: <see cref="TracksPath"/> or <see cref="EventsPath"/> is then required).</summary>
    public string? Output { get; init; }
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
    /// <summary>Camera-tamper model to watch the video with (events camera_tampered/camera_restored, a banner); null = off.</summary>
    public string? Tamper { get; init; }
    /// <summary>Image-to-image model to enhance the frames with (low light, noise); null = off.</summary>
    public string? Enhance { get; init; }
    /// <summary>With <see cref="Enhance"/>: which pictures it changes. Default both (the detector's and the video's).</summary>
    public Inference.Enhance.EnhanceTarget EnhanceApply { get; init; } = Inference.Enhance.EnhanceTarget.Both;
    /// <summary>Options of the <c>motion</c> detector (background subtraction); null = defaults.</summary>
    public Imaging.BackgroundSubtractorOptions? MotionDetector { get; init; }
    /// <summary>Tracker options; null = defaults.</summary>
    public Tracking.ByteTrackerOptions? Tracker { get; init; }
    /// <summary>Let ONNX Runtime's worker threads busy-wait (<see cref="ModelSessionOptions.AllowSpinning"/>). Default false.</summary>
    public bool AllowSpinning { get; init; }
    /// <summary>
    /// ONNX Runtime intra-op threads (<see cref="ModelSessionOptions.IntraOpThreads"/>); 0 = auto: one thread for a small
    /// model (a file under <see cref="AnnotateJob.SmallModelBytes"/>, BlazeFace-sized), one per core otherwise. Default 0.
    /// </summary>
    public int Threads { get; init; }
    /// <summary>On which frames the detector runs (<c>--detect-interval</c>, <c>--motion-gating</c>); null = every frame.</summary>
    public DetectScheduleOptions? DetectSchedule { get; init; }
    /// <summary>An ONNX image classifier run on the crops of confirmed tracks (<see cref="ClassifierOptions"/>); null = none.</summary>
    public string? Classifier { get; init; }
    /// <summary>Detector classes whose tracks the classifier labels; empty = all.</summary>
    public IReadOnlyList<string> ClassifyClasses { get; init; } = [];
    /// <summary>Masks of a segmentation detector (auto-detected from the model): drawn, outlined in events. Default true.</summary>
    public bool Masks { get; init; } = true;
}

/// <summary>Summary of an annotate run.</summary>
/// <param name="DrawnInPlace">Frames the video sink drew on without copying them first (it held their last reference).</param>
public sealed record AnnotateSummary(long Frames, long Detections, int Tracks, long Events, TimeSpan Elapsed, long DrawnInPlace = 0)
{
    public double Fps => Elapsed.TotalSeconds > 0 ? Frames / Elapsed.TotalSeconds : 0;
}

/// <summary>
/// Offline annotation of one file, as fast as the machine allows and losslessly: decode -> detect -> track -> annotated
/// video + MOT tracks + JSON-lines events. What <c>streamvision annotate</c> and the annotate benchmark run.
/// </summary>
public static class AnnotateJob
{
    /// <summary>
    /// Below this model file size annotate gives ONNX Runtime one intra-op thread unless told otherwise: annotate already
    /// decodes, detects and encodes side by side, and splitting a small model's operators over the cores costs more in
    /// thread hand-offs than it gains (perf, BlazeFace 128 on 1,336 frames: ONNX Runtime 1.9 s CPU with one thread per core,
    /// 1.6-1.8 s with one, the model's speed the same). Heavier models (YOLO, 6 MB and more) get one thread per core.
    /// </summary>
    public const long SmallModelBytes = 2L << 20;

    /// <summary>The intra-op threads annotate asks for: <see cref="AnnotateOptions.Threads"/> when given, else 1 for a small model and 0 (one per core) otherwise.</summary>
    internal static int IntraOpThreads(AnnotateOptions o)
    {
        if (o.Threads > 0 || o.DetectionsFile is not null) return o.Threads;
        try
        {
            return new FileInfo(ModelCatalog.Resolve(o.Model)).Length < SmallModelBytes ? 1 : 0;
        }
        catch (ModelException)
        {
            return 0; // "none", "motion" or a missing file: the factory reports what is wrong
        }
    }

    /// <summary>Loads OpenCV's native library; a library that cannot load is reported where it is used.</summary>
    private static void PreloadOpenCv()
    {
        try
        {
            _ = Imaging.ImagingInfo.OpenCvVersion;
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            // reported by the first stage that draws or resizes
        }
    }

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
        if (o.Output is null && o.TracksPath is null && o.EventsPath is null)
            throw new OptionsException("--output", "is required unless --tracks or --events is given (annotate needs at least one output)");
        // Loaded first: a bad tamper or enhancement model fails the job before anything else is opened.
        using var tamperModel = o.Tamper is null ? null : Inference.Tamper.CameraTamperModel.Load(o.Tamper);
        using var enhanceModel = o.Enhance is null ? null : Inference.Enhance.ImageEnhancerModel.Load(o.Enhance);
        metrics ??= new PipelineMetrics();
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 512L << 20 });
        if (o.DetectionsFile is not null && !File.Exists(o.DetectionsFile))
            throw new OptionsException("--detections", $"file not found: '{o.DetectionsFile}'");
        // Start-up side by side (a short job is mostly start-up, and start-up used one core): the source's thread loads
        // FFmpeg and opens the input, a pool thread loads OpenCV (first used by the detector's resize), and this thread
        // builds the model's session. No output is opened before the model loaded: a bad model still fails the job first.
        _ = Task.Run(PreloadOpenCv, CancellationToken.None);
        string streamId = SourceUri.DeriveStreamId(o.Input);
        // Offline: the file mode waits instead of dropping, so every frame is analysed. One decoder thread per core, where
        // FFmpeg's own choice is one more than the cores: the model and the encoder want the cores too (analytics only on
        // the e2e clip, 2 cores, 8 interleaved runs: 2.23 s wall / 3.96 s CPU against 2.31 / 4.01; x264 medium: 12.40 s
        // against 12.53 s).
        var source = new VideoSource(new SourceOptions
        {
            Id = streamId, Uri = o.Input, Mode = SourceMode.File, DecoderThreads = Math.Clamp(Environment.ProcessorCount, 1, 16), // 16: FFmpeg's own cap for auto
        }, pool, logger, metrics).Start();
        IDetector? detector;
        MediaInfo info;
        try
        {
            detector = DetectorFactory.Create(new DetectorStageOptions
            {
                Model = o.DetectionsFile is not null ? "detections-file" : o.Model,
                DetectionsFile = o.DetectionsFile,
                Session = new ModelSessionOptions { Providers = o.Providers, AllowSpinning = o.AllowSpinning, IntraOpThreads = IntraOpThreads(o) },
                Options = new DetectorOptions { ConfidenceThreshold = o.Confidence },
                Motion = o.MotionDetector ?? new Imaging.BackgroundSubtractorOptions(),
            }, logger);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        // Until the run owns the source and the outputs (Build), every failure disposes them here: a started source nobody
        // stops decodes until its queue is full, then holds its reader and the input for the life of the process.
        var outputs = new List<ISink>();
        bool handedOver = false;
        try
        {
            // The video's frame rate comes from the opened input.
            info = await WaitForInfoAsync(source, ct).ConfigureAwait(false);
            var classNames = detector?.ClassNames ?? [];
            ClassSelection.CheckNames(o.Obscure, classNames, "--obscure"); // a misspelt class would leave faces on show
            if (o.Classifier is not null && !File.Exists(o.Classifier)) throw new OptionsException("--classifier", $"file not found: '{o.Classifier}'");
            using var classifier = o.Classifier is null ? null
                : OnnxClassifier.Load(new ClassifierOptions { Model = o.Classifier, Classes = o.ClassifyClasses, Session = new ModelSessionOptions { Providers = o.Providers, AllowSpinning = o.AllowSpinning } }, logger, "--classifier");
            await using var classifierBatcher = classifier is null ? null : new ClassifierBatcher(classifier, new ClassifierOptions { Model = o.Classifier!, Classes = o.ClassifyClasses }, logger, metrics);
            if (classifier is not null && (!o.Track || detector is null))
                throw new OptionsException("--classifier", "classifies tracks: it needs a detector and tracking (drop --no-track, set --model)");
            await using var batcher = detector is null ? null : new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, logger, metrics);
            using var motionModel = new MotionModelLease(o.Track && detector is not null ? o.Motion : "kalman");
            var builder = new PipelineBuilder(streamId, pool).Logger(logger).Metrics(metrics).Source(source).Detector(batcher)
                .Lossless(true).QueueCapacity(8).MaxFrames(o.MaxFrames).Classifier(classifierBatcher).Masks(new MaskOptions { Enabled = o.Masks });
            if (o.Track) builder.Tracker(o.Tracker, motionModel.Model);
            if (o.Track) builder.DetectSchedule(o.DetectSchedule); // without a tracker nothing could fill the skipped frames
            builder.CameraTamper(tamperModel);
            builder.Enhance(enhanceModel, new Inference.Enhance.EnhanceOptions { Enabled = enhanceModel is not null, Apply = o.EnhanceApply });
            // No video asked (offline analytics): no drawing, no encoding, nothing copied.
            var video = o.Output is null ? null : OpenOutput(streamId, "--output", o.Output, () => new VideoFileSink(new VideoSinkOptions
            {
                Path = o.Output,
                Codec = o.Codec,
                Preset = o.Preset,
                Crf = o.Crf,
                Annotator = new AnnotatorOptions { ClassNames = classNames, ObscureClasses = o.Obscure },
            }, info.Fps, builder.SinkPool, metrics: metrics));
            if (video is not null) outputs.Add(video);
            if (o.TracksPath is not null) outputs.Add(OpenOutput(streamId, "--tracks", o.TracksPath, () => new MotTrackSink(o.TracksPath) { WriteDetections = !o.Track })); // --no-track: the raw detections
            if (o.EventsPath is not null) outputs.Add(OpenOutput(streamId, "--events", o.EventsPath, () => new JsonLinesEventSink(new JsonLinesOptions { Path = o.EventsPath }, metrics)));
            foreach (var sink in outputs) builder.Sink(sink);
            handedOver = true; // from here the run owns them: Build disposes them itself when it fails
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
            if (run.Stats.Frames == 0)
                throw new SourceException(streamId, $"'{SourceUri.Redact(o.Input)}' holds no decodable video frame; no output was written");
            if (run.NotFinalised is { Count: > 0 } lost) throw new OutputException(streamId, lost);
            progress?.Invoke(run.Stats.Frames, expected, run.Stats.Frames / Math.Max(1e-3, sw.Elapsed.TotalSeconds));
            if (video?.FallbackReason is not null) logger.LogWarning("encoder {Codec} unavailable, used libx264: {Reason}", o.Codec, video.FallbackReason);
            return new AnnotateSummary(run.Stats.Frames, run.Stats.Detections, run.Stats.Tracks, run.Stats.Events, sw.Elapsed, video?.DrawnInPlace ?? 0);
        }
        finally
        {
            if (!handedOver)
            {
                foreach (var sink in outputs) await sink.DisposeAsync().ConfigureAwait(false);
                await source.DisposeAsync().ConfigureAwait(false);
            }
            detector?.Dispose();
        }
    }

    /// <summary>Opens an output; a folder that cannot be made or a file that cannot be created fails the job naming its option.</summary>
    private static T OpenOutput<T>(string streamId, string option, string path, Func<T> open)
    {
        try
        {
            return open();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OutputException(streamId, $"{option}: cannot write '{path}': {ex.Message}", ex);
        }
    }
}

/// <summary>A motion model for one run, disposed with it.</summary>
public sealed class MotionModelLease(string spec) : IDisposable
{
    public Tracking.Motion.IMotionModel Model { get; } = Tracking.Motion.MotionModels.Create(spec);

    public void Dispose() => Tracking.Motion.MotionModels.DisposeIfNeeded(Model);
}
