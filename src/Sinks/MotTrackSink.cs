using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// Writes confirmed tracks matched in the frame (and, on frames the detector skipped by its schedule, the tracked tracks'
/// predicted boxes: the tracker's output on every frame) in MOTChallenge format (<c>frame,id,x,y,w,h,score,-1,-1,-1</c>, 1-based frames), the
/// format <c>streamvision eval-mot</c> and the MOT devkits read. Rows are written whole, each frame's in one write call:
/// a killed process or a full disk never leaves a torn row; rows that cannot be written are dropped and counted
/// (<see cref="RowsDropped"/>) and the file is retried. With <see cref="WriteDetections"/> (a pipeline without a tracker) it
/// writes each frame's detections instead, id -1 as in MOTChallenge's det.txt files.
/// </summary>
public sealed class MotTrackSink : ISink, ISinkHealth
{
    private readonly LineFile _file;

    /// <param name="path">The file, emptied first.</param>
    /// <param name="flushIntervalMs">0 = each frame's rows are written when produced; N = at most every N ms.</param>
    /// <param name="retrySeconds">After a failed write, seconds before the file is opened again.</param>
    public MotTrackSink(string path, double flushIntervalMs = 0, double retrySeconds = 5)
    {
        _file = new LineFile(path, append: false, flushIntervalMs, retrySeconds);
        FilePath = path;
    }

    public string Name => "mot";
    public string FilePath { get; }
    /// <summary>Rows in the file.</summary>
    public long Rows => _file.LinesWritten;
    /// <summary>Rows that could not be written (disk full) and were dropped.</summary>
    public long RowsDropped => _file.LinesDropped;
    public SinkHealth Health => _file.Health;
    /// <summary>Write the detections (id -1, the detector's score) rather than the tracks: for a pipeline without a tracker, whose tracks are empty. Default false.</summary>
    public bool WriteDetections { get; init; }

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        if (item.EventsOnly) return ValueTask.CompletedTask;
        long frame = item.Frame.Sequence + 1;
        if (WriteDetections)
        {
            var boxes = item.Detections.Boxes;
            var scores = item.Detections.Scores;
            for (int i = 0; i < boxes.Length; i++)
            {
                _file.Append(Row(frame, -1, boxes[i], scores[i]));
            }
            _file.EndBatch();
            return ValueTask.CompletedTask;
        }
        foreach (var t in item.Tracks)
        {
            if (t.State != TrackState.Tracked || (t.DetectionIndex < 0 && item.Detected)) continue;
            _file.Append(Row(frame, t.Id, t.Box, t.Score));
        }
        _file.EndBatch();
        return ValueTask.CompletedTask;
    }

    /// <summary>One MOTChallenge row: frame, id, box (x, y, w, h), score, and -1 for the three world coordinates.</summary>
    private static string Row(long frame, int id, Box b, float score) =>
        string.Create(CultureInfo.InvariantCulture, $"{frame},{id},{b.X1:0.##},{b.Y1:0.##},{b.Width:0.##},{b.Height:0.##},{score:0.####},-1,-1,-1");

    public ValueTask CompleteAsync(CancellationToken ct)
    {
        _file.Flush();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _file.Flush();
        _file.Dispose();
        return ValueTask.CompletedTask;
    }
}
