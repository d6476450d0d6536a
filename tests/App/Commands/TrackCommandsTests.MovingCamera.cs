using System.Globalization;
using StreamVision.Core;
using StreamVision.Tracking.Mot;

namespace StreamVision.App.Tests;

// A moving camera made from a fixed one: ffmpeg zooms each TUD frame in (up to 1.19x) and slides a 640x480 window over
// it, both changing every frame; the ground truth and the detections are moved the same way. With camera-motion
// compensation the tracker must keep the identities it keeps on the static original.
public partial class TrackCommandsTests
{
    // The window into frame n (0-based), as the ffmpeg expressions below compute it: zoom s, then crop at (x, y).
    private const string PanZoomFilter =
        "scale=w='640+4*abs(mod(n\\,60)-30)':h='480+3*abs(mod(n\\,60)-30)':eval=frame," +
        "crop=w=640:h=480:x='2*abs(mod(n\\,60)-30)*(1+sin(2*PI*n/90))':y='1.5*abs(mod(n\\,60)-30)*(1+sin(2*PI*n/70+1))':exact=1";

    private static (double Scale, double X, double Y) Window(int n)
    {
        double a = Math.Abs(n % 60 - 30);
        return ((640 + 4 * a) / 640, Math.Truncate(2 * a * (1 + Math.Sin(2 * Math.PI * n / 90))), Math.Truncate(1.5 * a * (1 + Math.Sin(2 * Math.PI * n / 70 + 1))));
    }

    /// <summary>The row moved into the window of its frame and clipped to it; null when less than half of it is visible.</summary>
    private static MotRow? Move(MotRow row)
    {
        var (s, x, y) = Window(row.Frame - 1); // MOT frame f is decoded frame f-1
        Box b = row.Box;
        var moved = new Box((float)(b.X1 * s - x), (float)(b.Y1 * s - y), (float)(b.X2 * s - x), (float)(b.Y2 * s - y));
        Box visible = moved.Clip(640, 480);
        if (visible.Area < 0.5f * moved.Area) return null;
        return row with { X = visible.X1, Y = visible.Y1, Width = visible.Width, Height = visible.Height };
    }

    [Theory]
    [InlineData("TUD-Stadtmitte")]
    [InlineData("TUD-Campus")]
    public void MovingCamera_WithCompensation_KeepsTheIdentitiesOfTheStaticOriginal(string sequence)
    {
        string seq = Path.Combine(TestEnvironment.SharedData, "mot15", sequence);
        string dir = TestEnvironment.NewTempDir();
        string video = TestMedia.Make($"{sequence}-panzoom.mp4",
            $"-i \"{Path.Combine(seq, "video.mp4")}\" -vf \"{PanZoomFilter}\" -c:v libx264 -preset veryfast -crf 18 -pix_fmt yuv420p");

        string movedGt = Path.Combine(dir, "gt.txt"), movedDets = Path.Combine(dir, "det.txt");
        MotFile.Write(movedGt, MotFile.Read(Path.Combine(seq, "gt", "gt.txt")).Select(Move).OfType<MotRow>());
        MotFile.Write(movedDets, MotFile.Read(Path.Combine(seq, "det", "det-frcnn.txt")).Select(Move).OfType<MotRow>());

        MotMetrics Score(string gt, string[] track)
        {
            string tracks = Path.Combine(dir, $"tracks-{Guid.NewGuid():N}.txt");
            var (code, text) = Run([.. track, "-o", tracks]);
            Assert.True(code == 0, text);
            return MotEvaluation.EvaluateFiles(gt, tracks, sequence);
        }
        MotMetrics original = Score(Path.Combine(seq, "gt", "gt.txt"), ["track", "-d", Path.Combine(seq, "det", "det-frcnn.txt")]);
        MotMetrics moving = Score(movedGt, ["track", "-d", movedDets]);
        MotMetrics compensated = Score(movedGt, ["track", "-d", movedDets, "--camera-motion", video]);
        log.WriteLine(MotMetrics.ToText([Named(original, "static"), Named(moving, "moving"), Named(compensated, "moving+CMC")]));

        Assert.True(compensated.Idf1 >= original.Idf1 - 0.02,
            string.Create(CultureInfo.InvariantCulture, $"IDF1 {compensated.Idf1:P1} with compensation, {original.Idf1:P1} on the static original"));
        Assert.True(compensated.Idf1 > moving.Idf1, $"compensation must help: IDF1 {compensated.Idf1:P1} vs {moving.Idf1:P1} without");
        Assert.True(compensated.IdSwitches <= moving.IdSwitches);
    }

    private static MotMetrics Named(MotMetrics m, string name) => MotMetrics.Combine(name, [m]);
}
