using System.Numerics;
using StreamVision.Core;

namespace StreamVision.Imaging.Tests;

public class CameraMotionEstimatorTests
{
    /// <summary>A textured scene (grey levels from a few sines and a grid of blobs) seen through a camera transform.</summary>
    private static void Render(Frame f, Matrix3x2 sceneToImage, Box? movingObject = null, float objectShift = 0)
    {
        Matrix3x2.Invert(sceneToImage, out Matrix3x2 imageToScene);
        for (int y = 0; y < f.Height; y++)
        {
            Span<byte> row = f.GetRowSpan(y);
            for (int x = 0; x < f.Width; x++)
            {
                Vector2 s = Vector2.Transform(new Vector2(x, y), imageToScene);
                if (movingObject is { } o && x >= o.X1 && x < o.X2 && y >= o.Y1 && y < o.Y2) s = new Vector2(s.X + objectShift * 7, s.Y - objectShift * 5);
                double v = 128 + 40 * Math.Sin(s.X / 9.0) * Math.Cos(s.Y / 13.0) + 30 * Math.Sin((s.X + 2 * s.Y) / 23.0)
                    + ((((int)Math.Floor(s.X / 17) * 31 + (int)Math.Floor(s.Y / 17) * 17) % 7 == 0) ? 50 : 0);
                byte b = (byte)Math.Clamp(v, 0, 255);
                row[3 * x] = row[3 * x + 1] = row[3 * x + 2] = b;
            }
        }
    }

    private static void AssertClose(Matrix3x2 expected, Matrix3x2 actual, int width, int height, float tolerance)
    {
        // Compare where the two put the frame's corners and centre, in pixels.
        foreach (var p in new[] { new Vector2(0, 0), new Vector2(width, 0), new Vector2(0, height), new Vector2(width, height), new Vector2(width / 2f, height / 2f) })
        {
            float d = Vector2.Distance(Vector2.Transform(p, expected), Vector2.Transform(p, actual));
            Assert.True(d < tolerance, $"at {p}: {d:0.00} px apart (expected {expected}, got {actual})");
        }
    }

    [Fact]
    public void MeasuresPanZoomAndRoll()
    {
        using var estimator = new CameraMotionEstimator();
        using var f = Frame.CreateUnpooled(320, 240);
        Matrix3x2 camera = Matrix3x2.Identity;
        Render(f, camera);
        Assert.False(estimator.TryEstimate(f, [], out Matrix3x2 first));
        Assert.True(first.IsIdentity);

        // Pan, then zoom in about the centre, then roll a little: each frame against the one before.
        Matrix3x2[] steps =
        [
            Matrix3x2.CreateTranslation(6, -3),
            Matrix3x2.CreateScale(1.04f, new Vector2(160, 120)),
            Matrix3x2.CreateRotation(0.02f, new Vector2(160, 120)) * Matrix3x2.CreateTranslation(-4, 2),
        ];
        foreach (Matrix3x2 step in steps)
        {
            camera *= step;
            Render(f, camera);
            Assert.True(estimator.TryEstimate(f, [], out Matrix3x2 motion), $"{estimator.LastInliers} inliers");
            AssertClose(step, motion, 320, 240, 1.0f);
            Assert.True(estimator.LastInliers >= 15);
        }
    }

    [Fact]
    public void IgnoresAnObjectMovingOnItsOwn_WhenToldWhereItIs()
    {
        // A large object (a third of the picture) moves against the background while the camera pans.
        var box = new Box(100, 40, 220, 200);
        using var estimator = new CameraMotionEstimator();
        using var f = Frame.CreateUnpooled(320, 240);
        Render(f, Matrix3x2.Identity, box, 0);
        estimator.TryEstimate(f, [box], out _);
        Matrix3x2 pan = Matrix3x2.CreateTranslation(5, 0);
        Render(f, pan, box, 1);
        Assert.True(estimator.TryEstimate(f, [box], out Matrix3x2 motion));
        AssertClose(pan, motion, 320, 240, 1.0f);
    }

    [Fact]
    public void AFlatPictureHasNoMotion_AndASizeChangeStartsAfresh()
    {
        using var estimator = new CameraMotionEstimator();
        using var flat = Frame.CreateUnpooled(320, 240);
        flat.Data.Fill(100);
        estimator.TryEstimate(flat, [], out _);
        Assert.False(estimator.TryEstimate(flat, [], out Matrix3x2 none));
        Assert.True(none.IsIdentity);

        using var textured = Frame.CreateUnpooled(160, 120);
        Render(textured, Matrix3x2.Identity);
        Assert.False(estimator.TryEstimate(textured, [], out _)); // another size: no previous frame to compare with
        Assert.True(estimator.TryEstimate(textured, [], out Matrix3x2 still));
        AssertClose(Matrix3x2.Identity, still, 160, 120, 0.5f);
    }

    [Fact]
    public void InvalidOptionsNameTheirKey()
    {
        Assert.Equal("camera_motion.downscale", Assert.Throws<OptionsException>(() => new CameraMotionEstimator(new CameraMotionOptions { Downscale = 0 })).Path);
        Assert.Equal("camera_motion.min_inliers", Assert.Throws<OptionsException>(() => new CameraMotionOptions { MinInliers = 2 }.Validate()).Path);
    }
}
