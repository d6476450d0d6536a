using StreamVision.Core;
using StreamVision.Ingest.Tests.Support;
using StreamVision.Native;

namespace StreamVision.Ingest.Tests;

/// <summary>File sources: lossless, in order, clean completion, no leaks.</summary>
public class VideoSourceFileTests
{
    [Fact]
    public async Task DecodesEveryFrameInOrderAndReturnsThemAll()
    {
        var pool = Sources.NewPool();
        string clip = TestMedia.H264(160, 120, 40);
        await using var source = new VideoSource(new SourceOptions { Uri = clip, Id = "file-all", ChannelCapacity = 2 }, pool).Start();
        Assert.False(source.IsLive);
        var frames = await Sources.DrainAsync(source);
        await source.Completion;

        Assert.Equal(40, frames.Count);
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), frames.Select(f => f.Sequence));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => TimeSpan.FromMilliseconds(40 * i)), frames.Select(f => f.Pts));
        Assert.All(frames, f => Assert.Equal(("file-all", 160, 120, 480), (f.StreamId, f.Width, f.Height, f.Stride)));
        Assert.Equal(SourceState.Ended, source.State);
        Assert.Equal(40, source.FramesDecoded);
        Assert.Equal(40, source.FramesDelivered);
        Assert.Equal(0, source.FramesDropped);
        Assert.True(source.Frames.Completion.IsCompletedSuccessfully);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task AConsumerThatNeverReadsMakesTheFileWaitNotDrop()
    {
        var pool = Sources.NewPool();
        await using (var source = new VideoSource(new SourceOptions { Uri = TestMedia.H264(160, 120, 40), ChannelCapacity = 3 }, pool).Start())
        {
            // Three frames queued and a fourth decoded, waiting for room.
            Assert.True(await Sources.WaitUntilAsync(() => source.QueueDepth == 3 && source.FramesDecoded == 4, TimeSpan.FromSeconds(10)));
            await Task.Delay(300);
            Assert.Equal(4, source.FramesDecoded);                // still waiting: nothing decoded, nothing dropped
            Assert.Equal(3, source.FramesDelivered);
            Assert.Equal(0, source.FramesDropped);
            Assert.Equal(SourceState.Streaming, source.State);
            Assert.Equal(4, pool.Outstanding);
        }
        Assert.Equal(0, pool.Outstanding);                        // DisposeAsync returned the unread frames
    }

    [Fact]
    public async Task APoolCapSmallerThanTheChannelMakesTheFileWaitForFramesToComeBack()
    {
        // 320x240 frames are 230 KiB: a 1 MiB pool holds four, the channel would take eight.
        var pool = Sources.NewPool(1 << 20);
        await using var source = new VideoSource(new SourceOptions { Uri = TestMedia.H264(320, 240, 30), ChannelCapacity = 8 }, pool).Start();
        Assert.True(await Sources.WaitUntilAsync(() => source.QueueDepth == 4, TimeSpan.FromSeconds(10)));
        await Task.Delay(200);
        Assert.Equal(4, source.QueueDepth);
        Assert.True(pool.RentedBytes <= pool.MaxBytes);
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(30, frames.Count);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task MaxFpsSkipsFramesAndKeepsTheirTimestamps()
    {
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = TestMedia.H264(160, 120, 50), MaxFps = 5 }, pool).Start();
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => 5L * i), frames.Select(f => f.Sequence));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => TimeSpan.FromMilliseconds(200 * i)), frames.Select(f => f.Pts));
        Assert.Equal(50, source.FramesDecoded);
        Assert.Equal(40, source.FramesSkipped);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task LoopStartsOverWithTimestampsAndSequenceContinuing()
    {
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = TestMedia.H264(160, 120, 10), Loop = true }, pool).Start();
        var frames = await Sources.TakeAsync(source, 35, TimeSpan.FromSeconds(20));
        await source.StopAsync();
        Assert.Equal(Enumerable.Range(0, 35).Select(i => (long)i), frames.Select(f => f.Sequence));
        Assert.Equal(Enumerable.Range(0, 35).Select(i => TimeSpan.FromMilliseconds(40 * i)), frames.Select(f => f.Pts));
        Assert.Equal(SourceState.Ended, source.State);
        await source.DisposeAsync();
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task OutputSizeDownscalesAndOneSideKeepsTheAspectRatio()
    {
        var pool = Sources.NewPool();
        string clip = TestMedia.H264(320, 240, 5);
        await using (var both = new VideoSource(new SourceOptions { Uri = clip, OutputWidth = 100, OutputHeight = 50 }, pool).Start())
            Assert.All(await Sources.DrainAsync(both), f => Assert.Equal((100, 50), (f.Width, f.Height)));
        await using (var widthOnly = new VideoSource(new SourceOptions { Uri = clip, OutputWidth = 160 }, pool).Start())
            Assert.All(await Sources.DrainAsync(widthOnly), f => Assert.Equal((160, 120), (f.Width, f.Height)));
        Assert.Equal(0, pool.Outstanding);
    }

    public static TheoryData<string, string, int, int, int> Codecs() => new()
    {
        { "hevc.mkv", "-c:v libx265 -preset ultrafast -x265-params log-level=error -pix_fmt yuv420p", 160, 120, 10 },
        { "mjpeg.avi", "-c:v mjpeg -q:v 5 -pix_fmt yuvj420p", 160, 120, 10 },
        { "vp9.webm", "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 200k", 160, 120, 10 },
        { "odd-641x363.mp4", "-c:v libx264 -preset ultrafast -pix_fmt yuv444p", 641, 363, 6 },   // testsrc: testsrc2 rounds to even sizes
    };

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task DecodesOtherCodecsAndOddSizes(string name, string codecArgs, int width, int height, int count)
    {
        string clip = TestMedia.Make(name, $"-f lavfi -i testsrc=size={width}x{height}:rate=25 -frames:v {count} {codecArgs}");
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = clip }, pool).Start();
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(count, frames.Count);
        Assert.All(frames, f => Assert.Equal((width, height), (f.Width, f.Height)));
        Assert.All(frames, f => Assert.True(f.Stride >= width * 3 && f.Stride % 32 == 0));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task RotationMetadataGivesUprightFrames()
    {
        string plain = TestMedia.H264(160, 96, 5);
        string rotated = TestMedia.Make("ingest-rot90.mp4", $"-i \"{plain}\" -c copy -metadata:s:v:0 rotate=90");
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = rotated }, pool).Start();
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(5, frames.Count);
        Assert.All(frames, f => Assert.Equal((96, 160), (f.Width, f.Height)));
        Assert.Equal(270, source.Info!.Rotation);
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task UnavailableHardwareDecodeFallsBackToSoftwareAndSaysWhy()
    {
        var log = new ListLogger();
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = TestMedia.H264(160, 120, 5), HwAccel = "cuda", DecoderThreads = 1 }, pool, log).Start();
        Assert.Equal(5, (await Sources.DrainAsync(source)).Count);
        Assert.Contains("software", source.HardwareStatus);
        Assert.Contains(log.Lines, l => l.Level == Microsoft.Extensions.Logging.LogLevel.Warning && l.Message.Contains("hardware decode 'cuda' not used"));
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public async Task StopBeforeStartAndTwiceIsHarmless()
    {
        var source = new VideoSource(new SourceOptions { Uri = TestMedia.H264(160, 120, 5) });
        await source.StopAsync();
        await source.StopAsync();
        await source.DisposeAsync();
        await source.DisposeAsync();
        Assert.Equal(SourceState.Ended, source.State);
        Assert.True(source.Frames.Completion.IsCompleted);
        Assert.Throws<ObjectDisposedException>(() => source.Start());
    }

    [Fact]
    public async Task AFileWithoutTimestampsStillGetsIncreasingOnes()
    {
        // Raw H.264 (Annex B) has no container timestamps; FFmpeg guesses them from the frame rate.
        string raw = TestMedia.Make("annexb.h264", "-f lavfi -i testsrc2=size=160x120:rate=25 -frames:v 10 -c:v libx264 -preset ultrafast -bsf:v h264_mp4toannexb -f h264");
        var pool = Sources.NewPool();
        await using var source = new VideoSource(new SourceOptions { Uri = raw }, pool).Start();
        var frames = await Sources.DrainAsync(source);
        Assert.Equal(10, frames.Count);
        for (int i = 1; i < frames.Count; i++) Assert.True(frames[i].Pts > frames[i - 1].Pts);
        Assert.Equal(0, pool.Outstanding);
    }
}
