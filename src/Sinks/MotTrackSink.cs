using System.Globalization;
using System.Text;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// Writes confirmed tracks matched in the frame (and, on frames the detector skipped by its schedule, the tracked tracks'
/// predicted boxes: the tracker's output on every frame) in MOTChallenge format (<c>frame,id,x,y,w,h,score,-1,-1,-1</c>, 1-based frames), the
/// format <c>streamvision eval-mot</c> and the MOT devkits read.
/// </summary>
public sealed class MotTrackSink : ISink
{
    private readonly StreamWriter _writer;

    public MotTrackSink(string path)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _writer = new StreamWriter(path, append: false, new UTF8Encoding(false)) { AutoFlush = false };
        FilePath = path;
    }

    public string Name => "mot";
    public string FilePath { get; }
    public long Rows { get; private set; }

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        if (item.EventsOnly) return ValueTask.CompletedTask;
        long frame = item.Frame.Sequence + 1;
        foreach (var t in item.Tracks)
        {
            if (t.State != TrackState.Tracked || (t.DetectionIndex < 0 && item.Detected)) continue;
            var b = t.Box;
            _writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{frame},{t.Id},{b.X1:0.##},{b.Y1:0.##},{b.Width:0.##},{b.Height:0.##},{t.Score:0.####},-1,-1,-1"));
            Rows++;
        }
        return ValueTask.CompletedTask;
    }

    public async ValueTask CompleteAsync(CancellationToken ct) => await _writer.FlushAsync(ct).ConfigureAwait(false);

    public async ValueTask DisposeAsync() => await _writer.DisposeAsync().ConfigureAwait(false);
}
