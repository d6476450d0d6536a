using StreamVision.Ingest.Tests.Support;
using StreamVision.Native;

namespace StreamVision.Ingest.Tests;

/// <summary>Bad inputs: a clear error on that stream's channel, never a crash, other streams unaffected.</summary>
public class VideoSourceErrorTests
{
    [Fact]
    public async Task MissingAndGarbageFilesFailTheirOwnStreamsOnly()
    {
        var dir = TestEnvironment.NewTempDir();
        string missing = Path.Combine(dir, "no-such-clip.mp4");
        string garbage = Path.Combine(dir, "random.mp4");
        File.WriteAllBytes(garbage, RandomBytes(64 * 1024, seed: 3));
        string whole = TestMedia.H264(320, 240, 60);
        string truncated = Path.Combine(dir, "truncated.mp4");
        byte[] bytes = File.ReadAllBytes(whole);
        File.WriteAllBytes(truncated, bytes.AsSpan(0, bytes.Length * 6 / 10).ToArray());   // moov (at the end) is gone

        var pool = Sources.NewPool();
        var log = new ListLogger();
        await using var good = new VideoSource(new SourceOptions { Uri = TestMedia.H264(160, 120, 40), Id = "good" }, pool, log);
        await using var none = new VideoSource(new SourceOptions { Uri = missing, Id = "missing" }, pool, log);
        await using var junk = new VideoSource(new SourceOptions { Uri = garbage, Id = "junk" }, pool, log);
        await using var cut = new VideoSource(new SourceOptions { Uri = truncated, Id = "cut" }, pool, log);
        foreach (var s in new[] { good, none, junk, cut }) s.Start();

        var goodFrames = Sources.DrainAsync(good);
        var noneEx = await Assert.ThrowsAsync<SourceException>(() => Sources.DrainAsync(none));
        var junkEx = await Assert.ThrowsAsync<SourceException>(() => Sources.DrainAsync(junk));
        var cutEx = await Assert.ThrowsAsync<SourceException>(() => Sources.DrainAsync(cut));

        Assert.Equal(40, (await goodFrames).Count);
        Assert.Equal(SourceState.Ended, good.State);

        Assert.Equal("missing", noneEx.StreamId);
        Assert.Equal(MediaErrorKind.NotFound, noneEx.Kind);
        Assert.Contains(missing, noneEx.Message);
        Assert.Contains("No such file", noneEx.Message);
        Assert.Equal(MediaErrorKind.InvalidData, junkEx.Kind);
        Assert.Contains("random.mp4", junkEx.Message);
        Assert.Contains("truncated.mp4", cutEx.Message);
        foreach (var s in new[] { none, junk, cut })
        {
            Assert.Equal(SourceState.Failed, s.State);
            Assert.Same(s.LastError, await Assert.ThrowsAnyAsync<SourceException>(() => s.Frames.Completion));
        }
        Assert.Contains(log.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Error && l.Message.StartsWith("Stream missing: open '", StringComparison.Ordinal));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task DamagedPacketsAreCountedAndSkipped()
    {
        // MJPEG: every packet is one JPEG. Marking frames 20..29 as arithmetic-coded (SOF9, which FFmpeg does not
        // decode) damages exactly those ten packets; the demuxer still finds all sixty.
        string clip = TestMedia.Make("ingest-mjpeg-60.avi", "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 60 -c:v mjpeg -q:v 3 -pix_fmt yuvj420p");
        string damaged = Path.Combine(TestEnvironment.NewTempDir(), "damaged.avi");
        byte[] bytes = File.ReadAllBytes(clip);
        var starts = new List<int>();
        for (int i = bytes.AsSpan().IndexOf(Soi); i >= 0; i = NextIndex(bytes, Soi, i + 3)) starts.Add(i);
        Assert.Equal(60, starts.Count);
        foreach (int start in starts.Skip(20).Take(10))
        {
            int sof = NextIndex(bytes, [0xFF, 0xC0], start);
            bytes[sof + 1] = 0xC9;
        }
        File.WriteAllBytes(damaged, bytes);

        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = damaged }, pool).Start();
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(SourceState.Ended, source.State);
        Assert.Equal(50, frames.Count);
        Assert.Equal(10, source.CorruptPackets);
        Assert.Equal(0, pool.Outstanding);
    }

    private static readonly byte[] Soi = [0xFF, 0xD8, 0xFF];

    private static int NextIndex(byte[] data, ReadOnlySpan<byte> pattern, int from)
    {
        int i = data.AsSpan(from).IndexOf(pattern);
        return i < 0 ? -1 : from + i;
    }

    [Fact]
    public async Task AMissingWebcamIsAClearErrorAfterTheConfiguredRetries()
    {
        var log = new ListLogger();
        var options = new SourceOptions
        {
            Uri = "/dev/video97",
            MaxReconnectAttempts = 1,
            ReconnectInitialDelay = TimeSpan.FromMilliseconds(20),
            ReconnectJitter = 0,
        };
        await using var source = new VideoSource(options, Sources.NewPool(), log).Start();
        Assert.True(source.IsLive);
        Assert.Equal(SourceKind.Device, source.Resolved.Kind);
        var ex = await Assert.ThrowsAsync<SourceException>(() => Sources.DrainAsync(source));
        Assert.Equal("video97", ex.StreamId);
        Assert.Contains("/dev/video97", ex.Message);
        Assert.Contains("gave up after 1 reconnect attempts", ex.Message);
        Assert.Equal(MediaErrorKind.NotFound, ex.Kind);
        Assert.Equal(SourceState.Failed, source.State);
        Assert.Equal(1, source.ReconnectAttempts);
        Assert.True(log.Contains("reconnect attempt 1 to /dev/video97"));
    }

    [Fact]
    public async Task AnOptionFFmpegRejectsFailsALiveSourceAtOnceInsteadOfRetrying()
    {
        var options = new SourceOptions
        {
            Uri = "lavfi:testsrc2=size=64x48:rate=25",
            FfmpegOptions = new Dictionary<string, string> { ["no_such_option"] = "1" },
        };
        await using var source = new VideoSource(options, Sources.NewPool()).Start();
        var ex = await Assert.ThrowsAsync<SourceException>(() => Sources.DrainAsync(source));
        Assert.Equal(MediaErrorKind.UnknownOption, ex.Kind);
        Assert.Contains("no_such_option", ex.Message);
        Assert.Equal(0, source.ReconnectAttempts);
    }

    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }
}
