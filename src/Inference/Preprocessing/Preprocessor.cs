using System.Runtime.Intrinsics;
using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Inference.Preprocessing;

/// <summary>
/// Turns a BGR24 frame into one image of a model input tensor: resize (letterbox or stretch, OpenCV bilinear), channel
/// order, normalisation (<c>v * Scale + Offset</c>), NCHW or NHWC. Reuses its scratch buffer: no allocation per frame.
/// Not thread-safe (one per detector worker).
/// </summary>
/// <remarks>
/// The conversion works on blocks of 16 pixels (48 bytes): byte shuffles pick each output channel's bytes out of the
/// three loaded vectors, then they are widened to float, scaled and offset (multiply, then add: the same rounding as the
/// scalar formula, so both paths give identical tensors). Remaining pixels go through a 256-entry table.
/// </remarks>
public sealed class Preprocessor
{
    // For output block k (16 bytes) and loaded vector j (16 bytes of the 48-byte source block): which source byte each
    // output byte takes from vector j (0x80: none; shuffles give 0 for out-of-range indices).
    private static readonly Vector128<byte>[] s_planar = new Vector128<byte>[9];    // [channel c, vector j]: byte 3i + c
    private static readonly Vector128<byte>[] s_swapRb = new Vector128<byte>[9];    // [block k, vector j]: BGR -> RGB in place

    private readonly InputSpec _spec;
    private readonly byte[] _resized;
    private readonly float[] _lut = new float[256];

    static Preprocessor()
    {
        Span<byte> m = stackalloc byte[16];
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 3; j++)
            {
                for (int b = 0; b < 16; b++) m[b] = Pick(3 * b + k, j);
                s_planar[3 * k + j] = Vector128.Create((ReadOnlySpan<byte>)m);
                for (int b = 0; b < 16; b++)
                {
                    int p = 16 * k + b, c = p % 3;
                    m[b] = Pick(p + 2 - 2 * c, j);
                }
                s_swapRb[3 * k + j] = Vector128.Create((ReadOnlySpan<byte>)m);
            }

