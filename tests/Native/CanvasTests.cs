using StreamVision.Core;

namespace StreamVision.Native.Tests;

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
        byte[] jpeg = Imaging.EncodeJpeg(f, 85);
        Assert.True(jpeg.Length > 100);
        Assert.Equal(0xFF, jpeg[0]);
        Assert.Equal(0xD8, jpeg[1]);
    }

    [Fact]
    public void BadBufferIsRejectedBeforeNativeCode()
    {
        var buf = new byte[10];
        Assert.Throws<ArgumentException>(() => new Canvas(buf, 100, 100, 300));
    }
}
