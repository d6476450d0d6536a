using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Service;
using StreamVision.Core;

namespace StreamVision.App.Tests.Service;

public class EventStoreTests
{
    private static AnalyticsEvent Event(string type, DateTimeOffset time, int? track = 1, string stream = "cam", Box? box = null, string? region = null) => new()
    {
        Type = type, StreamId = stream, Time = time, Pts = TimeSpan.Zero, FrameSequence = 1, TrackId = track, ClassName = "person", ClassId = 0,
        Box = box, Region = region, Score = 0.9f,
    };

    private static byte[] Jpeg(int size)
    {
        var b = new byte[size];
        b[0] = 0xFF;
        b[1] = 0xD8;
        new Random(size).NextBytes(b.AsSpan(2));
        return b;
    }

    [Fact]
    public void EventsAreFilteredAndLinkedToTheirTracksPictureAndSurviveReopening()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "events.db");
        var now = DateTimeOffset.UtcNow;
        var tracks = new Dictionary<int, long>();
        long? picture;
        using (var store = new EventStore(new EventStoreOptions(), path, NullLogger.Instance))
        {
            picture = store.Add([Event(EventTypes.TrackStarted, now.AddSeconds(-3), box: new Box(10, 10, 50, 50))], "i", 320, 240, Jpeg(2000), 320, 240, tracks);
            store.Add([Event(EventTypes.LineCrossed, now.AddSeconds(-2), region: "gate"), Event(EventTypes.TrackStarted, now.AddSeconds(-2), track: 2, stream: "other")],
                "i", 320, 240, null, 0, 0, tracks);
            store.Add([Event(EventTypes.TrackEnded, now.AddSeconds(-1))], "i", 320, 240, null, 0, 0, tracks);
        }
        Assert.NotNull(picture);
        Assert.Empty(tracks); // the ended track is forgotten
        using (var store = new EventStore(new EventStoreOptions(), path, NullLogger.Instance))
        {
            var all = store.Query(new EventQuery());
            Assert.Equal(4, all.Count);
            Assert.Equal(EventTypes.TrackEnded, all[0].Type); // newest first
            // The track's later events without a box link to its picture; another track's do not.
            Assert.All(all.Where(e => e.TrackId == 1), e => Assert.Equal(picture, e.SnapshotId));
            Assert.Null(all.Single(e => e.TrackId == 2).SnapshotId);
            Assert.Single(store.Query(new EventQuery { Type = EventTypes.LineCrossed }));
            Assert.Single(store.Query(new EventQuery { Stream = "other" }));
            Assert.Equal(2, store.Query(new EventQuery { Since = now.AddSeconds(-2.5), Stream = "cam" }).Count);
            Assert.Single(store.Query(new EventQuery { Until = now.AddSeconds(-2.5) }));
            Assert.Equal(2, store.Query(new EventQuery { Limit = 2 }).Count);
            Assert.True(store.TryGetSnapshot(picture!.Value, out var jpeg));
            Assert.Equal(2000, jpeg.Length);
            Assert.False(store.TryGetSnapshot(picture.Value + 100, out _));
            var (streams, types, classes) = store.Facets();
            Assert.Equal(new[] { "cam", "other" }, streams);
            Assert.Contains(EventTypes.LineCrossed, types);
            Assert.Equal(new[] { "person" }, classes);
        }
    }

    [Fact]
    public void RetentionRemovesEventsOlderThanTheAgeLimitAndTheOldestBeyondTheSizeLimit()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "events.db");
        var now = DateTimeOffset.UtcNow;
        var tracks = new Dictionary<int, long>();
        using var store = new EventStore(new EventStoreOptions { MaxAgeHours = 1, MaxMb = 1 }, path, NullLogger.Instance);
        store.Add([Event(EventTypes.TrackStarted, now.AddHours(-2), box: new Box(0, 0, 5, 5))], "i", 320, 240, Jpeg(1000), 320, 240, tracks);
        // 40 pictures of 100 kB: four times the size limit.
        for (int i = 0; i < 40; i++)
            store.Add([Event(EventTypes.TrackStarted, now.AddMinutes(-40 + i), track: 10 + i, box: new Box(0, 0, 5, 5))], "i", 320, 240, Jpeg(100_000 + i), 320, 240, tracks);
        store.Retain();
        Assert.True(store.UsedBytes() <= 1 << 20, $"{store.UsedBytes()} bytes used");
        var left = store.Query(new EventQuery { Limit = 1000 });
        Assert.DoesNotContain(left, e => e.Time < now.AddHours(-1));
        Assert.InRange(left.Count, 3, 10);
        // The newest stay, with their pictures.
        Assert.Equal(49, left[0].TrackId);
        Assert.True(store.TryGetSnapshot(left[0].SnapshotId!.Value, out _));
    }

    [Fact]
    public void BadOptionsAndAnUnopenableFileAreNamed()
    {
        var ex = Assert.Throws<OptionsException>(() => new EventStore(new EventStoreOptions { MaxMb = 0 }, "x.db", NullLogger.Instance));
        Assert.Contains("ui.events.max_mb", ex.Message);
        string dir = TestEnvironment.NewTempDir();
        var io = Assert.Throws<IOException>(() => new EventStore(new EventStoreOptions(), dir, NullLogger.Instance)); // a folder, not a file
        Assert.Contains("ui.events.path", io.Message);
    }
}
