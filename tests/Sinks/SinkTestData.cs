using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

internal static class SinkTestData
{
    public static AnalyzedFrame Item(FramePool pool, long seq, IReadOnlyList<Track>? tracks = null, IReadOnlyList<AnalyticsEvent>? events = null, int w = 64, int h = 48,
        bool detected = true)
    {
        Assert.True(pool.TryRent(w, h, out var f));
        f.Data.Clear();
        f.StreamId = "cam1";
        f.Sequence = seq;
        f.Pts = TimeSpan.FromMilliseconds(40 * seq);
        f.CaptureTime = DateTimeOffset.UtcNow;
        return new AnalyzedFrame(f, Detections.Empty, tracks ?? [], events ?? [], detected: detected);
    }

    public static Track Tracked(int id, Box box, float score = 0.9f, int det = 0) =>
        new(id, box, score, 0, TrackState.Tracked, 5, 5, TimeSpan.Zero, 0, 0, det);
}

/// <summary>A sink that is slow, or fails, on purpose (the behaviour under test is the runner's).</summary>
internal sealed class TestSink : ISink
{
    public int Delay { get; init; }
    public bool Fail { get; init; }
    public List<long> Seen { get; } = new();
    public bool Completed { get; private set; }
    public string Name => "test";

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        if (Delay > 0) await Task.Delay(Delay, ct);
        if (Fail) throw new IOException("disk full");
        lock (Seen) Seen.Add(item.Frame.Sequence);
    }

    public ValueTask CompleteAsync(CancellationToken ct)
    {
        Completed = true;
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
