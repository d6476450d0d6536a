using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using StreamVision.Core;

namespace StreamVision.Sinks.Tests;

/// <summary>
/// Outputs that survive a crash and a full disk: whole lines only, a fragmented MP4 that plays while it is written, drops
/// counted, a faulted file closed (never a deleted file held open) and retried once there is room again.
/// </summary>
public class CrashSafeOutputTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(30);

    private static AnalyticsEvent Event(long i) => new()
    {
        Type = EventTypes.TrackStarted, StreamId = "cam1", Time = DateTimeOffset.UtcNow, Pts = TimeSpan.FromMilliseconds(40 * i),
        FrameSequence = i, TrackId = (int)i, ClassId = 0, ClassName = "face", Score = 0.9f, Box = new Box(1, 2, 11, 22),
    };

    private static int Frames(string path) => int.Parse(
        TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"").Trim().TrimEnd(','),
        CultureInfo.InvariantCulture);

    [Fact]
    public async Task AFileEndingInATornLineIsCutBackToItsLastWholeLineWhenOpened()
    {
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "events.jsonl");
        File.WriteAllText(path, "{\"a\":1}\n{\"b\":2}\n{\"c\":"); // what a crash in the middle of a write leaves
        var sink = new JsonLinesEventSink(new JsonLinesOptions { Path = path });
        using (var item = SinkTestData.Item(pool, 7, events: [Event(7)])) await sink.WriteAsync(item, CancellationToken.None);
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        var lines = File.ReadAllLines(path);
        Assert.Equal(3, lines.Length);
        Assert.Equal("{\"a\":1}", lines[0]);
        Assert.Equal(7, JsonDocument.Parse(lines[2]).RootElement.GetProperty("frame").GetInt32());
    }

    [Fact]
    public async Task EventsReachTheFileAtTheFlushIntervalInWholeLines()
    {
        var pool = new FramePool();
        string path = Path.Combine(TestEnvironment.NewTempDir(), "events.jsonl");
        // Each frame's events as soon as they are produced (the default): on disk before the next frame, no flush call needed.
        var sink = new JsonLinesEventSink(new JsonLinesOptions { Path = path });
        for (int i = 0; i < 5; i++)
        {
            using var item = SinkTestData.Item(pool, i, events: [Event(i), Event(i)]);
            await sink.WriteAsync(item, CancellationToken.None);
            Assert.Equal(2 * (i + 1), File.ReadAllLines(path).Length);
        }
        await sink.DisposeAsync();

        // A long interval gathers: nothing on disk until the interval passed or the sink completes.
        string gathered = Path.Combine(TestEnvironment.NewTempDir(), "gathered.jsonl");
        var slow = new JsonLinesEventSink(new JsonLinesOptions { Path = gathered, FlushIntervalMs = 60_000 });
        for (int i = 0; i < 5; i++)
        {
            using var item = SinkTestData.Item(pool, i, events: [Event(i)]);
            await slow.WriteAsync(item, CancellationToken.None);
        }
        Assert.Empty(File.ReadAllLines(gathered));
        await slow.CompleteAsync(CancellationToken.None);
        await slow.DisposeAsync();
        Assert.Equal(5, File.ReadAllLines(gathered).Length);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AFullDiskDropsAndCountsEventsKeepsWholeLinesReleasesTheFileAndWritesAgainWhenThereIsRoom()
    {
        using var disk = new SmallDisk(256);
        var pool = new FramePool();
        var metrics = new PipelineMetrics();
        string path = Path.Combine(disk.Root, "events.jsonl");
        string tracks = Path.Combine(disk.Root, "tracks.txt");
        var sink = new JsonLinesEventSink(new JsonLinesOptions { Path = path, RetrySeconds = 0.2 }, metrics);
        var mot = new MotTrackSink(tracks, retrySeconds: 0.2);
        disk.Fill(leaveBytes: 16 * 1024);
        long produced = 0, seq = 0;
        // Write until the disk refuses (a few tens of kilobytes of events).
        while (sink.Health.State != SinkState.Faulted || mot.Health.State != SinkState.Faulted)
        {
            Assert.True(seq < 100_000, "the disk never filled up");
            var evs = Enumerable.Range(0, 5).Select(_ => Event(seq)).ToList();
            using var item = SinkTestData.Item(pool, seq, [SinkTestData.Tracked(1, new Box(10, 20, 40, 60))], evs);
            await sink.WriteAsync(item, CancellationToken.None);
            await mot.WriteAsync(item, CancellationToken.None);
            produced += evs.Count;
            seq++;
        }
        Assert.True(sink.EventsDropped > 0);
        Assert.Contains("space", sink.Health.Reason, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(sink.EventsDropped, metrics.SinkEventsDropped.WithLabels("cam1", "events", "write_failed").Value);
        Assert.Empty(disk.OpenFiles()); // faulted: both files closed

        // The operator makes room by deleting the old files too: nothing of ours may keep them allocated.
        File.Move(path, path + ".old");
        File.Delete(path + ".old");
        disk.FreeRoom();
        Assert.Empty(disk.DeletedButOpen());
        var again = Stopwatch.StartNew();
        while (sink.Health.State != SinkState.Connected || mot.Health.State != SinkState.Connected)
        {
            Assert.True(again.Elapsed < s_wait, $"still {sink.Health} / {mot.Health} after the disk has room");
            var evs = Enumerable.Range(0, 5).Select(_ => Event(seq)).ToList();
            using var item = SinkTestData.Item(pool, seq, [SinkTestData.Tracked(1, new Box(10, 20, 40, 60))], evs);
            await sink.WriteAsync(item, CancellationToken.None);
            await mot.WriteAsync(item, CancellationToken.None);
            produced += evs.Count;
            seq++;
            await Task.Delay(20);
        }
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        await mot.CompleteAsync(CancellationToken.None);
        await mot.DisposeAsync();

        // Produced = written (before, in the file deleted, and after) + dropped; whatever is on disk is whole lines.
        Assert.Equal(produced, sink.EventsWritten + sink.EventsDropped);
        var lines = File.ReadAllLines(path);
        Assert.NotEmpty(lines);
        foreach (var l in lines) JsonDocument.Parse(l).Dispose();
        var rows = File.ReadAllLines(tracks);
        Assert.Equal(seq, mot.Rows + mot.RowsDropped);
        Assert.All(rows, r => Assert.Equal(10, r.Split(',').Length));
        Assert.True(File.ReadAllBytes(tracks)[^1] == (byte)'\n');
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AVideoFileOnAFullDiskIsClosedCountedAndContinuedInTheNextFileOnceThereIsRoom()
    {
        using var disk = new SmallDisk(1024);
        var pool = new FramePool();
        string path = Path.Combine(disk.Root, "out.mp4");
        var sink = new VideoFileSink(new VideoSinkOptions { Path = path, Preset = "ultrafast", Raw = true, ReconnectDelaySeconds = 0.2 }, 25, pool);
        var noise = new byte[160 * 120 * 3];
        long seq = 0;
        async Task WriteAsync()
        {
            using var item = SinkTestData.Item(pool, seq, w: 160, h: 120);
            Random.Shared.NextBytes(noise); // noise does not compress: the disk fills quickly
            noise.CopyTo(item.Frame.Data);
            seq++;
            await sink.WriteAsync(item, CancellationToken.None);
        }
        for (int i = 0; i < 60; i++) await WriteAsync(); // a first stretch that fits
        disk.Fill(leaveBytes: 64 * 1024);
        while (sink.Health.State != SinkState.Faulted)
        {
            Assert.True(seq < 5000, "the disk never filled up");
            await WriteAsync();
        }
        Assert.Empty(disk.OpenFiles()); // the failed file is closed at once
        Assert.True(Frames(path) >= 25, "the fragments written before the disk filled up play");
        long droppedBefore = sink.FramesDropped;
        await WriteAsync();
        Assert.True(sink.FramesDropped > droppedBefore, "frames while faulted are counted");

        disk.FreeRoom();
        var again = Stopwatch.StartNew();
        while (sink.Health.State != SinkState.Connected)
        {
            Assert.True(again.Elapsed < s_wait, $"still {sink.Health} after the disk has room");
            await WriteAsync();
            await Task.Delay(20);
        }
        for (int i = 0; i < 10; i++) await WriteAsync();
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(2, sink.Outputs.Count);
        Assert.EndsWith("out-00001.mp4", sink.Outputs[1], StringComparison.Ordinal); // the first file was not overwritten
        Assert.True(Frames(path) >= 25);
        Assert.True(Frames(sink.Outputs[1]) >= 10);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AMatroskaFileBeingWrittenPlaysUpToItsLastCluster()
    {
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "live.mkv");
        var sink = new VideoFileSink(new VideoSinkOptions { Path = path, Preset = "ultrafast" }, 25, pool);
        for (int i = 0; i < 150; i++)
        {
            using var item = SinkTestData.Item(pool, i, [SinkTestData.Tracked(1, new Box(5 + i % 40, 5, 30 + i % 40, 30))], w: 96, h: 64);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        // Unfinished and still open, as SIGKILL would leave it: clusters of a second each, every packet flushed.
        string copy = Path.Combine(dir, "copy.mkv");
        File.Copy(path, copy);
        int playable = Frames(copy);
        Assert.True(playable >= 150 - 2 * 25, $"{playable} of 150 frames play from the unfinished Matroska file");
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(150, Frames(path));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AnMp4BeingWrittenPlaysUpToItsLastFragmentAsAKilledProcessWouldLeaveIt()
    {
        var pool = new FramePool();
        string dir = TestEnvironment.NewTempDir();
        string path = Path.Combine(dir, "live.mp4");
        var sink = new VideoFileSink(new VideoSinkOptions { Path = path, Preset = "ultrafast" }, 25, pool);
        for (int i = 0; i < 150; i++) // 6 s at 25 fps
        {
            using var item = SinkTestData.Item(pool, i, [SinkTestData.Tracked(1, new Box(5 + i % 40, 5, 30 + i % 40, 30))], w: 96, h: 64);
            await sink.WriteAsync(item, CancellationToken.None);
        }
        // Copy the file as it is on disk now, neither finished nor closed: what SIGKILL or a power cut would leave.
        string copy = Path.Combine(dir, "copy.mp4");
        File.Copy(path, copy);
        int playable = Frames(copy);
        Assert.True(playable >= 150 - 2 * 25, $"{playable} of 150 frames play from the unfinished file (at most a fragment and the encoder's look-ahead may be missing)");
        await sink.CompleteAsync(CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(150, Frames(path)); // a clean stop finalises every frame
        Assert.Equal(0, pool.Outstanding);

        // fragment_seconds 0 keeps the classic MP4 (index at the end): nothing plays before it is finished.
        string classic = Path.Combine(dir, "classic.mp4");
        var plain = new VideoFileSink(new VideoSinkOptions { Path = classic, Preset = "ultrafast", FragmentSeconds = 0 }, 25, pool);
        for (int i = 0; i < 50; i++)
        {
            using var item = SinkTestData.Item(pool, i, w: 96, h: 64);
            await plain.WriteAsync(item, CancellationToken.None);
        }
        string classicCopy = Path.Combine(dir, "classic-copy.mp4");
        File.Copy(classic, classicCopy);
        Assert.Throws<InvalidOperationException>(() => Frames(classicCopy));
        await plain.CompleteAsync(CancellationToken.None);
        await plain.DisposeAsync();
        Assert.Equal(50, Frames(classic));
    }
}
