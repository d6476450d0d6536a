using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class SnapshotSinkTests
{
    private static Track T(int id, Box box, float score, TrackState state = TrackState.Tracked) =>
        new(id, box, score, 0, state, 5, 5, TimeSpan.Zero, 0, 0, state == TrackState.Tracked ? 0 : -1);

    private static string Probe(string path) =>
        TestEnvironment.Ffprobe($"-show_entries stream=codec_name,width,height -of csv=p=0 \"{path}\"").Trim();

    [Fact]
    public async Task BestFrameOfEachTrackIsWrittenWhenItEndsAsCropAndFullFrame()
    {
        var pipelinePool = new FramePool();
        var snapshotPool = new FramePool(new FramePoolOptions { MaxBytes = 8 << 20 });
        string dir = TestEnvironment.NewTempDir();
        var sink = new SnapshotSink(new SnapshotOptions { Directory = dir, InstanceId = "node-a", CropPadding = 0 }, snapshotPool);
        float[] scores1 = [0.5f, 0.7f, 0.95f, 0.6f, 0.8f];
        for (int i = 0; i < 5; i++)
        {
            var tracks = new List<Track> { T(1, new Box(10 + i, 20, 50 + i, 80), scores1[i]), T(2, new Box(100, 30, 140, 90), 0.6f + 0.05f * i) };
            if (i == 1) tracks.Add(T(-3, new Box(0, 0, 10, 10), 0.99f) with { State = TrackState.New }); // tentative: never snapped
            using var item = SinkTestData.Item(pipelinePool, i, tracks, w: 160, h: 120);
            // Paint the frame number into the pixels to tell the copies apart.
            item.Frame.Data.Fill((byte)(40 * i));
            await sink.WriteAsync(item, CancellationToken.None);
        }
        Assert.Equal(2, sink.LiveTracks);
        Assert.Equal(2, snapshotPool.Outstanding); // frames 2 (best of 1) and 4 (best of 2)

        // Track 1 removed: its best (frame 2, score 0.95) is written.
        using (var item = SinkTestData.Item(pipelinePool, 5, [T(1, new Box(15, 20, 55, 80), 0.5f, TrackState.Removed)], w: 160, h: 120))
            await sink.WriteAsync(item, CancellationToken.None);
        Assert.True(File.Exists(Path.Combine(dir, "node-a_cam1_track1_f2_crop.jpg")));
        Assert.True(File.Exists(Path.Combine(dir, "node-a_cam1_track1_f2_frame.jpg")));
        Assert.Equal("mjpeg,40,60", Probe(Path.Combine(dir, "node-a_cam1_track1_f2_crop.jpg")));
        Assert.Equal("mjpeg,160,120", Probe(Path.Combine(dir, "node-a_cam1_track1_f2_frame.jpg")));

        // End of stream: track 2 ends through its track_ended event.
        var ended = new AnalyticsEvent { Type = EventTypes.TrackEnded, StreamId = "cam1", Time = DateTimeOffset.UtcNow, Pts = TimeSpan.FromSeconds(1), FrameSequence = 5, TrackId = 2 };
        using (var item = new AnalyzedFrame(SinkTestData.Item(pipelinePool, 5, w: 160, h: 120).Frame, Detections.Empty, [], [ended], eventsOnly: true))
            await sink.WriteAsync(item, CancellationToken.None);
        Assert.Equal("mjpeg,40,60", Probe(Path.Combine(dir, "node-a_cam1_track2_f4_crop.jpg")));
        Assert.Equal(4, sink.Files.Count);
        Assert.Equal(2, sink.Written);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(0, snapshotPool.Outstanding);
        Assert.Equal(0, pipelinePool.Outstanding);
    }

    [Fact]
    public async Task LiveTracksAndBytesAreBoundedAndLeftoversWrittenOnComplete()
    {
        var pool = new FramePool();
        var snapshotPool = new FramePool(new FramePoolOptions { MaxBytes = 1 << 20 }); // one 640x480 copy (921,600 bytes) fits, two do not
        string dir = TestEnvironment.NewTempDir();
        var sink = new SnapshotSink(new SnapshotOptions { Directory = dir, MaxLiveTracks = 2, FullFrame = false }, snapshotPool);
        for (int i = 0; i < 6; i++)
        {
            // Track 1 is best at frame 0; track 2 improves every frame; track 3 finds no room among the live tracks.
            var tracks = new List<Track> { T(1, new Box(0, 0, 40, 40), 0.9f - 0.05f * i), T(2, new Box(50, 0, 90, 40), 0.5f + 0.05f * i), T(3, new Box(100, 0, 140, 40), 0.9f) };
            using var item = SinkTestData.Item(pool, i, tracks, w: 640, h: 480);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        Assert.Equal(2, sink.LiveTracks);
        Assert.Equal(6, sink.SkippedTracks);
        Assert.Equal(5, sink.SkippedCopies); // frame 0's copy is held for track 1, so track 2's better frames find no room
        Assert.Equal(1, snapshotPool.Outstanding);
        await sink.CompleteAsync(CancellationToken.None);
        Assert.Equal(["cam1_track1_f0_crop.jpg", "cam1_track2_f0_crop.jpg"], sink.Files.Select(Path.GetFileName).Select(n => n![6..]).Order());
        await sink.DisposeAsync();
        Assert.Equal(0, snapshotPool.Outstanding);
        Assert.Equal(0, pool.Outstanding);
    }
}
