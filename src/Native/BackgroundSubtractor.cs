using System.Runtime.InteropServices;
using StreamVision.Core;
using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>How moving blobs are found. Every field documents its unit and trade-off.</summary>
public sealed record BackgroundSubtractorOptions
{
    /// <summary>Frames the background model remembers. Longer adapts slower to lighting and to objects that stop. Default 300.</summary>
    public int History { get; init; } = 300;
    /// <summary>How far (squared Mahalanobis distance) a pixel must differ to count as moving. Lower finds fainter motion and more noise. Default 16.</summary>
    public double VarThreshold { get; init; } = 16;
    /// <summary>Mark shadows and leave them out of blobs. Default true.</summary>
    public bool DetectShadows { get; init; } = true;
    /// <summary>Smallest blob, in full-frame pixels, reported as an object. Default 400 (20x20).</summary>
    public int MinArea { get; init; } = 400;
    /// <summary>Morphology kernel (pixels, odd; 0 = none) that removes specks and fills holes. Default 5.</summary>
    public int MorphKernel { get; init; } = 5;
    /// <summary>Analyse at 1/N of the size: faster, coarser. Default 2.</summary>
    public int Downscale { get; init; } = 2;
    /// <summary>Background learning rate 0..1; negative lets OpenCV choose from <see cref="History"/>. Default -1.</summary>
    public double LearningRate { get; init; } = -1;
    /// <summary>Most blobs per frame (largest first). Default 64.</summary>
    public int MaxObjects { get; init; } = 64;

    public void Validate(string path = "detector.motion")
    {
        if (History is < 1 or > 100000) throw new OptionsException($"{path}.history", $"must be 1..100000, got {History}");
        if (VarThreshold is <= 0 or > 10000) throw new OptionsException($"{path}.var_threshold", $"must be in (0, 10000], got {VarThreshold}");
        if (MinArea < 0) throw new OptionsException($"{path}.min_area", $"must be >= 0, got {MinArea}");
        if (MorphKernel is < 0 or > 101) throw new OptionsException($"{path}.morph_kernel", $"must be 0..101, got {MorphKernel}");
        if (Downscale is < 1 or > 16) throw new OptionsException($"{path}.downscale", $"must be 1..16, got {Downscale}");
        if (MaxObjects is < 1 or > 4096) throw new OptionsException($"{path}.max_objects", $"must be 1..4096, got {MaxObjects}");
    }
}

/// <summary>
/// OpenCV's MOG2 background model for one fixed camera: feed frames in order, get the boxes of moving blobs.
/// The sole owner of the native model. Not thread-safe (one per stream).
/// </summary>
public sealed class BackgroundSubtractor : IDisposable
{
    private readonly NativeHandle _handle;
    private readonly BackgroundSubtractorOptions _options;
    private readonly int[] _boxes;

    public BackgroundSubtractor(BackgroundSubtractorOptions? options = null)
    {
        _options = options ?? new BackgroundSubtractorOptions();
        _options.Validate();
        SvNative.EnsureLoaded();
        SvNative.Check(SvNative.BgSubCreate(_options.History, _options.VarThreshold, _options.DetectShadows ? 1 : 0, out var raw), "background subtractor");
        _handle = new NativeHandle(raw, SvNative.BgSubFree);
        _boxes = new int[4 * _options.MaxObjects];
    }

    /// <summary>Updates the model with <paramref name="frame"/> and returns the moving blobs' boxes (largest first).</summary>
    public unsafe Box[] Apply(Frame frame)
    {
        int n;
        fixed (byte* p = frame.Data)
        fixed (int* b = _boxes)
        {
            n = SvNative.Check(SvNative.BgSubApply(_handle, p, frame.Width, frame.Height, frame.Stride, _options.LearningRate,
                _options.MinArea, _options.MorphKernel, _options.Downscale, b, _options.MaxObjects), "background subtractor");
        }
        var result = new Box[n];
        for (int i = 0; i < n; i++) result[i] = Box.FromXywh(_boxes[4 * i], _boxes[4 * i + 1], _boxes[4 * i + 2], _boxes[4 * i + 3]);
        return result;
    }

    public void Dispose() => _handle.Dispose();
}
