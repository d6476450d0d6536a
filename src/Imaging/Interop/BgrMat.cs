using System.Buffers;
using OpenCvSharp;
using OpenCvSharp.Internal;

namespace StreamVision.Imaging.Interop;

/// <summary>
/// The one place where borrowed pixel memory becomes an OpenCV image: each call pins the caller's span, wraps it in a
/// header with its row stride (no copy), runs one OpenCV operation and deletes the header before it returns, so no
/// pointer outlives the pin. The per-frame paths (resize, drawing) use <see cref="NativeMat"/> headers (OpenCvSharp's
/// P/Invoke layer, nothing allocated); JPEG and the background model use OpenCvSharp's <see cref="Mat"/>
/// (<see cref="Mat.FromPixelData(int, int, MatType, IntPtr, long)"/>), disposed here, never left to finalizers.
/// Callers validate sizes first (<see cref="Check"/>); OpenCV's own errors surface as <see cref="ImagingException"/>.
/// </summary>
internal static unsafe class BgrMat
{
    private const int AntiAlias = (int)LineTypes.AntiAlias;

    /// <summary>Throws when <paramref name="length"/> bytes cannot hold a <paramref name="width"/> x <paramref name="height"/> BGR24 image with <paramref name="stride"/>.</summary>
    public static void Check(int length, int width, int height, int stride, string paramName)
    {
        if (width <= 0 || height <= 0 || stride < width * 3 || length < (long)stride * (height - 1) + width * 3)
            throw new ArgumentException($"buffer of {length} bytes cannot hold {width}x{height} BGR24 with stride {stride}", paramName);
    }

