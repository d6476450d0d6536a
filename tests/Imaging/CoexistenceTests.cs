using OpenCvSharp;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Imaging.Tests;

/// <summary>
/// OpenCvSharp's native library carries its own static FFmpeg 7.1; our shim links the system's FFmpeg. Both live in one
/// process only because .NET loads native libraries privately (never RTLD_GLOBAL): this decodes with our MediaReader
/// and draws and encodes with OpenCvSharp, frame after frame, in the same process.
/// </summary>
public class CoexistenceTests
{
    [Fact]
    public void DecodeWithOurFfmpegWhileDrawingAndEncodingWithOpenCvSharp()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 8 << 20 });
        using var reader = MediaReader.Open(TestMedia.H264(320, 240, frames: 30));
        int frames = 0;
        while (true)
        {
            Assert.True(pool.TryRent(320, 240, out var frame));
            using (frame)
            {
                if (!reader.TryReadFrame(frame, out _)) break;
                frames++;
                var canvas = Canvas.Of(frame);
                canvas.DrawRectangle(20, 20, 100, 60, 0xFF00FF, thickness: -1);
                canvas.DrawText($"frame {frames}", 10, 200, 0.6, 0xFFFFFF);
                byte[] jpeg = ImageOps.EncodeJpeg(frame, 95);
                using var decoded = Cv2.ImDecode(jpeg, ImreadModes.Color);
                // testsrc2's saturated colour edges lose detail to JPEG's halved chroma: 25 dB is still a close copy
                // (a wrong or shifted picture scores near 10 dB).
                double psnr = Pixels.Psnr(decoded, frame);
                Assert.True(psnr > 25, $"frame {frames}: PSNR {psnr:0.0} dB");
                var inBox = decoded.At<Vec3b>(50, 70);   // row, column: inside the magenta box
                Assert.InRange(inBox.Item0, 240, 255);
                Assert.InRange(inBox.Item1, 0, 15);
                Assert.InRange(inBox.Item2, 240, 255);
            }
        }
        Assert.Equal(30, frames);
        Assert.Equal(0, pool.Outstanding);

        // Both FFmpegs are mapped: the system's (through libsvnative) and the one inside libOpenCvSharpExtern.
        string maps = File.ReadAllText("/proc/self/maps");
        Assert.Contains("libsvnative.so", maps);
        Assert.Matches(@"libavcodec\.so\.\d+", maps);
        Assert.Contains("libOpenCvSharpExtern.so", maps);
        Assert.Matches(@"FFMPEG:\s+YES", Cv2.GetBuildInformation());
        Assert.Matches(@"^\d+\.\d+", NativeInfo.FfmpegVersion);
    }
}
