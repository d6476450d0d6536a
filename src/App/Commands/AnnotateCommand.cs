using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using StreamVision.App.Config;
using StreamVision.App.Pipeline;
using StreamVision.App.Service;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Inference;
using StreamVision.Native;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.App.Commands;

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
    /// <summary>Let ONNX Runtime's worker threads busy-wait (<see cref="ModelSessionOptions.AllowSpinning"/>). Default false.</summary>
    public bool AllowSpinning { get; init; }
}

/// <summary>Summary of an annotate run.</summary>
public sealed record AnnotateSummary(long Frames, long Detections, int Tracks, long Events, TimeSpan Elapsed)
{
    public double Fps => Elapsed.TotalSeconds > 0 ? Frames / Elapsed.TotalSeconds : 0;
}

/// <summary><c>streamvision annotate INPUT -o OUT</c>: offline annotation of a file, as fast as the machine allows, losslessly.</summary>
public static class AnnotateCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Video file (or any source URI) to annotate" };
        var output = new Option<string>("--output", "-o") { Description = "Annotated video to write (.mp4, .mkv)", Required = true };
        var model = new Option<string>("--model", "-m") { Description = $"Detection model: {string.Join(", ", ModelCatalog.BuiltInNames)}, a path to an ONNX file, 'motion' (moving objects, fixed camera, no model) or 'none'", DefaultValueFactory = _ => ModelCatalog.DefaultModel };
        var conf = new Option<float>("--confidence") { Description = "Minimum detection score 0..1", DefaultValueFactory = _ => 0.5f };
        var events = new Option<string?>("--events") { Description = "Write events (track_started, track_ended, ...) as JSON lines to this file" };
        var tracks = new Option<string?>("--tracks") { Description = "Write tracks in MOTChallenge format to this file" };
        var obscure = new Option<string[]>("--obscure") { Description = "Pixelate these classes instead of boxing them (e.g. face)", AllowMultipleArgumentsPerToken = true };
        var codec = new Option<string>("--codec") { Description = "Video encoder (libx264, libx265, h264_nvenc, ...)", DefaultValueFactory = _ => "libx264" };
        var preset = new Option<string>("--preset") { Description = "Encoder preset (ultrafast .. veryslow)", DefaultValueFactory = _ => "veryfast" };
        var crf = new Option<int>("--crf") { Description = "Quality 0..51, lower is better", DefaultValueFactory = _ => 23 };
        var maxFrames = new Option<long>("--max-frames") { Description = "Stop after this many frames (0 = all)" };
        var noTrack = new Option<bool>("--no-track") { Description = "Draw raw detections, no tracking" };
        var detFile = new Option<string?>("--detections") { Description = "Replay this MOTChallenge detection file instead of running a model (frame n+1 of the file for decoded frame n)" };
        var motion = new Option<string>("--motion") { Description = "Tracker motion model: kalman, or a learned ONNX model (models/motion-gru.onnx)", DefaultValueFactory = _ => "kalman" };
        var providers = new Option<string[]>("--providers") { Description = "Execution providers in order (tensorrt, cuda, cpu)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["tensorrt", "cuda", "cpu"] };
        var cmd = new Command("annotate", "Detect and track objects in a video and write an annotated copy (plus tracks and events).")
        {
            input, output, model, conf, events, tracks, obscure, codec, preset, crf, maxFrames, noTrack, providers, detFile, motion,
        };
        cmd.SetAction(async (pr, ct) =>
        {
            var o = new AnnotateOptions
            {
                Input = pr.GetValue(input)!,
                Output = pr.GetValue(output)!,
                Model = pr.GetValue(model)!,
                Confidence = pr.GetValue(conf),
                EventsPath = pr.GetValue(events),
                TracksPath = pr.GetValue(tracks),
                Obscure = pr.GetValue(obscure) is { Length: > 0 } ob ? new HashSet<string>(ob, StringComparer.OrdinalIgnoreCase) : null,
                Codec = pr.GetValue(codec)!,
                Preset = pr.GetValue(preset)!,
                Crf = pr.GetValue(crf),
                MaxFrames = pr.GetValue(maxFrames),
                Track = !pr.GetValue(noTrack),
                Providers = pr.GetValue(providers)!,
                DetectionsFile = pr.GetValue(detFile),
                Motion = pr.GetValue(motion)!,
            };
            using var signals = new ShutdownSignals();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, signals.Token);
            return await RunCliAsync(o, linked.Token).ConfigureAwait(false);
        });
        return cmd;
    }

    private static async Task<int> RunCliAsync(AnnotateOptions o, CancellationToken ct)
    {
        using var loggerFactory = AppLogging.CreateFactory();
        var logger = loggerFactory.CreateLogger("annotate");
        bool interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        try
        {
            AnnotateSummary summary;
            if (interactive)
            {
                summary = default!;
                await AnsiConsole.Progress()
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                    .StartAsync(async ctx =>
                    {
                        var task = ctx.AddTask(Path.GetFileName(o.Input), maxValue: 1);
                        summary = await RunAsync(o, logger, (done, total, fps) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                            task.Description = string.Create(CultureInfo.InvariantCulture, $"{Path.GetFileName(o.Input)} {fps:0.0} fps");
                        }, ct).ConfigureAwait(false);
                    }).ConfigureAwait(false);
            }
            else
            {
                var lastPrint = Stopwatch.StartNew();
                summary = await RunAsync(o, logger, (done, total, fps) =>
                {
                    if (lastPrint.Elapsed < TimeSpan.FromSeconds(2)) return;
                    lastPrint.Restart();
                    string eta = total > 0 && fps > 0 ? string.Create(CultureInfo.InvariantCulture, $" eta {(total - done) / fps:0}s") : "";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"annotate: {done}/{(total > 0 ? total.ToString(CultureInfo.InvariantCulture) : "?")} frames {fps:0.0} fps{eta}"));
                }, ct).ConfigureAwait(false);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"annotate: {summary.Frames} frames, {summary.Detections} objects, {summary.Tracks} tracks, {summary.Events} events in {summary.Elapsed.TotalSeconds:0.0} s ({summary.Fps:0.0} fps) -> {o.Output}"));
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine($"annotate: interrupted; {o.Output} was finalised with the frames written so far");
            return ExitCodes.Interrupted;
        }
        catch (StreamVisionException ex)
        {
            Console.Error.WriteLine($"annotate: {ex.Message}");
            return ex is OptionsException ? ExitCodes.Usage : ExitCodes.Failed;
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

    /// <summary>Runs the whole job. <paramref name="progress"/> gets (frames done, frames expected or 0, fps).</summary>
    /// <param name="metrics">Where the stages record (the benchmark reads their times there); null = a registry of this run's own.</param>
    public static async Task<AnnotateSummary> RunAsync(AnnotateOptions o, ILogger logger, Action<long, long, double>? progress, CancellationToken ct,
        PipelineMetrics? metrics = null)
    {
        var sw = Stopwatch.StartNew();
        metrics ??= new PipelineMetrics();
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 512L << 20 });
        if (o.DetectionsFile is not null && !File.Exists(o.DetectionsFile))
            throw new OptionsException("--detections", $"file not found: '{o.DetectionsFile}'");
        var detector = DetectorFactory.Create(new DetectorConfig
        {
            Model = o.DetectionsFile is not null ? "detections-file" : o.Model,
            DetectionsFile = o.DetectionsFile,
            Providers = o.Providers,
            AllowSpinning = o.AllowSpinning,
            Options = new DetectorOptions { ConfidenceThreshold = o.Confidence },
        }, logger);
        try
        {
            string streamId = Ingest.SourceUri.DeriveStreamId(o.Input);
            // Offline: the file mode waits instead of dropping, so every frame is analysed.
            await using var source = new VideoSource(new SourceOptions { Id = streamId, Uri = o.Input, Mode = SourceMode.File }, pool, logger, metrics).Start();
            var info = await WaitForInfoAsync(source, ct).ConfigureAwait(false);
            var classNames = detector?.ClassNames ?? [];
            var sinks = new List<SinkRunner>();
            var lossless = new SinkRunnerOptions { Policy = SinkQueuePolicy.Wait, Capacity = 8 };
            var video = new VideoFileSink(new VideoSinkOptions
            {
                Path = o.Output,
                Codec = o.Codec,
                Preset = o.Preset,
                Crf = o.Crf,
                Annotator = new AnnotatorOptions { ClassNames = classNames, ObscureClasses = o.Obscure },
            }, info.Fps, pool, metrics: metrics);
            sinks.Add(new SinkRunner(video, streamId, lossless, logger, metrics));
            if (o.TracksPath is not null) sinks.Add(new SinkRunner(new MotTrackSink(o.TracksPath), streamId, lossless, logger, metrics));
            if (o.EventsPath is not null) sinks.Add(new SinkRunner(new JsonLinesEventSink(new JsonLinesOptions { Path = o.EventsPath }), streamId, lossless, logger, metrics));
            await using var batcher = detector is null ? null : new DetectionBatcher(detector, new BatcherOptions { MaxBatch = 1, MaxWait = TimeSpan.Zero }, logger, metrics);
            using var motionModel = new MotionModelLease(o.Track && detector is not null ? o.Motion : "kalman");
            var tracker = o.Track && detector is not null ? new ByteTracker(null, motionModel.Model) : null;
            var pipeline = new StreamPipeline(streamId, source.Frames, batcher?.CreateClient(streamId), tracker, classNames, sinks, lossless: true, logger,
                maxFrames: o.MaxFrames, metrics: metrics);
            long expected = info.FrameCount > 0 ? info.FrameCount : (long)((info.Duration?.TotalSeconds ?? 0) * info.Fps);
            if (o.MaxFrames > 0) expected = expected > 0 ? Math.Min(expected, o.MaxFrames) : o.MaxFrames;
            using var reporter = new Timer(_ => progress?.Invoke(pipeline.Stats.Frames, expected, pipeline.Stats.Frames / Math.Max(1e-3, sw.Elapsed.TotalSeconds)), null, 200, 200);
            try
            {
                await pipeline.RunAsync(ct).ConfigureAwait(false);
            }
            finally
            {
                await source.StopAsync().ConfigureAwait(false);
                // Every path finalises the outputs: a cancelled run still leaves a playable file.
                foreach (var s in sinks) await s.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
                foreach (var s in sinks) await s.DisposeAsync().ConfigureAwait(false);
            }
            progress?.Invoke(pipeline.Stats.Frames, expected, pipeline.Stats.Frames / Math.Max(1e-3, sw.Elapsed.TotalSeconds));
            if (video.FallbackReason is not null) logger.LogWarning("encoder {Codec} unavailable, used libx264: {Reason}", o.Codec, video.FallbackReason);
            return new AnnotateSummary(pipeline.Stats.Frames, pipeline.Stats.Detections, pipeline.Stats.Tracks, pipeline.Stats.Events, sw.Elapsed);
        }
        finally
        {
            detector?.Dispose();
        }
    }
}

/// <summary>A motion model for one run, disposed with it.</summary>
internal sealed class MotionModelLease(string spec) : IDisposable
{
    public Tracking.Motion.IMotionModel Model { get; } = Tracking.Motion.MotionModels.Create(spec);

    public void Dispose() => Tracking.Motion.MotionModels.DisposeIfNeeded(Model);
}
