using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Inference.Enhance;

/// <summary>
/// One stream's enhancement stage: runs the shared <see cref="ImageEnhancerModel"/> on a frame's picture and writes the
/// result into a frame (the same one, or another of the same size). Owns its float planes and resize buffers (grown to
/// the largest frame seen, reused); frames are borrowed for the call. Called on the stream's loop (not thread-safe).
/// </summary>
public sealed class FrameEnhancer
{
    private readonly ImageEnhancerModel _model;
    private readonly int _maxSide;
    private float[] _planes = [], _result = [];
    private byte[] _small = [], _big = [];

    public FrameEnhancer(ImageEnhancerModel model, EnhanceOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        var o = options ?? new EnhanceOptions();
        o.Validate();
        _maxSide = o.MaxSide;
    }

    /// <summary>Frames enhanced so far.</summary>
    public long Frames { get; private set; }

    /// <summary>
    /// Enhances <paramref name="source"/>'s picture into <paramref name="destination"/> (the same frame for in place, or a
    /// frame of the same size). The model runs at its fixed input size, or at the frame's size shrunk to
    /// <see cref="EnhanceOptions.MaxSide"/>; a result of another size is resized (bilinear) to the frame's.
    /// </summary>
    public void Enhance(Frame source, Frame destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Width != source.Width || destination.Height != source.Height)
            throw new ArgumentException($"destination is {destination.Width}x{destination.Height}, the source {source.Width}x{source.Height}", nameof(destination));
        int fw = source.Width, fh = source.Height;
        var (mw, mh) = ModelSize(fw, fh);
        ReadOnlySpan<byte> pixels = source.Data;
        int stride = source.Stride;
        if (mw != fw || mh != fh)
        {
            int smallStride = mw * 3;
            Grow(ref _small, smallStride * mh);
            ImageOps.Resize(source.Data, fw, fh, source.Stride, 0, 0, fw, fh, _small, mw, mh, smallStride);
            pixels = _small;
            stride = smallStride;
        }
        ToPlanes(pixels, mw, mh, stride);
        _model.Run(_planes, mw, mh, ref _result, out int ow, out int oh);
        if (ow == fw && oh == fh)
        {
            FromPlanes(destination.Data, ow, oh, destination.Stride);
        }
        else
        {
            int bigStride = ow * 3;
            Grow(ref _big, bigStride * oh);
            FromPlanes(_big, ow, oh, bigStride);
            ImageOps.Resize(_big, ow, oh, bigStride, 0, 0, ow, oh, destination.Data, fw, fh, destination.Stride);
        }
        Frames++;
    }

    private (int Width, int Height) ModelSize(int fw, int fh)
    {
        if (_model.InputWidth > 0) return (_model.InputWidth, _model.InputHeight);
        int side = Math.Max(fw, fh), m = _model.SizeMultiple;
        double s = _maxSide == 0 || side <= _maxSide ? 1 : (double)_maxSide / side;
        // Rounded down to the model's multiple (a 321-pixel frame runs at 320 for a model that halves and doubles).
        int w = Math.Max(m, (int)Math.Round(fw * s) / m * m), h = Math.Max(m, (int)Math.Round(fh * s) / m * m);
        return (w, h);
    }

    private static void Grow<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[length];
    }

    /// <summary>BGR bytes into three planes in the model's channel order, scaled to its range.</summary>
    private void ToPlanes(ReadOnlySpan<byte> bgr, int w, int h, int stride)
    {
        int plane = w * h;
        Grow(ref _planes, 3 * plane);
        float k = _model.Range / 255f;
        // Plane of B, G, R in the model's order: RGB puts R first.
        int pb = _model.Bgr ? 0 : 2 * plane, pg = plane, pr = _model.Bgr ? 2 * plane : 0;
        var planes = _planes.AsSpan();
        for (int y = 0; y < h; y++)
        {
            var row = bgr.Slice(y * stride, w * 3);
            int o = y * w;
            for (int x = 0, i = 0; x < w; x++, i += 3)
            {
                planes[pb + o + x] = row[i] * k;
                planes[pg + o + x] = row[i + 1] * k;
                planes[pr + o + x] = row[i + 2] * k;
            }
        }
    }

    /// <summary>The result's planes back into BGR bytes, rounded and clamped to 0..255.</summary>
    private void FromPlanes(Span<byte> bgr, int w, int h, int stride)
    {
        int plane = w * h;
        float k = 255f / _model.Range;
        int pb = _model.Bgr ? 0 : 2 * plane, pg = plane, pr = _model.Bgr ? 2 * plane : 0;
        var r = _result.AsSpan();
        for (int y = 0; y < h; y++)
        {
            var row = bgr.Slice(y * stride, w * 3);
            int o = y * w;
            for (int x = 0, i = 0; x < w; x++, i += 3)
            {
                row[i] = ToByte(r[pb + o + x] * k);
                row[i + 1] = ToByte(r[pg + o + x] * k);
                row[i + 2] = ToByte(r[pr + o + x] * k);
            }
        }
    }

    private static byte ToByte(float v) => v <= 0 || float.IsNaN(v) ? (byte)0 : v >= 255 ? (byte)255 : (byte)(v + 0.5f);
}
