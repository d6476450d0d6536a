using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.App.Service;
using StreamVision.Pipeline;
using StreamVision.Sinks;

namespace StreamVision.App.Tests.Service;

public class StreamManagerTests
{
    /// <summary>A MOTChallenge detection file with one box drifting right on every frame: tracks and events without a model.</summary>
    internal static string Detections(string dir, int frames = 3000)
    {
        var sb = new StringBuilder();
        for (int f = 1; f <= frames; f++) sb.Append(CultureInfo.InvariantCulture, $"{f},-1,{10 + f % 60},30,40,40,0.9,-1,-1,-1\n");
        string path = Path.Combine(dir, "det.txt");
        File.WriteAllText(path, sb.ToString());
        return path;
    }

    private static SvConfig Load(string yaml) => ConfigLoader.LoadText(yaml, "test.yaml", new Dictionary<string, string>());

    private static string[] JsonLines(string path)
    {
        var lines = File.ReadAllLines(path);
        foreach (var line in lines) JsonDocument.Parse(line).Dispose();
        return lines;
    }

    private static int VideoFrames(string path) => int.Parse(TestEnvironment.Ffprobe(
        $"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"").Trim(), CultureInfo.InvariantCulture);

    [Fact]
    public async Task StopAllMeetsShutdownSecondsWhenAVideoOutputStallsAndFinalisesEverythingElse()
    {
        string dir = TestEnvironment.NewTempDir();
        // A FIFO nobody reads: opening it for writing blocks in the kernel, like an encoder output stuck on a dead server.
        string fifo = Path.Combine(dir, "stall.ts");
        TestEnvironment.Run("mkfifo", $"\"{fifo}\"");
        var config = Load($$"""
            instance: t
            http:
              listen: ""
            detector:
              model: detections-file
              detections: {{Detections(dir)}}
            shutdown_seconds: 2
            sinks:
              preview: false
              queue: 4
            streams:
              - id: stall
                uri: {{TestMedia.H264(160, 120, 250)}}
                mode: file
                sinks:
                  video:
                    path: {{fifo}}
                    preset: ultrafast
                  events: {{dir}}/stall.jsonl
              - id: ok
                uri: lavfi:testsrc2=size=160x120:rate=25
                mode: live
                sinks:
                  video:
                    path: {{dir}}/ok.mp4
                    preset: ultrafast
                  events: {{dir}}/ok.jsonl
            """);
        var logs = new CapturingLogger();
        var m = new StreamManager(config, logs);
        string late = Path.Combine(dir, "stall-late.ts");
        Task? drained = null;
        // Reads the FIFO to its end: the stalled writer gets going, writes what it holds and finalises.
        Task Drain() => Task.Run(() =>
        {
            using var fs = new FileStream(fifo, FileMode.Open, FileAccess.Read);
            using var copy = File.Create(late);
            fs.CopyTo(copy);
        });
        try
        {
            await m.StartAsync();
            Assert.True(m.TryGet("stall", out var stall));
            Assert.True(m.TryGet("ok", out var ok));
            var stalledVideo = stall.Sinks.Single(s => s.Sink.Name == "video");
            Assert.True(Poll.Until(() => stalledVideo.QueueDepth == 4 && ok.Stats.Frames >= 20, TimeSpan.FromSeconds(30)),
                $"streams did not get going: stalled queue {stalledVideo.QueueDepth}, ok frames {ok.Stats.Frames}");

            var deadline = TimeSpan.FromSeconds(config.ShutdownSeconds);
            var sw = Stopwatch.StartNew();
            await m.StopAllAsync(deadline).WaitAsync(TimeSpan.FromSeconds(60)); // what SIGTERM does
            sw.Stop();

            Assert.True(sw.Elapsed < deadline * 3, $"stop took {sw.Elapsed.TotalSeconds:0.0} s with shutdown_seconds {deadline.TotalSeconds}");
            Assert.Equal(StreamStatus.Stopped, stall.Status);
            Assert.Equal(StreamStatus.Stopped, ok.Status);
            Assert.Contains(logs.At(LogLevel.Warning), e => e.Message.Contains("stream stall: sink(s) video", StringComparison.Ordinal)
                && e.Message.Contains("abandoned", StringComparison.Ordinal));
            var okVideo = (VideoFileSink)ok.Sinks.Single(s => s.Sink.Name == "video").Sink;
            Assert.True(okVideo.FramesWritten > 0);
            Assert.Equal(okVideo.FramesWritten, VideoFrames(Path.Combine(dir, "ok.mp4")));
            Assert.Contains(JsonLines(Path.Combine(dir, "ok.jsonl")), l => l.Contains("\"track_started\"", StringComparison.Ordinal));
            Assert.Contains(JsonLines(Path.Combine(dir, "stall.jsonl")), l => l.Contains("\"track_started\"", StringComparison.Ordinal));
            await Assert.ThrowsAsync<ServiceStoppingException>(() => m.AddAsync(config.Streams[1] with { Source = config.Streams[1].Source with { Id = "late" } }));

            await m.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)); // never waits for the stuck output
            Assert.True(m.Pool.Outstanding > 0); // the stuck sink still holds the frames it was given

            // The output comes back: the abandoned sink writes what it holds, finalises, is disposed, and every frame returns.
            drained = Drain();
            await drained.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(Poll.Until(() => m.Pool.Outstanding == 0 && m.Resources.SinkPool.Outstanding == 0, TimeSpan.FromSeconds(10)),
                $"frames left rented: {m.Pool.Outstanding}, {m.Resources.SinkPool.Outstanding}");
            Assert.True(new FileInfo(late).Length > 0, "nothing came out of the stalled output");
            var probe = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{late}\"").Trim();
            Assert.True(probe is not ("" or "0" or "N/A"), $"the stalled output holds no frame ({new FileInfo(late).Length} bytes, ffprobe: '{probe}')");
        }
        finally
        {
            // A failed assertion must not leave the stalled writer blocked for the rest of the test process: it would hold a
            // native FFmpeg writer (and frames) that later tests count.
            drained ??= Drain();
            await m.DisposeAsync();
        }
    }

    [Fact]
    public async Task AReloadOfTheSameFileLeavesEveryStreamRunningAndAChangedDetectScheduleRestartsOne()
    {
        // Lists in the file (a zone's corners, classes, obscure, providers) are new objects on every load: a reload of an
        // unchanged file must still see the same configuration, restart nothing and warn of no detector change.
        string Yaml(string interval) => $$"""
            http:
              listen: ""
            detector:
              model: none
              classes: [person]
              providers: [cpu]
            sinks:
              preview: false
              obscure: [face]
            streams:
              - id: zoned
                uri: "lavfi:testsrc2=size=160x120:rate=10"
                mode: live
                detect: { interval: {{interval}} }
                zones:
                  - name: bay
                    polygon: [[0, 0], [80, 0], [80, 60]]
                    classes: [person]
                lines:
                  - name: door
                    points: [[0, 60], [160, 60]]
                    classes: [person]
            """;
        var logs = new CapturingLogger();
        var m = new StreamManager(Load(Yaml("1")), logs);
        await m.StartAsync();
        Assert.True(m.TryGet("zoned", out var before));

        var same = await m.ReloadAsync(Load(Yaml("1")));

        Assert.Equal((0, 0, 0), (same.Added, same.Removed, same.Restarted));
        Assert.True(m.TryGet("zoned", out var after) && ReferenceEquals(before, after)); // untouched
        Assert.DoesNotContain(logs.At(LogLevel.Warning), e => e.Message.Contains("detector settings changed", StringComparison.Ordinal));

        // A key the old comparison left out: the detect schedule is the stream's, so changing it restarts the stream.
        var changed = await m.ReloadAsync(Load(Yaml("3")));
        Assert.Equal((0, 0, 1), (changed.Added, changed.Removed, changed.Restarted));
        Assert.True(m.TryGet("zoned", out var restarted));
        Assert.Equal(3, restarted.Config.Detect.Interval);
        await m.DisposeAsync();
        Assert.Equal(0, m.Pool.Outstanding);
    }

    [Fact]
    public async Task AStreamObscuringAClassTheDetectorDoesNotHaveDoesNotStartAndSaysWhy()
    {
        var logs = new CapturingLogger();
        var m = new StreamManager(Load("""
            http:
              listen: ""
            detector:
              model: motion
            sinks:
              preview: false
              obscure: [face]
            streams:
              - id: yard
                uri: "lavfi:testsrc2=size=160x120:rate=10"
                mode: live
            """), logs);
        await m.StartAsync();
        Assert.Empty(m.Streams);
        var (config, error) = Assert.Single(m.NotStarted);
        Assert.Equal("yard", config.Id);
        Assert.Contains("sinks.obscure: not classes of this model: face (it has: motion)", error);
        await m.DisposeAsync();
    }

    [Fact]
    public async Task AReloadReportsEveryStreamThatCannotStartAndAppliesTheRest()
    {
        string dir = TestEnvironment.NewTempDir();
        string blocker = Path.Combine(dir, "not-a-folder");
        File.WriteAllText(blocker, "");
        string Yaml(string streams) => $$"""
            http:
              listen: ""
            detector:
              model: none
            sinks:
              preview: false
            streams:
            {{streams}}
            """;
        const string good = "  - id: good\n    uri: \"lavfi:testsrc2=size=160x120:rate=10\"\n    mode: live\n";
        var logs = new CapturingLogger();
        var m = new StreamManager(Load(Yaml(good)), logs);
        await m.StartAsync();
        Assert.True(m.TryGet("good", out var goodHost));

        var report = await m.ReloadAsync(Load(Yaml(good
            + $"  - id: bad1\n    uri: \"lavfi:testsrc2=size=160x120:rate=10\"\n    mode: live\n    sinks:\n      events: {blocker}/bad1.jsonl\n"
            + $"  - id: bad2\n    uri: \"lavfi:testsrc2=size=160x120:rate=10\"\n    mode: live\n    sinks:\n      tracks: {blocker}/bad2.txt\n"
            + "  - id: new\n    uri: \"lavfi:testsrc2=size=160x120:rate=10\"\n    mode: live\n")));

        Assert.True(report.Applied);
        Assert.Equal((1, 0, 0), (report.Added, report.Removed, report.Restarted));
        Assert.Equal(["streams.bad1", "streams.bad2"], report.Errors.Select(e => e.Path).Order());
        Assert.All(report.Errors, e => Assert.Contains("not-a-folder", e.Message));
        Assert.Equal(["bad1", "bad2"], m.NotStarted.Select(n => n.Config.Id));
        Assert.Equal(["good", "new"], m.Streams.Select(s => s.Id));
        Assert.True(m.TryGet("good", out var still) && ReferenceEquals(goodHost, still)); // untouched
        var errors = logs.At(LogLevel.Error);
        Assert.Contains(errors, e => e.Message.StartsWith("stream bad1 not started", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.StartsWith("stream bad2 not started", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Message.Contains("configuration reloaded with 2 error(s)", StringComparison.Ordinal));

        // Fixed by the next reload: the failures are gone from the list.
        var fixedReport = await m.ReloadAsync(Load(Yaml(good)));
        Assert.True(fixedReport.Ok);
        Assert.Empty(m.NotStarted);
        Assert.Equal(["good"], m.Streams.Select(s => s.Id));
        await m.DisposeAsync();
        Assert.Equal(0, m.Pool.Outstanding);
        Assert.Equal(0, m.Resources.SinkPool.Outstanding);
    }
}