        static byte Pick(int source, int vector) => source / 16 == vector ? (byte)(source % 16) : (byte)0x80;
    }

    public Preprocessor(InputSpec spec)
    {
        _spec = spec;
        _resized = GC.AllocateUninitializedArray<byte>(spec.Width * spec.Height * 3);
        for (int v = 0; v < 256; v++) _lut[v] = v * spec.Scale + spec.Offset;
    }

    public InputSpec Spec => _spec;

    /// <summary>Writes the frame as one image (<see cref="InputSpec.ElementsPerImage"/> floats) into <paramref name="destination"/>.</summary>
    public LetterboxTransform Prepare(Frame frame, Span<float> destination)
    {
        if (destination.Length < _spec.ElementsPerImage)
            throw new ArgumentException($"destination holds {destination.Length} floats, the input needs {_spec.ElementsPerImage}", nameof(destination));
        int w = _spec.Width, h = _spec.Height, stride = w * 3;
        var t = LetterboxTransform.Compute(frame.Width, frame.Height, w, h, _spec.Resize);
        int rw = Math.Min(w, t.ResizedWidth), rh = Math.Min(h, t.ResizedHeight);
        int px = (int)t.PadX, py = (int)t.PadY;
        if (rw != w || rh != h) FillBorder(_resized, w, h, px, py, rw, rh, _spec.PadValue);
        ImageOps.Resize(frame.Data, frame.Width, frame.Height, frame.Stride, 0, 0, frame.Width, frame.Height,
            _resized.AsSpan(py * stride + px * 3), rw, rh, stride);
        Convert(_resized.AsSpan(0, w * h * 3), destination[.._spec.ElementsPerImage], _spec.Layout, _spec.Rgb, _spec.Scale, _spec.Offset, _lut);
        return t;
    }

    /// <summary>Fills everything of the <paramref name="w"/>x<paramref name="h"/> image outside the (x, y, rw, rh) rectangle.</summary>
    private static void FillBorder(Span<byte> image, int w, int h, int x, int y, int rw, int rh, byte value)
    {
        int stride = w * 3;
        image[..(y * stride)].Fill(value);
        image[((y + rh) * stride)..(h * stride)].Fill(value);
        if (rw == w) return;
        for (int row = y; row < y + rh; row++)
        {
            var line = image.Slice(row * stride, stride);
            line[..(x * 3)].Fill(value);
            line[((x + rw) * 3)..].Fill(value);
        }
    }

    /// <summary>
    /// Converts packed BGR24 pixels into floats: NCHW (three planes) or NHWC (interleaved), in RGB or BGR order.
    /// <paramref name="lut"/> holds <c>v * scale + offset</c> for v = 0..255.
    /// </summary>
    /// <param name="vectorBits">Widest vectors to use: 256, 128 or 0 (table only); tests compare them. Default: the best the CPU has.</param>
    internal static void Convert(ReadOnlySpan<byte> bgr, Span<float> dst, TensorLayout layout, bool rgb, float scale, float offset, ReadOnlySpan<float> lut,
                                 int vectorBits = 256)
    {
        int n = bgr.Length / 3;
        if (dst.Length < 3 * n) throw new ArgumentException($"destination holds {dst.Length} floats, {3 * n} needed", nameof(dst));
        bool wide = vectorBits >= 256 && Vector256.IsHardwareAccelerated;
        int done = vectorBits >= 128 && Vector128.IsHardwareAccelerated ? ConvertBlocks(bgr, dst, layout, rgb, scale, offset, wide) : 0;
        if (layout == TensorLayout.Nhwc)
        {
            if (rgb)
            {
                for (int i = done, j = 3 * done; i < n; i++, j += 3)
                {
                    dst[j] = lut[bgr[j + 2]];
                    dst[j + 1] = lut[bgr[j + 1]];
                    dst[j + 2] = lut[bgr[j]];
                }
            }
            else
            {
                for (int j = 3 * done; j < 3 * n; j++) dst[j] = lut[bgr[j]];
            }
        }
        else
        {
            var c0 = dst[..n];
            var c1 = dst.Slice(n, n);
            var c2 = dst.Slice(2 * n, n);
            int r = rgb ? 2 : 0, b = rgb ? 0 : 2;
            for (int i = done, j = 3 * done; i < n; i++, j += 3)
            {
                c0[i] = lut[bgr[j + r]];
                c1[i] = lut[bgr[j + 1]];
                c2[i] = lut[bgr[j + b]];
            }
        }
    }

    /// <summary>Converts whole blocks of 16 pixels; returns how many pixels it did.</summary>
    private static int ConvertBlocks(ReadOnlySpan<byte> bgr, Span<float> dst, TensorLayout layout, bool rgb, float scale, float offset, bool wide)
    {
        int n = bgr.Length / 3, blocks = n / 16;
        var vs = Vector128.Create(scale);
        var vo = Vector128.Create(offset);
        if (layout == TensorLayout.Nhwc)
        {
            var swap = s_swapRb;
            Vector128<byte> s0 = swap[0], s1 = swap[1], s2 = swap[2], s3 = swap[3], s4 = swap[4], s5 = swap[5], s6 = swap[6], s7 = swap[7], s8 = swap[8];
            for (int k = 0; k < blocks; k++)
            {
                var src = bgr.Slice(48 * k, 48);
                var out48 = dst.Slice(48 * k, 48);
                var v0 = Vector128.Create(src);
                var v1 = Vector128.Create(src[16..]);
                var v2 = Vector128.Create(src[32..]);
                if (rgb)
                {
                    Store16(Gather(v0, v1, v2, s0, s1, s2), out48, vs, vo, wide);
                    Store16(Gather(v0, v1, v2, s3, s4, s5), out48[16..], vs, vo, wide);
                    Store16(Gather(v0, v1, v2, s6, s7, s8), out48[32..], vs, vo, wide);
                }
                else
                {
                    Store16(v0, out48, vs, vo, wide);
                    Store16(v1, out48[16..], vs, vo, wide);
                    Store16(v2, out48[32..], vs, vo, wide);
                }
            }
        }
        else
        {
            // Planes in the model's order: RGB takes source channel 2 (R) first.
            var planar = s_planar;
            int first = rgb ? 6 : 0, last = rgb ? 0 : 6;
            Vector128<byte> a0 = planar[first], a1 = planar[first + 1], a2 = planar[first + 2];
            Vector128<byte> g0 = planar[3], g1 = planar[4], g2 = planar[5];
            Vector128<byte> c0 = planar[last], c1 = planar[last + 1], c2 = planar[last + 2];
            var p0 = dst[..n];
            var p1 = dst.Slice(n, n);
            var p2 = dst.Slice(2 * n, n);
            for (int k = 0; k < blocks; k++)
            {
                var src = bgr.Slice(48 * k, 48);
                var v0 = Vector128.Create(src);
                var v1 = Vector128.Create(src[16..]);
                var v2 = Vector128.Create(src[32..]);
                Store16(Gather(v0, v1, v2, a0, a1, a2), p0.Slice(16 * k, 16), vs, vo, wide);
                Store16(Gather(v0, v1, v2, g0, g1, g2), p1.Slice(16 * k, 16), vs, vo, wide);
                Store16(Gather(v0, v1, v2, c0, c1, c2), p2.Slice(16 * k, 16), vs, vo, wide);
            }
        }
        return 16 * blocks;
    }

    private static Vector128<byte> Gather(Vector128<byte> v0, Vector128<byte> v1, Vector128<byte> v2, Vector128<byte> m0, Vector128<byte> m1, Vector128<byte> m2) =>
        Vector128.Shuffle(v0, m0) | Vector128.Shuffle(v1, m1) | Vector128.Shuffle(v2, m2);

    /// <summary>16 bytes to 16 floats <c>v * scale + offset</c> (multiply and add rounded separately, as in scalar code).</summary>
    private static void Store16(Vector128<byte> bytes, Span<float> dst, Vector128<float> scale, Vector128<float> offset, bool wide)
    {
        if (wide)
        {
            var s8 = Vector256.Create(scale, scale);
            var o8 = Vector256.Create(offset, offset);
            var words = Vector256.WidenLower(bytes.ToVector256Unsafe());
            (Vector256.ConvertToSingle(Vector256.WidenLower(words).AsInt32()) * s8 + o8).CopyTo(dst);
            (Vector256.ConvertToSingle(Vector256.WidenUpper(words).AsInt32()) * s8 + o8).CopyTo(dst[8..]);
            return;
        }
        var (lo, hi) = Vector128.Widen(bytes);
        var (a, b) = Vector128.Widen(lo);
        var (c, d) = Vector128.Widen(hi);
        (Vector128.ConvertToSingle(a.AsInt32()) * scale + offset).CopyTo(dst);
        (Vector128.ConvertToSingle(b.AsInt32()) * scale + offset).CopyTo(dst[4..]);
        (Vector128.ConvertToSingle(c.AsInt32()) * scale + offset).CopyTo(dst[8..]);
        (Vector128.ConvertToSingle(d.AsInt32()) * scale + offset).CopyTo(dst[12..]);
    }
}
