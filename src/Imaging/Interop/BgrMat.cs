using OpenCvSharp;

namespace StreamVision.Imaging.Interop;

/// <summary>
/// The one place where borrowed pixel memory becomes an OpenCV <see cref="Mat"/>: each call pins the caller's span, wraps
/// it in a header with its row stride (<see cref="Mat.FromPixelData(int, int, MatType, IntPtr, long)"/>, no copy), runs
/// one OpenCV operation and frees the header before it returns, so no pointer outlives the pin. Callers validate sizes
/// first (<see cref="Check"/>); OpenCV's own errors surface as <see cref="ImagingException"/>. Headers and proxies are
/// disposed here, never left to finalizers.
/// </summary>
internal static unsafe class BgrMat
{
    /// <summary>Throws when <paramref name="pixels"/> cannot hold a <paramref name="width"/> x <paramref name="height"/> BGR24 image with <paramref name="stride"/>.</summary>
    public static void Check(int length, int width, int height, int stride, string paramName)
    {
        if (width <= 0 || height <= 0 || stride < width * 3 || length < (long)stride * (height - 1) + width * 3)
            throw new ArgumentException($"buffer of {length} bytes cannot hold {width}x{height} BGR24 with stride {stride}", paramName);
    }

    public static void Rectangle(Span<byte> pixels, int width, int height, int stride, Rect rect, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            try
            {
                Cv2.Rectangle(m, rect, color, thickness, LineTypes.Link8);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("draw rectangle", ex.Message, ex);
            }
        }
    }

    public static void Line(Span<byte> pixels, int width, int height, int stride, Point a, Point b, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var io = InputOutputArray.Create(m);
            try
            {
                Cv2.Line(io, a, b, color, thickness, LineTypes.AntiAlias);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("draw line", ex.Message, ex);
            }
        }
    }

    public static void Circle(Span<byte> pixels, int width, int height, int stride, Point center, int radius, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var io = InputOutputArray.Create(m);
            try
            {
                Cv2.Circle(io, center, radius, color, thickness, LineTypes.AntiAlias);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("draw circle", ex.Message, ex);
            }
        }
    }

    public static void Text(Span<byte> pixels, int width, int height, int stride, string text, Point origin, double scale, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var io = InputOutputArray.Create(m);
            try
            {
                Cv2.PutText(io, text, origin, HersheyFonts.HersheySimplex, scale, color, thickness, LineTypes.AntiAlias);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("draw text", ex.Message, ex);
            }
        }
    }

    /// <summary>An anti-aliased polyline through the (x, y) pairs of <paramref name="xy"/> (read in place as CV_32SC2 points).</summary>
    public static void Polyline(Span<byte> pixels, int width, int height, int stride, ReadOnlySpan<int> xy, bool closed, Scalar color, int thickness)
    {
        fixed (byte* p = pixels)
        fixed (int* q = xy)
        {
            using var m = Header(p, width, height, stride);
            using var io = InputOutputArray.Create(m);
            using var points = Mat.FromPixelData(xy.Length / 2, 1, MatType.CV_32SC2, (IntPtr)q);
            using var pts = InputArray.Create(points);
            try
            {
                Cv2.Polylines(io, pts, closed, color, thickness, LineTypes.AntiAlias);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("draw polyline", ex.Message, ex);
            }
        }
    }

    /// <summary>
    /// Fills the polygon <paramref name="xy"/> blended with the pixels under it: only <paramref name="bounds"/> (the
    /// polygon's bounding box inside the image) is touched, through a copy of it that is drawn on and weighted back.
    /// </summary>
    public static void FillPolyBlend(Span<byte> pixels, int width, int height, int stride, ReadOnlySpan<int> xy, Rect bounds, Scalar color, double alpha)
    {
        fixed (byte* p = pixels)
        fixed (int* q = xy)
        {
            using var m = Header(p, width, height, stride);
            using var roi = new Mat(m, bounds);
            using var overlay = roi.Clone();
            using var io = InputOutputArray.Create(overlay);
            using var points = Mat.FromPixelData(xy.Length / 2, 1, MatType.CV_32SC2, (IntPtr)q);
            using var pts = InputArray.Create(points);
            using var src1 = InputArray.Create(overlay);
            using var src2 = InputArray.Create(roi);
            using var dst = OutputArray.Create(roi);
            try
            {
                Cv2.FillPoly(io, pts, color, LineTypes.AntiAlias, 0, new Point(-bounds.X, -bounds.Y));
                Cv2.AddWeighted(src1, alpha, src2, 1 - alpha, 0, dst);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("fill polygon", ex.Message, ex);
            }
            EnsureSameData(roi, p + (long)bounds.Y * stride + bounds.X * 3, "fill polygon");
        }
    }

    /// <summary>Pixelates <paramref name="region"/> in place: down to blocks of <paramref name="block"/> pixels (area average), back up by repetition.</summary>
    public static void Pixelate(Span<byte> pixels, int width, int height, int stride, Rect region, int block)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var roi = new Mat(m, region);
            using var small = new Mat();
            using var roiIn = InputArray.Create(roi);
            using var smallOut = OutputArray.Create(small);
            using var smallIn = InputArray.Create(small);
            using var roiOut = OutputArray.Create(roi);
            var smallSize = new Size(Math.Max(1, region.Width / block), Math.Max(1, region.Height / block));
            try
            {
                Cv2.Resize(roiIn, smallOut, smallSize, 0, 0, InterpolationFlags.Area);
                Cv2.Resize(smallIn, roiOut, region.Size, 0, 0, InterpolationFlags.Nearest);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("pixelate", ex.Message, ex);
            }
            EnsureSameData(roi, p + (long)region.Y * stride + region.X * 3, "pixelate");
        }
    }

    /// <summary>Gaussian blur of <paramref name="region"/> in place with a <paramref name="kernel"/> x <paramref name="kernel"/> kernel (odd).</summary>
    public static void Blur(Span<byte> pixels, int width, int height, int stride, Rect region, int kernel)
    {
        fixed (byte* p = pixels)
        {
            using var m = Header(p, width, height, stride);
            using var roi = new Mat(m, region);
            using var roiIn = InputArray.Create(roi);
            using var roiOut = OutputArray.Create(roi);
            try
            {
                Cv2.GaussianBlur(roiIn, roiOut, new Size(kernel, kernel), 0);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("blur", ex.Message, ex);
            }
            EnsureSameData(roi, p + (long)region.Y * stride + region.X * 3, "blur");
        }
    }

    /// <summary>Bilinear resize of <paramref name="region"/> of the source into all of the destination.</summary>
    public static void Resize(ReadOnlySpan<byte> src, int srcWidth, int srcHeight, int srcStride, Rect region,
                              Span<byte> dst, int dstWidth, int dstHeight, int dstStride)
    {
        fixed (byte* s = src)
        fixed (byte* d = dst)
        {
            using var sm = Header(s, srcWidth, srcHeight, srcStride);
            using var roi = new Mat(sm, region);
            using var dm = Header(d, dstWidth, dstHeight, dstStride);
            using var input = InputArray.Create(roi);
            using var output = OutputArray.Create(dm);
            try
            {
                Cv2.Resize(input, output, new Size(dstWidth, dstHeight), 0, 0, InterpolationFlags.Linear);
            }
            catch (OpenCVException ex)
            {
                throw new ImagingException("resize", ex.Message, ex);
            }
            EnsureSameData(dm, d, "resize");
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
    private static void EnsureSameData(Mat m, byte* expected, string operation)
    {
        if (m.Data != (IntPtr)expected) throw new ImagingException(operation, "OpenCV reallocated the destination instead of writing into the caller's buffer");
    }
}
