using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Native.Tests;

public class MediaWriterTests
{
    [Fact]
    public void Encodes50FramesThatFfprobeCounts()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "out.mp4");
        using (var writer = MediaWriter.Open(path, new MediaWriterOptions
        {
            Width = 320, Height = 240, Fps = 25,
            Options = new Dictionary<string, string> { ["preset"] = "ultrafast", ["crf"] = "28" },
        }))
        {
            using var frame = Frame.CreateUnpooled(320, 240);
            for (int i = 0; i < 50; i++)
            {
                frame.Data.Fill((byte)(i * 5));
                writer.Write(frame.Data, frame.Stride);
            }
            writer.Finish();
            Assert.Equal(50, writer.FramesWritten);
        }
        var probe = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames,width,height,codec_name -of csv=p=0 \"{path}\"").Trim();
        Assert.Equal("h264,320,240,50", probe);
    }

    [Fact]
    public void DisposeWithoutFinishStillLeavesAPlayableFile()
    {
        string path = Path.Combine(TestEnvironment.NewTempDir(), "abandoned.mkv");
        using (var writer = MediaWriter.Open(path, new MediaWriterOptions { Width = 160, Height = 120, Fps = 10, Options = new Dictionary<string, string> { ["preset"] = "ultrafast" } }))
        {
            using var frame = Frame.CreateUnpooled(160, 120);
            for (int i = 0; i < 12; i++) writer.Write(frame.Data, frame.Stride, TimeSpan.FromMilliseconds(i * 100));
        }
        var frames = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"").Trim();
        Assert.Equal(12, int.Parse(frames, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void MissingEncoderAndBadOptionAreNamed()
    {
        string dir = TestEnvironment.NewTempDir();
        var ex = Assert.Throws<MediaException>(() => MediaWriter.Open(Path.Combine(dir, "a.mp4"), new MediaWriterOptions { Width = 64, Height = 64, Codec = "no_such_encoder" }));
        Assert.Contains("no_such_encoder", ex.Message);
        Assert.Equal(MediaErrorKind.CodecUnavailable, ex.Kind);
        var ex2 = Assert.Throws<MediaException>(() => MediaWriter.Open(Path.Combine(dir, "b.mp4"), new MediaWriterOptions
        {
            Width = 64, Height = 64, Options = new Dictionary<string, string> { ["presett"] = "fast" },
        }));
        Assert.Contains("presett", ex2.Message);
        Assert.Equal(MediaErrorKind.UnknownOption, ex2.Kind);
    }

    [Fact]
    public void UnwritablePathIsAClearError()
    {
        var ex = Assert.Throws<MediaException>(() => MediaWriter.Open("/nonexistent/dir/out.mp4", new MediaWriterOptions { Width = 64, Height = 64 }));
        Assert.Contains("/nonexistent/dir/out.mp4", ex.Message);
    }

    [Theory]
    [InlineData(25.0, 25, 1)]
    [InlineData(29.97, 30000, 1001)]
    [InlineData(12.5, 12500, 1000)]
    public void FrameRateBecomesARational(double fps, int num, int den) => Assert.Equal((num, den), MediaWriter.ToRational(fps));
}
