using StreamVision.Core;
using StreamVision.Imaging;
using StreamVision.Native;

namespace StreamVision.Inference.Tests;

public class MotionDetectorTests
{
    // A 40x40 white square crossing a still grey background at 100 px/s.
    private static string MovingSquare() => TestMedia.Make("moving-square.mp4",
        "-f lavfi -i color=c=gray:s=320x240:r=25 -f lavfi -i color=c=white:s=40x40:r=25 " +
        "-filter_complex \"[0][1]overlay=x='20+t*100':y=100:shortest=1\" -t 2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p");

    [Fact]
    public void FindsTheMovingSquareAndNothingElse()
    {
        using var detector = new MotionDetector(new BackgroundSubtractorOptions { History = 50, MinArea = 200, Downscale = 1, LearningRate = 0.01 });
        using var reader = MediaReader.Open(MovingSquare());
        using var frame = Frame.CreateUnpooled(320, 240);
        frame.StreamId = "cam";
        int n = 0, hits = 0;
        while (reader.TryReadFrame(frame, out var info))
        {
            var d = detector.Detect([frame])[0];
            if (n++ < 10) continue; // the model learns the background first
            Assert.True(d.Count <= 1, $"frame {n}: {d.Count} blobs");
            if (d.Count == 0) continue;
            hits++;
            double t = info.Pts!.Value.TotalSeconds;
            var b = d.Boxes[0];
            Assert.InRange(b.CenterY, 105, 135);
            Assert.InRange(b.CenterX, 20 + t * 100 + 20 - 25, 20 + t * 100 + 20 + 25);
            Assert.InRange(b.Width, 30, 70);
        }
        Assert.True(hits >= 30, $"square found in {hits} frames");
        Assert.Equal(1, detector.Streams);
        detector.ForgetStream("cam");
        Assert.Equal(0, detector.Streams);
    }

    [Fact]
    public void EachStreamHasItsOwnBackground()
    {
        using var detector = new MotionDetector();
        using var a = Frame.CreateUnpooled(64, 48);
        using var b = Frame.CreateUnpooled(64, 48);
        a.StreamId = "a";
        b.StreamId = "b";
        a.Data.Fill(10);
        b.Data.Fill(200);
        for (int i = 0; i < 20; i++) detector.Detect([a, b]);
        Assert.Equal(2, detector.Streams);
        var d = detector.Detect([a, b]);
        Assert.Equal(0, d[0].Count);
        Assert.Equal(0, d[1].Count);
    }

    [Fact]
    public void InvalidOptionsNameTheKey()
    {
        var ex = Assert.Throws<OptionsException>(() => new BackgroundSubtractor(new BackgroundSubtractorOptions { Downscale = 0 }));
        Assert.Equal("detector.motion.downscale", ex.Path);
    }
}
