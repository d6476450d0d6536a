using StreamVision.Core;

namespace StreamVision.Analytics.Tests;

internal static class AnalyticsTestData
{
    /// <summary>A 20x40 box whose bottom centre (the default anchor) is at (x, y).</summary>
    public static Track At(int id, float x, float y, int classId = 0, TrackState state = TrackState.Tracked, float score = 0.9f) =>
        new(id, new Box(x - 10, y - 40, x + 10, y), score, classId, state, 5, 5, TimeSpan.Zero, 0, 0, state == TrackState.Tracked ? 0 : -1);

    /// <summary>A frame (unpooled, never disposed twice) to stamp events with.</summary>
    public static Frame Frame(long seq, double seconds, int w = 640, int h = 480)
    {
        var f = Core.Frame.CreateUnpooled(w, h);
        f.StreamId = "cam1";
        f.Sequence = seq;
        f.Pts = TimeSpan.FromSeconds(seconds);
        f.CaptureTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) + f.Pts;
        return f;
    }
}
