using System.Buffers;
using StreamVision.Core;
using StreamVision.Imaging;
using StreamVision.Sinks;

namespace StreamVision.App.Service;

/// <summary>
/// Feeds a stream's events into the instance's <see cref="EventStore"/> (the review page). A frame whose events concern a
/// track in it is stored once as a JPEG (scaled to <see cref="Config.EventStoreOptions.SnapshotWidth"/>), linked to
/// those events; a track's later events without a picture (its end) link to its latest one. <c>counts</c> events are
/// left out unless asked for. Runs on its own queue like every sink: a slow disk drops events of live streams (counted
/// as the sink's drops), never holds up the stream.
/// </summary>
public sealed class EventStoreSink : ISink
{
    private readonly EventStore _store;
    private readonly string _instance;
    private readonly Dictionary<int, long> _trackSnapshots = new();

    public EventStoreSink(EventStore store, string instanceId)
    {
        _store = store ?? throw new ArgumentNullException(nameof(store));
        _instance = instanceId;
    }

    public string Name => "review";

    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        var events = item.Events;
        if (events.Count == 0) return ValueTask.CompletedTask;
        if (!_store.Options.Counts && events.Any(e => e.Type == EventTypes.Counts))
        {
            events = events.Where(e => e.Type != EventTypes.Counts).ToList();
            if (events.Count == 0) return ValueTask.CompletedTask;
        }
        var f = item.Frame;
        byte[]? jpeg = null;
        int pw = 0, ph = 0;
        if (_store.Options.Snapshots && !item.EventsOnly && events.Any(e => e.TrackId is not null && e.Box is not null))
            (jpeg, pw, ph) = Picture(f);
        _store.Add(events, _instance, f.Width, f.Height, jpeg, pw, ph, _trackSnapshots);
        // Bounded: a track that never ends (the stream stops first) is forgotten with the oldest.
        if (_trackSnapshots.Count > 4096)
            foreach (var id in _trackSnapshots.OrderBy(kv => kv.Value).Take(1024).Select(kv => kv.Key).ToList()) _trackSnapshots.Remove(id);
        return ValueTask.CompletedTask;
    }

    private (byte[] Jpeg, int Width, int Height) Picture(Frame f)
    {
        int width = _store.Options.SnapshotWidth, quality = _store.Options.SnapshotQuality;
        if (f.Width <= width) return (ImageOps.EncodeJpeg(f, quality), f.Width, f.Height);
        int height = Math.Max(1, (int)Math.Round((double)f.Height * width / f.Width));
        int stride = width * 3;
        var buffer = ArrayPool<byte>.Shared.Rent(stride * height);
        try
        {
            ImageOps.Resize(f.Data, f.Width, f.Height, f.Stride, 0, 0, f.Width, f.Height, buffer.AsSpan(0, stride * height), width, height, stride);
            return (ImageOps.EncodeJpeg(buffer.AsSpan(0, stride * height), width, height, stride, quality), width, height);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public ValueTask CompleteAsync(CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
