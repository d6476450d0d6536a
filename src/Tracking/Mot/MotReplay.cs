using System.Numerics;
using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking.Mot;

/// <summary>
/// Replays a MOTChallenge detection file through a fresh <see cref="ByteTracker"/>, frame by frame, as a live stream
/// would deliver it: every frame from the first to the last is tracked (also frames without detections), at
/// <c>pts = (frame - first) / fps</c>. The result is the confirmed tracks matched in each frame, as MOT rows.
/// </summary>
public static class MotReplay
{
    /// <summary>Reads <paramref name="detectionsPath"/> and replays it (see <see cref="Run(IReadOnlyList{MotRow}, float, ByteTrackerOptions?, double, IMotionModel?, IReadOnlyDictionary{int, Matrix3x2}?)"/>).</summary>
    public static List<MotRow> Run(string detectionsPath, float minScore = float.NegativeInfinity, ByteTrackerOptions? options = null,
        double fps = 25, IMotionModel? motionModel = null, IReadOnlyDictionary<int, Matrix3x2>? cameraMotion = null)
    {
        ArgumentNullException.ThrowIfNull(detectionsPath);
        return Run(MotFile.Read(detectionsPath), minScore, options, fps, motionModel, cameraMotion);
    }

    /// <summary>
    /// Tracks <paramref name="detections"/> (rows of one sequence; <c>conf</c> is the score, ids are ignored).
    /// </summary>
    /// <param name="detections">Detection rows, any order.</param>
    /// <param name="minScore">Detections scoring below this are dropped before tracking.</param>
    /// <param name="options">Tracker options (defaults when null).</param>
    /// <param name="fps">Frame rate of the sequence, frames per second: gives each frame its timestamp.</param>
    /// <param name="motionModel">Motion model (the tracker's default Kalman filter when null).</param>
    /// <param name="cameraMotion">
    /// Camera motion into each frame (key: frame number; value: the previous frame's pixels to this frame's), used when
    /// <see cref="ByteTrackerOptions.CompensateCameraMotion"/> is on; frames without an entry did not move.
    /// </param>
    /// <returns>One row per track box: frame, track id, box of the track, confidence = its detection's score.</returns>
    public static List<MotRow> Run(IReadOnlyList<MotRow> detections, float minScore = float.NegativeInfinity, ByteTrackerOptions? options = null,
        double fps = 25, IMotionModel? motionModel = null, IReadOnlyDictionary<int, Matrix3x2>? cameraMotion = null)
    {
        ArgumentNullException.ThrowIfNull(detections);
        if (!(fps > 0) || !double.IsFinite(fps)) throw new ArgumentOutOfRangeException(nameof(fps), fps, "must be a positive frame rate");
        var output = new List<MotRow>();
        if (detections.Count == 0) return output;

        var tracker = new ByteTracker(options, motionModel);
        var byFrame = detections.Where(d => d.Confidence >= minScore).ToLookup(d => d.Frame);
        int first = Math.Min(1, detections.Min(d => d.Frame));
        int last = detections.Max(d => d.Frame);
        for (int frame = first; frame <= last; frame++)
        {
            var rows = byFrame[frame].ToArray();
            var boxes = new Box[rows.Length];
            var scores = new float[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                boxes[i] = rows[i].Box;
                scores[i] = (float)rows[i].Confidence;
            }
            var dets = rows.Length == 0 ? Detections.Empty : new Detections(boxes, scores, new int[rows.Length]);
            var pts = TimeSpan.FromSeconds((frame - first) / fps);
            Matrix3x2 motion = cameraMotion is not null && cameraMotion.TryGetValue(frame, out Matrix3x2 m) ? m : Matrix3x2.Identity;
            foreach (Track t in tracker.Update(dets, pts, motion))
                if (t.State == TrackState.Tracked && t.DetectionIndex >= 0)
                    output.Add(MotRow.FromBox(frame, t.Id, t.Box, t.Score));
        }
        return output;
    }

    /// <summary>Replays <paramref name="detectionsPath"/> and writes the tracks to <paramref name="outputPath"/>; returns the rows written.</summary>
    public static int RunToFile(string detectionsPath, string outputPath, float minScore = float.NegativeInfinity,
        ByteTrackerOptions? options = null, double fps = 25, IMotionModel? motionModel = null)
    {
        ArgumentNullException.ThrowIfNull(outputPath);
        var rows = Run(detectionsPath, minScore, options, fps, motionModel);
        MotFile.Write(outputPath, rows);
        return rows.Count;
    }
}
