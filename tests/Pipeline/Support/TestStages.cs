using System.Collections.Concurrent;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Sinks;

namespace StreamVision.Pipeline.Tests;

/// <summary>One box per frame, drifting right with the frame number: the tracker follows one object through the clip.</summary>
internal sealed class MovingBoxDetector : IDetector
{
    public string Name => "moving-box";
    public IReadOnlyList<string> ClassNames { get; } = ["thing"];
    public int MaxBatch => 4;

    public static Box BoxOf(Frame f) => new(10 + f.Sequence, 20, 60 + f.Sequence, 80);

    public Detections[] Detect(IReadOnlyList<Frame> frames) =>
        frames.Select(f => new Detections([BoxOf(f)], [0.9f], [0])).ToArray();

    public void Dispose()
    {
    }
}

/// <summary>Finds one "thing" in a frame whose mean level is at least <see cref="Threshold"/>; remembers the mean of every frame it saw.</summary>
internal sealed class MeanLevelDetector : IDetector
{
    private readonly ConcurrentQueue<double> _levels = new();

    public string Name => "mean-level";
    public IReadOnlyList<string> ClassNames { get; } = ["bright"];
    public int MaxBatch => 1;
    public double Threshold { get; init; } = 100;
    public IReadOnlyList<double> Levels => _levels.ToArray();

    public static double Mean(Frame f)
    {
        long sum = 0;
        for (int y = 0; y < f.Height; y++)
            foreach (var b in f.GetRowSpan(y)) sum += b;
        return (double)sum / (3L * f.Width * f.Height);
    }

    public Detections[] Detect(IReadOnlyList<Frame> frames) => frames.Select(f =>
    {
        double m = Mean(f);
        _levels.Enqueue(m);
        return m >= Threshold ? new Detections([new Box(10, 10, 50, 50)], [0.9f], [0]) : Detections.Empty;
    }).ToArray();

    public void Dispose()
    {
    }
}

/// <summary>What a <see cref="RecordingSink"/> saw of one item.</summary>
internal sealed record SeenItem(long Sequence, int Detections, int[] TrackIds, int Events, bool EventsOnly)
{
    public TimeSpan Pts { get; init; }
    public IReadOnlyList<AnalyticsEvent> EventList { get; init; } = [];
    public string? CameraState { get; init; }
    /// <summary>Mean of the frame's bytes (blue, green, red alike) as the sink got it.</summary>
    public double MeanLevel { get; init; }
}

/// <summary>Records every item it is given; optionally blocks every write and the finalising until <see cref="Release"/>.</summary>
internal sealed class RecordingSink : ISink
{
    private readonly ConcurrentQueue<SeenItem> _seen = new();
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly bool _block;

    /// <param name="block">Every write waits for <see cref="Release"/>, deaf to cancellation (a write stuck in native code or on the network).</param>
    public RecordingSink(string name = "recorder", bool block = false)
    {
        Name = name;
        _block = block;
        if (!block) _release.SetResult();
    }

    public string Name { get; }
    public IReadOnlyList<SeenItem> Seen => _seen.ToArray();
    public IEnumerable<SeenItem> Pictures => _seen.Where(s => !s.EventsOnly);
    /// <summary>Completes when the first write has begun (a blocking sink is now stuck).</summary>
    public Task Entered => _entered.Task;
    public bool Completed { get; private set; }
    public bool Disposed { get; private set; }

    public void Release() => _release.TrySetResult();

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        _entered.TrySetResult();
        _seen.Enqueue(new SeenItem(item.Frame.Sequence, item.Detections.Count, item.Tracks.Where(t => t.Id > 0).Select(t => t.Id).ToArray(),
            item.Events.Count, item.EventsOnly) { Pts = item.Frame.Pts, EventList = item.Events, CameraState = item.CameraState, MeanLevel = MeanLevelDetector.Mean(item.Frame) });
        await _release.Task.ConfigureAwait(false);
    }

    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        await _release.Task.ConfigureAwait(false);
        Completed = true;
    }

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }
}

/// <summary>Throws on every write: a sink that keeps failing.</summary>
internal sealed class FailingSink : ISink
{
    public string Name => "failing";
    public int Calls;

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        Interlocked.Increment(ref Calls);
        throw new InvalidDataException($"cannot write frame {item.Frame.Sequence}");
    }

    public ValueTask CompleteAsync(CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Checks shared by the pipeline tests.</summary>
internal static class Outputs
{
    /// <summary>Frames in a video file, counted by decoding it with ffprobe (so the file plays to its end).</summary>
    public static int VideoFrames(string path) => int.Parse(TestEnvironment.Ffprobe(
        $"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"").Trim(), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Every line of a JSON-lines file is complete JSON; returns the lines.</summary>
    public static string[] JsonLines(string path)
    {
        var lines = File.ReadAllLines(path);
        foreach (var line in lines) System.Text.Json.JsonDocument.Parse(line).Dispose();
        return lines;
    }

    /// <summary>Waits until every frame rented from the pools is back (frames return as their last owner lets go).</summary>
    public static void AssertNothingRented(params FramePool[] pools) =>
        Assert.True(Poll.Until(() => pools.All(p => p.Outstanding == 0), TimeSpan.FromSeconds(10)),
            "frames left rented: " + string.Join(", ", pools.Select(p => p.Outstanding)));
}
