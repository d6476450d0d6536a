using StreamVision.Analytics;
using StreamVision.Imaging;

namespace StreamVision.Sinks;

/// <summary>
/// Draws whatever zones and lines a <see cref="LiveAnalytics"/> holds now: after a replacement (the browser's zone
/// editor) the next picture shows the new set. The drawings of one set are built once and shared (thread-safe to draw).
/// </summary>
public sealed class LiveAnalyticsOverlay : IOverlay
{
    private readonly LiveAnalytics _live;
    private Cached? _cache;

    private sealed record Cached(StreamAnalytics? Analytics, IReadOnlyList<IOverlay> Overlays);

    public LiveAnalyticsOverlay(LiveAnalytics live) => _live = live ?? throw new ArgumentNullException(nameof(live));

    public void Draw(Canvas canvas, double scale)
    {
        var current = _live.Current;
        var c = _cache;
        if (c is null || !ReferenceEquals(c.Analytics, current))
        {
            c = new Cached(current, AnalyticsOverlays.Of(current));
            _cache = c;
        }
        foreach (var o in c.Overlays) o.Draw(canvas, scale);
    }
}
