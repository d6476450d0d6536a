using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Reflection;
using StreamVision.Core;
using StreamVision.Imaging;
using StreamVision.Native;
using StreamVision.Tracking;
using StreamVision.Tracking.Mot;
using StreamVision.Tracking.Motion;

namespace StreamVision.App.Commands;

/// <summary>
/// <c>streamvision track</c> (replay MOT detection files through the tracker) and <c>eval-mot</c> (score tracks against
/// ground truth). Both take one file or a folder of sequences in the MOTChallenge layout (<c>SEQ/gt/gt.txt</c>,
/// <c>SEQ/det/NAME</c>; results as <c>RESULTS/SEQ.txt</c>).
/// </summary>
public static class TrackCommands
{
    public static Command CreateTrack()
    {
        var dets = new Option<string>("--detections", "-d") { Description = "MOTChallenge detection file (frame,-1,x,y,w,h,score,...), or a folder of sequences (SEQ/det/NAME, see --det-name)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Tracks to write in MOTChallenge format; with a folder of sequences, the folder for SEQ.txt files", Required = true };
        var detName = new Option<string>("--det-name") { Description = "With a folder of sequences: the detection file in each SEQ/det/", DefaultValueFactory = _ => "det.txt" };
        var minScore = new Option<float>("--min-score") { Description = "Drop detections scoring below this", DefaultValueFactory = _ => float.NegativeInfinity };
        var fps = new Option<double?>("--fps") { Description = "Frame rate of the sequence (gives frames their times); default: seqinfo.ini's frameRate, else 25" };
        var motion = new Option<string>("--motion") { Description = "Motion model: kalman (default) or the path of an ONNX motion model, e.g. models/motion-gru.onnx", DefaultValueFactory = _ => MotionModels.Kalman };
        var motionBlend = new Option<bool>("--motion-blend") { Description = "With an ONNX motion model: blend its predictions with the Kalman filter's per track, weighted by their uncertainties" };
        var cameraMotion = new Option<string?>("--camera-motion") { Description = "The video the detections were made on (decoded frame n = detection frame n+1): estimate the camera's motion from it and compensate it in the tracker, for moving cameras" };
        var set = new Option<string[]>("--set") { Description = "Tracker option KEY=VALUE (repeatable), e.g. --set min_hits=2 --set kalman.position_noise=0.05", AllowMultipleArgumentsPerToken = true };
        var cmd = new Command("track", "Replay MOT detection files through the tracker and write MOT-format tracks.") { dets, output, detName, minScore, fps, motion, motionBlend, cameraMotion, set };
        cmd.SetAction(pr =>
        {
            IMotionModel? model = null;
            try
            {
                ByteTrackerOptions options = ParseTrackerOptions(pr.GetValue(set) ?? []);
                string? video = pr.GetValue(cameraMotion);
                if (video is not null) options = options with { CompensateCameraMotion = true };
                model = MotionModels.Create(pr.GetValue(motion), options.Kalman, pr.GetValue(motionBlend));
                string input = pr.GetValue(dets)!, outPath = pr.GetValue(output)!;
                var jobs = new List<(string Name, string Detections, string Tracks, double Fps)>();
                if (Directory.Exists(input))
                {
                    if (video is not null) throw new ArgumentException("--camera-motion takes one video: use it with one detection file, not a folder");
                    Directory.CreateDirectory(outPath);
                    foreach (MotSequence seq in MotSequence.Discover(input))
                    {
                        string detPath = seq.DetectionsPath(pr.GetValue(detName)!);
                        if (!File.Exists(detPath))
                        {
                            // MOTChallenge folders name their detections per detector (det-frcnn.txt, det-acf.txt, ...).
                            string? folder = Path.GetDirectoryName(detPath);
                            var present = folder is not null && Directory.Exists(folder) ? Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList() : [];
                            throw new ArgumentException($"{seq.Name}: no detection file {detPath}; --det-name picks the file in each SEQ/det/"
                                + (present.Count > 0 ? $" (here: {string.Join(", ", present)})" : ""));
                        }
                        jobs.Add((seq.Name, detPath, seq.TracksPath(outPath), pr.GetValue(fps) ?? seq.FrameRate ?? 25));
                    }
                }
                else
                {
                    jobs.Add((Path.GetFileName(input), input, outPath, pr.GetValue(fps) ?? 25));
                }
                foreach (var job in jobs)
                {
                    var sw = Stopwatch.StartNew();
                    var detections = MotFile.Read(job.Detections);
                    var motions = video is null ? null : EstimateCameraMotion(video, detections);
                    var rows = MotReplay.Run(detections, pr.GetValue(minScore), options, job.Fps, model, motions);
                    MotFile.Write(job.Tracks, rows);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"track: {job.Name}: {rows.Count} track boxes, {rows.Select(r => r.Id).Distinct().Count()} tracks, {rows.Select(r => r.Frame).Distinct().Count()} frames in {sw.Elapsed.TotalMilliseconds:0} ms ({MotionName(model)} motion) -> {job.Tracks}"));
                }
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                Console.Error.WriteLine($"track: {ex.Message}");
                return ex is ArgumentException or OptionsException ? ExitCodes.Usage : ExitCodes.Failed;
            }
            finally
            {
                MotionModels.DisposeIfNeeded(model);
            }
        });
        return cmd;
    }

    /// <summary>
    /// The camera's motion into each frame of <paramref name="video"/>, keyed by MOT frame number (decoded frame n is frame
    /// n+1), estimated away from that frame's <paramref name="detections"/>; frames without a reliable estimate are left out.
    /// </summary>
    internal static Dictionary<int, Matrix3x2> EstimateCameraMotion(string video, IReadOnlyList<MotRow> detections, CameraMotionOptions? options = null)
    {
        using var reader = MediaReader.Open(video);
        using var frame = Frame.CreateUnpooled(reader.Info.Width, reader.Info.Height);
        using var estimator = new CameraMotionEstimator(options);
        var byFrame = detections.ToLookup(d => d.Frame);
        var motions = new Dictionary<int, Matrix3x2>();
        for (int n = 1; reader.TryReadFrame(frame, out _); n++)
        {
            Box[] moving = byFrame[n].Select(r => r.Box).ToArray();
            if (estimator.TryEstimate(frame, moving, out Matrix3x2 m)) motions[n] = m;
        }
        return motions;
    }

    private static string MotionName(IMotionModel model) => model is OnnxMotionModel onnx ? Path.GetFileName(onnx.Path) : MotionModels.Kalman;

    public static Command CreateEval()
    {
        var gt = new Option<string[]>("--gt") { Description = "Ground truth: gt.txt files (repeat the option), or a folder of sequences (SEQ/gt/gt.txt)", Required = true, AllowMultipleArgumentsPerToken = true };
        var tracks = new Option<string[]>("--tracks") { Description = "Tracker output in MOTChallenge format: one file per --gt file, in the same order, or a folder of SEQ.txt files", Required = true, AllowMultipleArgumentsPerToken = true };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var cmd = new Command("eval-mot", "Score tracks against ground truth: CLEAR-MOT, identity metrics and HOTA, per sequence and pooled (OVERALL).") { gt, tracks, json };
        cmd.SetAction(pr =>
        {
            try
            {
                var pairs = PairSequences(pr.GetValue(gt) ?? [], pr.GetValue(tracks) ?? []);
                var metrics = pairs.Select(p => MotEvaluation.EvaluateFiles(p.GroundTruth, p.Tracks, p.Name)).ToList();
                if (metrics.Count == 1)
                {
                    Console.WriteLine(pr.GetValue(json) ? metrics[0].ToJson() : metrics[0].ToText());
                }
                else
                {
                    MotMetrics overall = MotMetrics.Combine("OVERALL", metrics);
                    Console.WriteLine(pr.GetValue(json) ? MotMetrics.ToJson(metrics, overall) : MotMetrics.ToText([.. metrics, overall]));
                }
                return ExitCodes.Ok;
            }
            catch (ArgumentException ex)
            {
                Console.Error.WriteLine($"eval-mot: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"eval-mot: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return cmd;
    }

    /// <summary>
    /// Pairs ground truth with tracks: one folder of sequences with one results folder (each sequence's <c>SEQ.txt</c>;
    /// a missing one is an error, as in the MOTChallenge devkit), or files paired in order. Names are the sequence names
    /// (for files: the folder above <c>gt/</c>), made unique.
    /// </summary>
    internal static IReadOnlyList<(string Name, string GroundTruth, string Tracks)> PairSequences(IReadOnlyList<string> gt, IReadOnlyList<string> tracks)
    {
        if (gt.Count == 1 && Directory.Exists(gt[0]))
        {
            if (tracks.Count != 1 || !Directory.Exists(tracks[0]))
                throw new ArgumentException("--gt is a folder of sequences, so --tracks must be one folder of SEQ.txt files");
            var pairs = MotSequence.Discover(gt[0]).Select(s => (s.Name, s.GroundTruthPath, s.TracksPath(tracks[0]))).ToList();
            var missing = pairs.Where(p => !File.Exists(p.Item3)).Select(p => p.Item3).ToList();
            if (missing.Count > 0) throw new FileNotFoundException($"no tracks for {missing.Count} sequence(s): {string.Join(", ", missing)}");
            return pairs;
        }
        if (gt.Count != tracks.Count)
            throw new ArgumentException($"{gt.Count} --gt file(s) but {tracks.Count} --tracks file(s): give one tracks file per ground truth, in the same order");
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<(string, string, string)>();
        for (int i = 0; i < gt.Count; i++)
        {
            string name = SequenceName(gt[i]);
            names[name] = names.GetValueOrDefault(name) + 1;
            result.Add((names[name] == 1 ? name : $"{name}#{names[name]}", gt[i], tracks[i]));
        }
        return result;
    }

    private static string SequenceName(string groundTruthPath)
    {
        // .../TUD-Campus/gt/gt.txt -> TUD-Campus; .../TUD-Campus/gt.txt -> TUD-Campus; .../campus-small.txt -> campus-small
        string file = Path.GetFileNameWithoutExtension(groundTruthPath);
        if (!file.Equals("gt", StringComparison.OrdinalIgnoreCase)) return file;
        string? dir = Path.GetDirectoryName(Path.GetFullPath(groundTruthPath));
        if (dir is not null && Path.GetFileName(dir).Equals("gt", StringComparison.OrdinalIgnoreCase)) dir = Path.GetDirectoryName(dir);
        return dir is null ? file : Path.GetFileName(dir);
    }

    /// <summary>
    /// Tracker options from <c>KEY=VALUE</c> pairs: keys are <see cref="ByteTrackerOptions"/> property names in snake_case
    /// or as written (<c>min_hits</c>, <c>MinHits</c>), <c>kalman.</c> for the Kalman noise; values in invariant culture.
    /// Throws <see cref="OptionsException"/> naming the key for an unknown key or a bad value; validates the result.
    /// </summary>
    internal static ByteTrackerOptions ParseTrackerOptions(IEnumerable<string> settings)
    {
        var options = new ByteTrackerOptions();
        foreach (string setting in settings)
        {
            int eq = setting.IndexOf('=');
            if (eq <= 0) throw new OptionsException("--set", $"expected KEY=VALUE, got '{setting}'");
            string key = setting[..eq].Trim(), value = setting[(eq + 1)..].Trim();
            string path = $"tracker.{key}";
            if (key.StartsWith("kalman.", StringComparison.OrdinalIgnoreCase))
                options = options with { Kalman = With(options.Kalman, key["kalman.".Length..], value, path) };
            else
                options = With(options, key, value, path);
        }
        return options.Validate();
    }

    internal static T With<T>(T record, string key, string value, string path) where T : class
    {
        string wanted = key.Replace("_", "", StringComparison.Ordinal);
        PropertyInfo? property = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .FirstOrDefault(p => p.CanWrite && p.PropertyType != typeof(KalmanMotionOptions) && p.Name.Equals(wanted, StringComparison.OrdinalIgnoreCase));
        if (property is null)
        {
            var keys = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.CanWrite && p.PropertyType != typeof(KalmanMotionOptions)).Select(p => SnakeCase(p.Name));
            throw new OptionsException(path, $"unknown key (expected one of: {string.Join(", ", keys)})");
        }
        object parsed;
        try
        {
            Type type = property.PropertyType;
            parsed = type.IsEnum
                ? Enum.Parse(type, value.Replace("_", "", StringComparison.Ordinal), ignoreCase: true)
                : type == typeof(bool) ? bool.Parse(value) : Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or OverflowException or InvalidCastException)
        {
            Type t = property.PropertyType;
            string expected = t.IsEnum ? string.Join(" or ", Enum.GetNames(t).Select(SnakeCase))
                : t == typeof(bool) ? "true or false" : t == typeof(int) ? "whole number" : "number";
            throw new OptionsException(path, $"'{value}' is not a valid {expected}");
        }
        // The options are records with init-only properties: set the value on a copy.
        MethodInfo clone = typeof(T).GetMethod("<Clone>$")!;
        var copy = (T)clone.Invoke(record, null)!;
        property.SetValue(copy, parsed);
        return copy;
    }

    /// <summary>A property name as configuration files write it: <c>LowMatchMinIoU</c> -> <c>low_match_min_iou</c>.</summary>
    private static string SnakeCase(string name)
    {
        name = name.Replace("IoU", "Iou", StringComparison.Ordinal);
        var sb = new System.Text.StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && !char.IsUpper(name[i - 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
