using OpenCvSharp;
using StreamVision.Core;
using StreamVision.Imaging.Interop;

namespace StreamVision.Imaging;

/// <summary>How moving blobs are found. Every field documents its unit and trade-off.</summary>
public sealed record BackgroundSubtractorOptions
{
    /// <summary>Frames the background model remembers. Longer adapts slower to lighting and to objects that stop. Default 300.</summary>
    [OptionRange(1, 100000, Unit = "frames")]
    public int History { get; init; } = 300;
    /// <summary>How far (squared Mahalanobis distance) a pixel must differ to count as moving. Lower finds fainter motion and more noise. Default 16.</summary>
    [OptionRange(0.01, 10000)]
    public double VarThreshold { get; init; } = 16;
    /// <summary>Mark shadows and leave them out of blobs. Default true.</summary>
    public bool DetectShadows { get; init; } = true;
    /// <summary>Smallest blob, in full-frame pixels, reported as an object. Default 400 (20x20).</summary>
    [OptionRange(0, int.MaxValue, Unit = "pixels")]
    public int MinArea { get; init; } = 400;
    /// <summary>Morphology kernel (pixels, odd; 0 = none) that removes specks and fills holes. Default 5.</summary>
    [OptionRange(0, 101, Unit = "pixels")]
    public int MorphKernel { get; init; } = 5;
    /// <summary>Analyse at 1/N of the size: faster, coarser; 1 = full size. Default 2.</summary>
    [OptionRange(1, 16)]
    public int Downscale { get; init; } = 2;
    /// <summary>Background learning rate 0..1 per frame (0 = the background never changes); negative lets OpenCV choose from <see cref="History"/>. Default -1.</summary>
    [OptionRange(-1, 1)]
    public double LearningRate { get; init; } = -1;
    /// <summary>Most blobs per frame (largest first). Default 64.</summary>
    [OptionRange(1, 4096)]
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
/// OpenCV's MOG2 background model for one fixed camera: feed frames in order, get the boxes of moving blobs. Reads each
/// frame in place (a <c>Mat</c> header over its pixels); owns the model, its mask and downscale buffers and frees them on
/// <see cref="Dispose"/>. Not thread-safe (one per stream).
/// </summary>
public sealed class BackgroundSubtractor : IDisposable
{
    private readonly BackgroundSubtractorOptions _options;
    private readonly BackgroundSubtractorMOG2 _model;
    private readonly Mat _small = new();
    private readonly Mat _mask = new();
    private readonly Mat? _kernel;
    private bool _disposed;

    public BackgroundSubtractor(BackgroundSubtractorOptions? options = null)
    {
        _options = options ?? new BackgroundSubtractorOptions();
        _options.Validate();
        _model = BackgroundSubtractorMOG2.Create(_options.History, _options.VarThreshold, _options.DetectShadows);
        if (_options.MorphKernel > 1)
        {
            // The kernel shrinks with the analysis size so that it covers the same part of the picture.
            int k = Math.Max(1, (_options.MorphKernel / _options.Downscale) | 1);
            _kernel = Cv2.GetStructuringElement(MorphShapes.Ellipse, new Size(k, k));
        }
    }

    /// <summary>Updates the model with <paramref name="frame"/> and returns the moving blobs' boxes in full-frame pixels (largest first).</summary>
    public Box[] Apply(Frame frame)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int w = frame.Width, h = frame.Height, div = _options.Downscale;
        try
        {
            // Input proxies are disposed here; OpenCvSharp disposes an output proxy itself once its call returns (so
            // each output is converted anew, never reused).
            if (div > 1)
            {
                BgrMat.Downscale(frame.Data, w, h, frame.Stride, _small, new Size(Math.Max(1, w / div), Math.Max(1, h / div)));
                using var smallIn = InputArray.Create(_small);
                _model.Apply(smallIn, _mask, _options.LearningRate);
            }
            else
            {
                BgrMat.ApplyBackground(_model, frame.Data, w, h, frame.Stride, _mask, _options.LearningRate);
            }
            using var maskIn = InputArray.Create(_mask);
            // Shadows are marked 127: keep only certain foreground (255).
            Cv2.Threshold(maskIn, _mask, 200, 255, ThresholdTypes.Binary);
            if (_kernel is not null)
            {
                using var kernel = InputArray.Create(_kernel);
                Cv2.MorphologyEx(maskIn, _mask, MorphTypes.Open, kernel);
                Cv2.MorphologyEx(maskIn, _mask, MorphTypes.Close, kernel);
            }
            var contours = Cv2.FindContoursAsArray(maskIn, RetrievalModes.External, ContourApproximationModes.ApproxSimple);
            var frameRect = new Rect(0, 0, w, h);
            var rects = new List<Rect>(contours.Length);
            foreach (var c in contours)
            {
                var r = Cv2.BoundingRect(c);
                var full = new Rect(r.X * div, r.Y * div, r.Width * div, r.Height * div);
                if ((long)full.Width * full.Height >= _options.MinArea) rects.Add(Rect.Intersect(full, frameRect));
            }
            rects.Sort(static (a, b) => ((long)b.Width * b.Height).CompareTo((long)a.Width * a.Height));
            int n = Math.Min(rects.Count, _options.MaxObjects);
            var result = new Box[n];
            for (int i = 0; i < n; i++) result[i] = Box.FromXywh(rects[i].X, rects[i].Y, rects[i].Width, rects[i].Height);
            return result;
        }
        catch (OpenCVException ex)
        {
            throw new ImagingException("background subtraction", ex.Message, ex);
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _model.Dispose();
        _small.Dispose();
        _mask.Dispose();
        _kernel?.Dispose();
    }
}
