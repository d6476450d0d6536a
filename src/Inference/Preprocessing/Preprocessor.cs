using System.Runtime.CompilerServices;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Inference.Preprocessing;

/// <summary>
/// Turns a BGR24 frame into one image of a model input tensor: resize (letterbox or stretch, OpenCV bilinear), channel
/// order, normalisation through a 256-entry table, NCHW or NHWC. Reuses its scratch buffer: no allocation per frame.
/// Not thread-safe (one per detector worker).
/// </summary>
public sealed class Preprocessor
{
    private readonly InputSpec _spec;
    private readonly byte[] _resized;
    private readonly float[] _lut = new float[256];

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
        if (rw != w || rh != h) _resized.AsSpan().Fill(_spec.PadValue);
        Imaging.Resize(frame.Data, frame.Width, frame.Height, frame.Stride, 0, 0, frame.Width, frame.Height,
            _resized.AsSpan(py * stride + px * 3), rw, rh, stride);
        if (_spec.Layout == TensorLayout.Nhwc) ToNhwc(destination);
        else ToNchw(destination);
        return t;
    }

    private void ToNhwc(Span<float> dst)
    {
        ReadOnlySpan<byte> src = _resized;
        ReadOnlySpan<float> lut = _lut;
        int n = _spec.Width * _spec.Height;
        if (_spec.Rgb)
        {
            for (int i = 0, j = 0; i < n; i++, j += 3)
            {
                dst[j] = lut[src[j + 2]];
                dst[j + 1] = lut[src[j + 1]];
                dst[j + 2] = lut[src[j]];
            }
        }
        else
        {
            for (int j = 0; j < 3 * n; j++) dst[j] = lut[src[j]];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ToNchw(Span<float> dst)
    {
        ReadOnlySpan<byte> src = _resized;
        ReadOnlySpan<float> lut = _lut;
        int n = _spec.Width * _spec.Height;
        var c0 = dst[..n];
        var c1 = dst.Slice(n, n);
        var c2 = dst.Slice(2 * n, n);
        int r = _spec.Rgb ? 2 : 0, b = _spec.Rgb ? 0 : 2;
        for (int i = 0, j = 0; i < n; i++, j += 3)
        {
            c0[i] = lut[src[j + r]];
            c1[i] = lut[src[j + 1]];
            c2[i] = lut[src[j + b]];
        }
    }
}