    public static void Rectangle(Span<byte> pixels, int width, int height, int stride, Rect rect, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            try
            {
                using var m = NativeMat.Bgr(p, width, height, stride, Proxies.None);
                NativeMethods.HandleException(NativeMethods.imgproc_rectangle_Mat_Rect(m.Handle, rect, color, thickness, (int)LineTypes.Link8, 0));
            }
            catch (OpenCVException ex)
            {
                throw Failed("draw rectangle", ex);
            }
        }
    }

    public static void Line(Span<byte> pixels, int width, int height, int stride, Point a, Point b, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            try
            {
                using var m = NativeMat.Bgr(p, width, height, stride, Proxies.Out);
                NativeMethods.HandleException(NativeMethods.imgproc_line(m.Out, a, b, color, thickness, AntiAlias, 0));
            }
            catch (OpenCVException ex)
            {
                throw Failed("draw line", ex);
            }
        }
    }

    public static void Circle(Span<byte> pixels, int width, int height, int stride, Point center, int radius, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            try
            {
                using var m = NativeMat.Bgr(p, width, height, stride, Proxies.Out);
                NativeMethods.HandleException(NativeMethods.imgproc_circle(m.Out, center, radius, color, thickness, AntiAlias, 0));
            }
            catch (OpenCVException ex)
            {
                throw Failed("draw circle", ex);
            }
        }
    }

    /// <summary>Hershey simplex text with its baseline-left corner at <paramref name="origin"/>.</summary>
    public static void Text(Span<byte> pixels, int width, int height, int stride, string text, Point origin, double scale, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            try
            {
                using var m = NativeMat.Bgr(p, width, height, stride, Proxies.Out);
                NativeMethods.HandleException(NativeMethods.imgproc_putText(m.Out, text, origin, (int)HersheyFonts.HersheySimplex, scale, color, thickness, AntiAlias, 0));
            }
            catch (OpenCVException ex)
            {
                throw Failed("draw text", ex);
            }
        }
    }

    /// <summary>An anti-aliased polyline through the (x, y) pairs of <paramref name="xy"/> (read in place as CV_32SC2 points).</summary>
    public static void Polyline(Span<byte> pixels, int width, int height, int stride, ReadOnlySpan<int> xy, bool closed, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        fixed (int* q = xy)
        {
            try
            {
                using var m = NativeMat.Bgr(p, width, height, stride, Proxies.Out);
                using var points = NativeMat.Points(q, xy.Length / 2);
                NativeMethods.HandleException(NativeMethods.imgproc_polylines_InputOutputArray(m.Out, points.In, closed ? 1 : 0, color, thickness, AntiAlias, 0));
            }
            catch (OpenCVException ex)
            {
                throw Failed("draw polyline", ex);
            }
        }
    }

    /// <summary>
    /// Fills the polygon <paramref name="xy"/> blended with the pixels under it: only <paramref name="bounds"/> (the
    /// polygon's bounding box inside the image) is touched, through a copy of it that is drawn on and weighted back.
    /// </summary>
    /// <remarks>The copy is a pooled buffer filled row by row here: OpenCV's own copy (<c>Mat.Clone</c>/<c>CopyTo</c>)
    /// costs about 7 µs per call in this build whatever the size (its IPP path), more than the whole blend of a label.</remarks>
    public static void FillPolyBlend(Span<byte> pixels, int width, int height, int stride, ReadOnlySpan<int> xy, Rect bounds, Scalar color, double alpha)
    {
        int rowBytes = bounds.Width * 3;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(rowBytes * bounds.Height);
        try
        {
            for (int r = 0; r < bounds.Height; r++)
                pixels.Slice((bounds.Y + r) * stride + bounds.X * 3, rowBytes).CopyTo(scratch.AsSpan(r * rowBytes, rowBytes));
            fixed (byte* p = pixels)
            fixed (int* q = xy)
            fixed (byte* o = scratch)
            {
                byte* under = p + (long)bounds.Y * stride + bounds.X * 3;
                using var roi = NativeMat.Bgr(under, bounds.Width, bounds.Height, stride, Proxies.In | Proxies.Out);
                using var overlay = NativeMat.Bgr(o, bounds.Width, bounds.Height, rowBytes, Proxies.In | Proxies.Out);
                using var points = NativeMat.Points(q, xy.Length / 2);
                NativeMethods.HandleException(NativeMethods.imgproc_fillPoly_InputOutputArray(overlay.Out, points.In, color, AntiAlias, 0, new Point(-bounds.X, -bounds.Y)));
                NativeMethods.HandleException(NativeMethods.core_addWeighted(overlay.In, alpha, roi.In, 1 - alpha, 0, roi.Out, -1));
                EnsureSameData(roi, under, "fill polygon");
            }
        }
        catch (OpenCVException ex)
        {
            throw Failed("fill polygon", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Pixelates <paramref name="region"/> in place: down to blocks of <paramref name="block"/> pixels (area average), back up by repetition.</summary>
    public static void Pixelate(Span<byte> pixels, int width, int height, int stride, Rect region, int block)
    {
        fixed (byte* p = pixels)
        {
            try
            {
                byte* at = p + (long)region.Y * stride + region.X * 3;
                using var roi = NativeMat.Bgr(at, region.Width, region.Height, stride, Proxies.In | Proxies.Out);
                using var small = NativeMat.Empty(Proxies.In | Proxies.Out);
                var smallSize = new Size(Math.Max(1, region.Width / block), Math.Max(1, region.Height / block));
                NativeMethods.HandleException(NativeMethods.imgproc_resize(roi.In, small.Out, smallSize, 0, 0, (int)InterpolationFlags.Area));
                NativeMethods.HandleException(NativeMethods.imgproc_resize(small.In, roi.Out, region.Size, 0, 0, (int)InterpolationFlags.Nearest));
                EnsureSameData(roi, at, "pixelate");
            }
            catch (OpenCVException ex)
            {
                throw Failed("pixelate", ex);
            }
        }
    }

    /// <summary>Gaussian blur of <paramref name="region"/> in place with a <paramref name="kernel"/> x <paramref name="kernel"/> kernel (odd).</summary>
    public static void Blur(Span<byte> pixels, int width, int height, int stride, Rect region, int kernel)
    {
        fixed (byte* p = pixels)
        {
            try
            {
                // A region of the whole picture: the blur reads the pixels around the box for its border, as it always did.
                byte* at = p + (long)region.Y * stride + region.X * 3;
                using var whole = NativeMat.Bgr(p, width, height, stride, Proxies.None);
                using var roi = NativeMat.Region(whole, region, Proxies.In | Proxies.Out);
                NativeMethods.HandleException(NativeMethods.imgproc_GaussianBlur(roi.In, roi.Out, new Size(kernel, kernel), 0, 0, BorderTypes.Default));
                EnsureSameData(roi, at, "blur");
            }
            catch (OpenCVException ex)
            {
                throw Failed("blur", ex);
            }
        }
    }

    /// <summary>Bilinear resize of <paramref name="region"/> of the source into all of the destination.</summary>
    public static void Resize(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int srcStride, Rect region,
                              Span<byte> dst, int dstWidth, int dstHeight, int dstStride)
    {
        fixed (byte* s = src)
        fixed (byte* d = dst)
        {
            try
            {
                using var input = NativeMat.Bgr(s + (long)region.Y * srcStride + region.X * 3, region.Width, region.Height, srcStride, Proxies.In);
                using var output = NativeMat.Bgr(d, dstWidth, dstHeight, dstStride, Proxies.Out);
                NativeMethods.HandleException(NativeMethods.imgproc_resize(input.In, output.Out, new Size(dstWidth, dstHeight), 0, 0, (int)InterpolationFlags.Linear));
                EnsureSameData(output, d, "resize");
            }
            catch (OpenCVException ex)
            {
                throw Failed("resize", ex);
            }
        }
    }

    /// <summary>JPEG file bytes of the image (quality 1..100).</summary>
    public static byte[] EncodeJpeg(ReadOnlySpan<byte> pixels, int width, int height, int stride, int quality)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var input = InputArray.Create(m);
            byte[] bytes = [];
            bool ok = false;
            try
            {
                ok = Cv2.ImEncode(".jpg", input, out bytes, [(int)ImwriteFlags.JpegQuality, quality]);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("encode jpeg", ex.Message, ex);
            }
            if (!ok) throw new ImagingException("encode jpeg", "the JPEG encoder refused the image");
            return bytes;
        }
    }

    /// <summary>
    /// Area-averaged downscale of a frame to (<paramref name="small"/>'s target size) into an owned Mat, which OpenCV
    /// (re)allocates only when the size changes.
    /// </summary>
    public static void Downscale(ReadOnlySpan<byte> pixels, int width, int height, int stride, Mat small, Size size)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var input = InputArray.Create(m);
            using var output = OutputArray.Create(small);
            try
            {
                Cv2.Resize(input, output, size, 0, 0, InterpolationFlags.Area);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("downscale", ex.Message, ex);
            }
        }
    }

    /// <summary>
    /// Grey copy of a frame at <paramref name="size"/> into the owned <paramref name="gray"/> (area-averaged when smaller;
    /// <paramref name="scratch"/> holds the resized colour image). OpenCV (re)allocates the owned Mats only when the size changes.
    /// </summary>
    public static void ToGray(ReadOnlySpan<byte> pixels, int width, int height, int stride, Mat scratch, Mat gray, Size size)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var input = InputArray.Create(m);
            try
            {
                if (size.Width == width && size.Height == height)
                {
                    using var grayOut = OutputArray.Create(gray);
                    Cv2.CvtColor(input, grayOut, ColorConversionCodes.BGR2GRAY);
                }
                else
                {
                    using (var scratchOut = OutputArray.Create(scratch))
                        Cv2.Resize(input, scratchOut, size, 0, 0, InterpolationFlags.Area);
                    using var scratchIn = InputArray.Create(scratch);
                    using var grayOut = OutputArray.Create(gray);
                    Cv2.CvtColor(scratchIn, grayOut, ColorConversionCodes.BGR2GRAY);
                }
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("grey conversion", ex.Message, ex);
            }
        }
    }

    /// <summary>Runs the background model on the frame in place (no copy) and writes its foreground mask.</summary>
    public static void ApplyBackground(OpenCvSharp.BackgroundSubtractor model, ReadOnlySpan<byte> pixels, int width, int height, int stride, Mat mask, double learningRate)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var input = InputArray.Create(m);
            using var output = OutputArray.Create(mask);
            try
            {
                model.Apply(input, output, learningRate);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("background subtraction", ex.Message, ex);
            }
        }
    }

    private static Mat Header(byte* p, int width, int height, int stride) =>
        Mat.FromPixelData(height, width, MatType.CV_8UC3, (IntPtr)p, stride);

    /// <summary>
    /// An output header must still point at the caller's memory: OpenCV reallocates a destination whose size or type
    /// does not match, which would silently write into a private buffer instead.
    /// </summary>
    private static void EnsureSameData(in NativeMat m, byte* expected, string operation)
    {
        if (m.Data != expected) throw new ImagingException(operation, "OpenCV reallocated the destination instead of writing into the caller's buffer");
    }

    private static ImagingException Failed(string operation, OpenCVException ex) => new(operation, ex.Message, ex);
}
