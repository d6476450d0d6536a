using System.Globalization;
using System.Text.Json;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

public class FileSinkTests
{
    [Fact]
    public async Task VideoSinkWritesAPlayableFileWithEveryFrame()
    {
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "out.mp4");
        var sink = new VideoFileSink(new VideoSinkOptions { Path = path, Preset = "ultrafast" }, 25, pool);
        for (int i = 0; i < 20; i++)
        {
            using var item = SinkTestData.Item(pool, i, [SinkTestData.Tracked(1, new Box(5, 5, 30, 30))], w: 96, h: 64);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
        var probe = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height -of csv=p=0 \"{path}\"").Trim();
        Assert.Equal("96,64,20", probe);
    }

    [Fact]
    public async Task AbsentHardwareEncoderFallsBackToLibx264()
    {
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "nv.mp4");
        var sink = new VideoFileSink(new VideoSinkOptions { Path = path, Codec = "h264_nvenc", Preset = "ultrafast" }, 25, pool);
        using (var item = SinkTestData.Item(pool, 0)) await sink.WriteAsync(item, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal("libx264", sink.ActiveCodec);
        Assert.NotNull(sink.FallbackReason);
    }

    [Fact]
    public async Task MotSinkWritesOnlyConfirmedMatchedTracksWithOneBasedFrames()
    {
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "t.txt");
        var sink = new MotTrackSink(path);
        var coasting = SinkTestData.Tracked(2, new Box(0, 0, 5, 5), det: -1);
        var tentative = SinkTestData.Tracked(-1, new Box(0, 0, 5, 5)) with { State = TrackState.New };
        using (var item = SinkTestData.Item(pool, 0, [SinkTestData.Tracked(1, new Box(10, 20, 40, 60), 0.8f), coasting, tentative]))
            await sink.WriteAsync(item, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(["1,1,10,20,30,40,0.8,-1,-1,-1"], File.ReadAllLines(path));
    }

    [Fact]
    public async Task MotSinkWritesTheDetectionsWhenThereIsNoTracker()
    {
        // annotate --no-track --tracks: the detector's boxes as MOTChallenge det rows (id -1), not an empty file.
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "d.txt");
        var sink = new MotTrackSink(path) { WriteDetections = true };
        using (var empty = SinkTestData.Item(pool, 0))
            await sink.WriteAsync(empty, CancellationToken.None);
        Assert.True(pool.TryRent(64, 48, out var frame));
        frame.Sequence = 1;
        using (var item = new AnalyzedFrame(frame, new Detections([new Box(10, 20, 40, 60), new Box(1, 2, 3, 4)], [1f, 0.6f], [0, 0]), [], []))
            await sink.WriteAsync(item, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(["2,-1,10,20,30,40,1,-1,-1,-1", "2,-1,1,2,2,2,0.6,-1,-1,-1"], File.ReadAllLines(path));
    }

    [Fact]
    public async Task MotSinkWritesPredictedTracksOnFramesTheDetectorSkipped()
    {
        // detect.interval / motion gating: on a skipped frame the tracker's predicted boxes are its output for that frame.
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "t.txt");
        var sink = new MotTrackSink(path);
        var predicted = SinkTestData.Tracked(2, new Box(0, 0, 5, 5), 0.7f, det: -1);
        var lost = SinkTestData.Tracked(3, new Box(0, 0, 5, 5), det: -1) with { State = TrackState.Lost };
        using (var detected = SinkTestData.Item(pool, 0, [SinkTestData.Tracked(2, new Box(0, 0, 4, 4), 0.7f)]))
            await sink.WriteAsync(detected, CancellationToken.None);
        using (var skipped = SinkTestData.Item(pool, 1, [predicted, lost], detected: false))
            await sink.WriteAsync(skipped, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(["1,2,0,0,4,4,0.7,-1,-1,-1", "2,2,0,0,5,5,0.7,-1,-1,-1"], File.ReadAllLines(path));
    }

    [Fact]
    public async Task EventLinesFollowTheSchemaAndRotate()
    {
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "events.jsonl");
        var sink = new JsonLinesEventSink(new JsonLinesOptions { Path = path, RotateBytes = 2000, Keep = 2, InstanceId = "node-a" });
        for (int i = 0; i < 30; i++)
        {
            var e = new AnalyticsEvent
            {
                Type = EventTypes.TrackStarted, StreamId = "cam1", Time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero), Pts = TimeSpan.FromSeconds(1.5),
                FrameSequence = i, TrackId = i, ClassId = 0, ClassName = "face", Score = 0.9f, Box = new Box(1, 2, 11, 22),
            };
            using var item = SinkTestData.Item(pool, i, events: [e]);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.True(File.Exists(path + ".1"));
        Assert.False(File.Exists(path + ".3"));
        var lines = File.ReadLines(path + ".2").Concat(File.ReadLines(path + ".1")).Concat(File.ReadLines(path)).ToList();
        Assert.True(lines.Count < 30, "the oldest rotated file was deleted");
        var doc = JsonDocument.Parse(lines[^1]).RootElement;
        Assert.Equal(29, doc.GetProperty("frame").GetInt32());
        Assert.Equal("streamvision.event/1", doc.GetProperty("schema").GetString());
        Assert.Equal("track_started", doc.GetProperty("type").GetString());
        Assert.Equal("node-a", doc.GetProperty("instance").GetString());
        Assert.Equal("2026-01-02T03:04:05.000Z", doc.GetProperty("time").GetString());
        Assert.Equal(1.5, doc.GetProperty("pts").GetDouble());
        Assert.Equal([1.0, 2.0, 10.0, 20.0], doc.GetProperty("box").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(0, pool.Outstanding);
    }
}
