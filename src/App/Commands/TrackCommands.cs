using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using StreamVision.Core;
using StreamVision.Tracking.Mot;
using StreamVision.Tracking.Motion;

namespace StreamVision.App.Commands;

/// <summary><c>streamvision track</c> (replay a MOT detection file through the tracker) and <c>eval-mot</c> (score tracks against ground truth).</summary>
public static class TrackCommands
{
    public static Command CreateTrack()
    {
        var dets = new Option<string>("--detections", "-d") { Description = "MOTChallenge detection file (frame,-1,x,y,w,h,score,...)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Tracks to write in MOTChallenge format", Required = true };
        var minScore = new Option<float>("--min-score") { Description = "Drop detections scoring below this", DefaultValueFactory = _ => float.NegativeInfinity };
        var fps = new Option<double>("--fps") { Description = "Frame rate of the sequence (gives frames their times)", DefaultValueFactory = _ => 25 };
        var motion = new Option<string>("--motion") { Description = "Motion model: kalman (default) or the path of an ONNX motion model, e.g. models/motion-gru.onnx", DefaultValueFactory = _ => MotionModels.Kalman };
        var cmd = new Command("track", "Replay a MOT detection file through the tracker and write MOT-format tracks.") { dets, output, minScore, fps, motion };
        cmd.SetAction(pr =>
        {
            IMotionModel? model = null;
            try
            {
                model = MotionModels.Create(pr.GetValue(motion));
                var sw = Stopwatch.StartNew();
                var rows = MotReplay.Run(pr.GetValue(dets)!, pr.GetValue(minScore), null, pr.GetValue(fps), model);
                MotFile.Write(pr.GetValue(output)!, rows);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"track: {rows.Count} track boxes, {rows.Select(r => r.Id).Distinct().Count()} tracks, {rows.Select(r => r.Frame).Distinct().Count()} frames in {sw.Elapsed.TotalMilliseconds:0} ms ({MotionName(model)} motion) -> {pr.GetValue(output)}"));
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

    private static string MotionName(IMotionModel model) => model is OnnxMotionModel onnx ? Path.GetFileName(onnx.Path) : MotionModels.Kalman;

    public static Command CreateEval()
    {
        var gt = new Option<string>("--gt") { Description = "Ground-truth file (MOTChallenge gt.txt)", Required = true };
        var tracks = new Option<string>("--tracks") { Description = "Tracker output in MOTChallenge format", Required = true };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of a table" };
        var cmd = new Command("eval-mot", "Score tracks against ground truth: CLEAR-MOT, identity metrics and HOTA.") { gt, tracks, json };
        cmd.SetAction(pr =>
        {
            try
            {
                var m = MotEvaluation.EvaluateFiles(pr.GetValue(gt)!, pr.GetValue(tracks)!);
                Console.WriteLine(pr.GetValue(json) ? m.ToJson() : m.ToText());
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"eval-mot: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return cmd;
    }
}
