using StreamVision.Core;

namespace StreamVision.Imaging.Tests;

public class CanvasTests
{
    private static int ChangedOutside(Frame f, int x0, int y0, int x1, int y1)
    {
        int changed = 0;
        for (int y = 0; y < f.Height; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < f.Width; x++)
            {
                bool inside = x >= x0 && x < x1 && y >= y0 && y < y1;
                if (!inside && (row[3 * x] | row[3 * x + 1] | row[3 * x + 2]) != 0) changed++;
            }
        }
        return changed;
    }

    [Fact]
    public void RectangleChangesPixelsOnItsOutlineOnly()
    {
        using var f = Frame.CreateUnpooled(200, 100);
        f.Data.Clear();
        Canvas.Of(f).DrawRectangle(20, 10, 50, 30, 0xFF0000, thickness: 2);
        var row = f.GetRowSpan(10);
        Assert.Equal([0, 0, 255], row.Slice(30 * 3, 3).ToArray()); // BGR: pure red on the top edge
        Assert.Equal(0, f.GetRowSpan(25)[45 * 3 + 2]);              // the inside stays untouched
        Assert.Equal(0, ChangedOutside(f, 19, 9, 72, 42));
    }

    [Fact]
    public void TextChangesPixelsInsideItsMeasuredBoxOnly()
    {
        using var f = Frame.CreateUnpooled(300, 80);
        f.Data.Clear();
        var (w, h, baseline) = Canvas.MeasureText("person 0.87", 0.6, 1);
        Assert.True(w > 50 && h > 5);
        Canvas.Of(f).DrawText("person 0.87", 10, 40, 0.6, 0xFFFFFF, 1);
        int inside = 0;
        for (int y = 40 - h; y < 40 + baseline; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 10; x < 10 + w; x++) if (row[3 * x] != 0) inside++;
        }
        Assert.True(inside > 50, $"text drew {inside} pixels");
        Assert.Equal(0, ChangedOutside(f, 8, 40 - h - 2, 12 + w, 42 + baseline));
    }

    [Fact]
    public void PolylineObscureAndJpegWork()
    {
        using var f = Frame.CreateUnpooled(128, 96);
        for (int y = 0; y < 96; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < row.Length; x++) row[x] = (byte)((x * 7 + y * 13) & 0xFF);
        }
        var c = Canvas.Of(f);
        c.DrawPolyline([10, 10, 100, 10, 100, 80], 0x00FF00, 3, closed: true);
        var before = f.GetRowSpan(50).Slice(30 * 3, 60).ToArray();
        c.Obscure(new Box(20, 40, 80, 70), ObscureMode.Pixelate, 10);
        Assert.False(before.AsSpan().SequenceEqual(f.GetRowSpan(50).Slice(30 * 3, 60)));
        byte[] jpeg = ImageOps.EncodeJpeg(f, 85);
        Assert.True(jpeg.Length > 100);
        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);
    }

    [Fact]
    public void DrawsInPlaceIntoAPooledFrameAndLeavesItsRowPaddingAlone()
    {
        var pool = new FramePool(new FramePoolOptions { MaxBytes = 1 << 20 });
        Assert.True(pool.TryRent(100, 60, out var f));
        using (f)
        {
            Assert.True(f.Stride > 100 * 3);
            byte[] buffer = f.DangerousGetBuffer();
            buffer.AsSpan().Fill(0x11);
            var c = Canvas.Of(f);
            c.DrawRectangle(0, 0, 100, 60, 0x00FF00, thickness: -1);   // the whole picture, filled
            c.DrawLine(0, 0, 99, 59, 0xFF0000, 3);
            c.DrawCircle(50, 30, 10, 0x0000FF);
            Assert.Same(buffer, f.DangerousGetBuffer());
            for (int y = 0; y < 60; y++)
            {
                var line = buffer.AsSpan(y * f.Stride, f.Stride);
                Assert.All(line[(100 * 3)..].ToArray(), b => Assert.Equal(0x11, b));   // padding: never written
            }
            Assert.Equal([0, 255, 0], f.GetRowSpan(5).Slice(90 * 3, 3).ToArray());       // fill, away from line and circle
            Assert.Equal([255, 0, 0], f.GetRowSpan(30).Slice(50 * 3, 3).ToArray());      // circle centre: blue (BGR)
            Assert.Equal([0, 0, 255], f.GetRowSpan(20).Slice(33 * 3, 3).ToArray());      // on the diagonal: red
        }
        Assert.Equal(0, pool.Outstanding);
    }

    [Fact]
    public void FillPolygonBlendsInsideItsBoundsOnly()
    {
        using var f = Frame.CreateUnpooled(120, 80);
        f.Data.Clear();
        Canvas.Of(f).FillPolygon([20, 10, 80, 10, 80, 50, 20, 50], 0xFFFFFF, 0.5);
        Assert.InRange(f.GetRowSpan(30)[50 * 3], 126, 129);   // half of white over black
        Assert.Equal(0, ChangedOutside(f, 20, 10, 81, 51));
        Canvas.Of(f).FillPolygon([-50, -50, -10, -50, -10, -10], 0xFFFFFF, 1);   // entirely outside: nothing
        Assert.Equal(0, ChangedOutside(f, 20, 10, 81, 51));

        // A triangle: inside its bounding box but outside the triangle nothing changes.
        using var g = Frame.CreateUnpooled(120, 80);
        g.Data.Clear();
        Canvas.Of(g).FillPolygon([20, 10, 80, 10, 20, 50], 0x0000FF, 1);
        Assert.Equal([255, 0, 0], g.GetRowSpan(15).Slice(25 * 3, 3).ToArray());   // inside: pure blue (BGR)
        Assert.Equal([0, 0, 0], g.GetRowSpan(45).Slice(75 * 3, 3).ToArray());     // bounding box corner outside the triangle
    }

    [Fact]
    public void BlurSmoothsInsideTheBoxOnly()
    {
        using var f = Frame.CreateUnpooled(120, 80);
        for (int y = 0; y < 80; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < 120; x++) row.Slice(3 * x, 3).Fill((byte)((x + y) % 2 == 0 ? 255 : 0));   // a fine checkerboard
        }
        var outsideBefore = f.GetRowSpan(5).ToArray();
        Canvas.Of(f).Obscure(new Box(30, 20, 90, 60), ObscureMode.Blur);
        var inside = f.GetRowSpan(40).Slice(60 * 3, 3 * 10).ToArray();
        Assert.All(inside, b => Assert.InRange(b, 64, 192));   // the checkerboard averaged towards grey
        Assert.Equal(outsideBefore, f.GetRowSpan(5).ToArray());
        Assert.Equal(255, f.GetRowSpan(40)[20 * 3]);            // left of the box: still the pattern
    }

    [Fact]
    public void BlurBlendsTheBoxEdgesWithTheirSurroundings()
    {
        // A black box on white: the blur reads the pixels around the box for its border (the box is a region of the
        // picture, not an image of its own), so the box's edge turns grey while its centre stays black.
        using var f = Frame.CreateUnpooled(120, 80);
        f.Data.Fill(255);
        for (int y = 20; y < 60; y++) f.GetRowSpan(y).Slice(30 * 3, 60 * 3).Clear();
        Canvas.Of(f).Obscure(new Box(30, 20, 90, 60), ObscureMode.Blur, strength: 8);   // kernel 40 / 8 -> 5
        Assert.InRange(f.GetRowSpan(40)[30 * 3], 40, 200);   // left edge of the box: mixed with the white outside
        Assert.Equal(0, f.GetRowSpan(40)[60 * 3]);           // centre: black all around
        Assert.Equal(255, f.GetRowSpan(40)[29 * 3]);         // outside: untouched
    }

    [Fact]
    public void OpenCvsOwnErrorsNameTheOperation()
    {
        using var f = Frame.CreateUnpooled(64, 48);
        var ex = Assert.Throws<ImagingException>(() => Canvas.Of(f).DrawLine(0, 0, 10, 10, 0xFFFFFF, thickness: 0));   // OpenCV wants 1..32767
        Assert.Equal("draw line", ex.Operation);
        Assert.Contains("thickness", ex.Message);
    }

    [Fact]
    public void BadBufferIsRejectedBeforeNativeCode()
    {
        var buf = new byte[10];
        Assert.Throws<ArgumentException>(() => new Canvas(buf, 100, 100, 300));
    }
}
