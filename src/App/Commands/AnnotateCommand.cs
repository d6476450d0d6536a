using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Spectre.Console;
using StreamVision.App.Config;
using StreamVision.Pipeline;
using StreamVision.App.Service;
using StreamVision.Core;
using StreamVision.Ingest;
using StreamVision.Inference;
using StreamVision.Native;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.App.Commands;

/// <summary><c>streamvision annotate INPUT -o OUT</c>: offline annotation of a file, as fast as the machine allows, losslessly.</summary>
public static class AnnotateCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "Video file (or any source URI) to annotate" };
        var output = new Option<string?>("--output", "-o") { Description = "Annotated video to write (.mp4, .mkv); optional when --tracks or --events is given (analytics only, no video)" };
        var model = new Option<string>("--model", "-m") { Description = $"Detection model: {string.Join(", ", ModelCatalog.BuiltInNames)}, a path to an ONNX file, 'motion' (moving objects, fixed camera, no model) or 'none'", DefaultValueFactory = _ => ModelCatalog.DefaultModel };
        var conf = new Option<float>("--confidence") { Description = "Minimum detection score 0..1", DefaultValueFactory = _ => 0.5f };
        var events = new Option<string?>("--events") { Description = "Write events (track_started, track_ended, ...) as JSON lines to this file" };
        var tracks = new Option<string?>("--tracks") { Description = "Write tracks in MOTChallenge format to this file (with --no-track: the detections, id -1)" };
        var obscure = new Option<string[]>("--obscure") { Description = "Pixelate these classes instead of boxing them (e.g. face)", AllowMultipleArgumentsPerToken = true };
        var codec = new Option<string>("--codec") { Description = "Video encoder (libx264, libx265, h264_nvenc, ...)", DefaultValueFactory = _ => "libx264" };
        var preset = new Option<string>("--preset") { Description = "Encoder preset (ultrafast .. veryslow)", DefaultValueFactory = _ => "veryfast" };
        var crf = new Option<int>("--crf") { Description = "Quality 0..51, lower is better", DefaultValueFactory = _ => 23 };
        var maxFrames = new Option<long>("--max-frames") { Description = "Stop after this many frames (0 = all)" };
        var noTrack = new Option<bool>("--no-track") { Description = "Draw raw detections, no tracking" };
        var detFile = new Option<string?>("--detections") { Description = "Replay this MOTChallenge detection file instead of running a model (frame n+1 of the file for decoded frame n)" };
        var motion = new Option<string>("--motion") { Description = "Tracker motion model: kalman, or a learned ONNX model (models/motion-gru.onnx)", DefaultValueFactory = _ => "kalman" };
        var detectInterval = new Option<int>("--detect-interval") { Description = "Run the detector on every Nth frame; the tracker predicts the frames between (1 = every frame)", DefaultValueFactory = _ => 1 };
        var motionGating = new Option<bool>("--motion-gating") { Description = "Run the detector only on frames where background subtraction (MOG2) sees change, at least every 25 frames (fixed cameras)" };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads for the model (0 = auto: 1 for a model file under 2 MB such as BlazeFace, one per core for heavier ones)" };
        var motionPreset = new Option<string?>("--motion-preset") { Description = $"With --model motion: named settings applied before --set (which changes any of them): {string.Join(", ", MotionPresets.Keys)}. pedestrians = a fixed camera over people walking, about 160 px tall; for people H px tall add --set motion.scale=H/160" };
        var set = new Option<string[]>("--set") { Description = "Option KEY=VALUE (repeatable): motion.KEY for the motion detector (detector.motion in a configuration), tracker.KEY for the tracker, e.g. --set motion.object_aspect=0.4 --set tracker.min_hits=2", AllowMultipleArgumentsPerToken = true };
        var providers = new Option<string[]>("--providers") { Description = "Execution providers in order (tensorrt, cuda, cpu)", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => ["tensorrt", "cuda", "cpu"] };
        var classifier = new Option<string?>("--classifier") { Description = "ONNX image classifier run on the crops of confirmed tracks (label, score, top-k in the box label and events)" };
        var classifyClasses = new Option<string[]>("--classify-classes") { Description = "Detector classes whose tracks the classifier labels (default: all)", AllowMultipleArgumentsPerToken = true };
        var noMasks = new Option<bool>("--no-masks") { Description = "Segmentation models (YOLOv8/11-seg, auto-detected): skip the masks, boxes only" };
        var tamper = new Option<string?>("--tamper") { Description = "Watch for camera tampering (covered, defocused, moved, frozen) with this model (models/tamper-cnn-gru.onnx): camera_tampered/camera_restored events, a banner on the video" };
        var enhance = new Option<string?>("--enhance") { Description = "Enhance every frame (low light, noise) with this image-to-image model (models/enhance-lowlight.onnx)" };
        var enhanceApply = new Option<Inference.Enhance.EnhanceTarget>("--enhance-apply") { Description = "With --enhance: both (the detector and the video see the enhanced picture), detect (only the detector) or output (only the video)", DefaultValueFactory = _ => Inference.Enhance.EnhanceTarget.Both };
        var cmd = new Command("annotate", "Detect and track objects in a video and write an annotated copy (plus tracks and events).")
        {
            input, output, model, conf, events, tracks, obscure, codec, preset, crf, maxFrames, noTrack, providers, detFile, motion, detectInterval, motionGating, threads,
            classifier, classifyClasses, noMasks, tamper, enhance, enhanceApply, motionPreset, set,
        };
        cmd.SetAction(async (pr, ct) =>
        {
            Imaging.BackgroundSubtractorOptions motionDetector;
            ByteTrackerOptions tracker;
            try
            {
                (motionDetector, tracker) = ParseSettings([.. PresetSettings(pr.GetValue(motionPreset), pr.GetValue(model)!), .. pr.GetValue(set) ?? []]);
            }
            catch (OptionsException ex)
            {
                Console.Error.WriteLine($"annotate: {ex.Message}");
                return ExitCodes.Usage;
            }
            var o = new AnnotateOptions
            {
                Input = pr.GetValue(input)!,
                Output = pr.GetValue(output),
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
                Threads = pr.GetValue(threads),
                DetectSchedule = pr.GetValue(detectInterval) is var n && (n != 1 || pr.GetValue(motionGating))
                    ? new DetectScheduleOptions { Interval = n, MotionGating = pr.GetValue(motionGating), MaxSkip = Math.Max(25, n) } : null,
                Classifier = pr.GetValue(classifier),
                ClassifyClasses = pr.GetValue(classifyClasses) ?? [],
                Masks = !pr.GetValue(noMasks),
                Tamper = pr.GetValue(tamper),
                Enhance = pr.GetValue(enhance),
                EnhanceApply = pr.GetValue(enhanceApply),
                MotionDetector = motionDetector,
                Tracker = tracker,
            };
            using var signals = new ShutdownSignals();
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, signals.Token);
            return await RunCliAsync(o, linked.Token).ConfigureAwait(false);
        });
        return cmd;
    }

    /// <summary>The files a run writes, for its messages.</summary>
    private static string Outputs(AnnotateOptions o) => string.Join(", ", new[] { o.Output, o.TracksPath, o.EventsPath }.Where(p => p is not null));

    /// <summary>
    /// Named <c>--set</c> lists for <c>--model motion</c>. <c>pedestrians</c>: tuned on the two MOT15 TUD clips (640x480, a
    /// fixed camera at head height over people walking, about 160 px tall; README, "Model-free path", has what each key
    /// did): TUD-Campus MOTA 52.1, both clips pooled 39.7.
    /// </summary>
    internal static readonly IReadOnlyDictionary<string, string[]> MotionPresets = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase)
    {
        ["pedestrians"] =
        [
            "motion.detect_shadows=false", "motion.close_first=true", "motion.morph_kernel=9", "motion.vertical_close=71",
            "motion.object_aspect=0.4", "motion.min_height=100", "motion.min_lifetime=2", "motion.history=100",
            "motion.size_prior=true", "motion.head_split=true", "motion.edge_width=0.5", "motion.frame_difference=10",
            "motion.motion_gap=1", "tracker.min_hits=2",
        ],
    };

    /// <summary>The <c>--set</c> pairs of <c>--motion-preset NAME</c> (none without one); throws <see cref="OptionsException"/> for an unknown name or a model other than motion.</summary>
    internal static string[] PresetSettings(string? preset, string model)
    {
        if (preset is null) return [];
        if (!MotionPresets.TryGetValue(preset, out var settings))
            throw new OptionsException("--motion-preset", $"unknown preset '{preset}'; presets: {string.Join(", ", MotionPresets.Keys)}");
        if (!model.Equals("motion", StringComparison.OrdinalIgnoreCase))
            throw new OptionsException("--motion-preset", $"is for --model motion (the model is '{model}')");
        return settings;
    }

    /// <summary>
    /// <c>--set</c> pairs: <c>motion.KEY=VALUE</c> (motion detector, <see cref="Imaging.BackgroundSubtractorOptions"/>) and
    /// <c>tracker.KEY=VALUE</c> (<see cref="ByteTrackerOptions"/>, <c>tracker.kalman.KEY</c> for the Kalman noise). Throws
    /// <see cref="OptionsException"/> naming the key.
    /// </summary>
    internal static (Imaging.BackgroundSubtractorOptions Motion, ByteTrackerOptions Tracker) ParseSettings(IEnumerable<string> settings)
    {
        var motion = new Imaging.BackgroundSubtractorOptions();
        var trackerSettings = new List<string>();
        foreach (string setting in settings)
        {
            int eq = setting.IndexOf('=');
            if (eq <= 0) throw new OptionsException("--set", $"expected KEY=VALUE, got '{setting}'");
            string key = setting[..eq].Trim(), value = setting[(eq + 1)..].Trim();
            if (key.StartsWith("motion.", StringComparison.OrdinalIgnoreCase))
                motion = TrackCommands.With(motion, key["motion.".Length..], value, $"detector.{key}");
            else if (key.StartsWith("tracker.", StringComparison.OrdinalIgnoreCase))
                trackerSettings.Add(setting.Trim()["tracker.".Length..]);
            else
                throw new OptionsException("--set", $"'{key}': keys start with motion. (motion detector) or tracker. (tracker)");
        }
        motion.Validate();
        return (motion, TrackCommands.ParseTrackerOptions(trackerSettings));
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
                        summary = await AnnotateJob.RunAsync(o, logger, (done, total, fps) =>
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
                summary = await AnnotateJob.RunAsync(o, logger, (done, total, fps) =>
                {
                    if (lastPrint.Elapsed < TimeSpan.FromSeconds(2)) return;
                    lastPrint.Restart();
                    string eta = total > 0 && fps > 0 ? string.Create(CultureInfo.InvariantCulture, $" eta {(total - done) / fps:0}s") : "";
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"annotate: {done}/{(total > 0 ? total.ToString(CultureInfo.InvariantCulture) : "?")} frames {fps:0.0} fps{eta}"));
                }, ct).ConfigureAwait(false);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"annotate: {summary.Frames} frames, {summary.Detections} objects, {summary.Tracks} tracks, {summary.Events} events in {summary.Elapsed.TotalSeconds:0.0} s ({summary.Fps:0.0} fps) -> {Outputs(o)}"));
            return ExitCodes.Ok;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            Console.Error.WriteLine($"annotate: interrupted; {Outputs(o)} finalised with the frames written so far");
            return ExitCodes.Interrupted;
        }
        catch (StreamVisionException ex)
        {
            Console.Error.WriteLine($"annotate: {ex.Message}");
            return ex is OptionsException ? ExitCodes.Usage : ExitCodes.Failed;
        }
    }
}
