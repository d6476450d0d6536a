using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Inference.Classification;

/// <summary>One crop to classify: a region of a frame (borrowed for the call).</summary>
public readonly record struct CropRequest(Frame Frame, Box Box);

/// <summary>
/// An ONNX image classifier run on crops: each crop (a box of a frame, padded, clipped) is resized to the input size
/// (OpenCV bilinear), scaled per channel (<c>(v * scale - mean) / std</c>), laid out NCHW or NHWC, and the scores
/// [batch, classes] become a label, its score and the top-k (softmax for logits). Not thread-safe: one caller at a time
/// (<see cref="ClassifierBatcher"/>).
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    private readonly ModelSession _model;
    private readonly ClassifierOptions _options;
    private readonly string _inputName, _outputName;
    private readonly bool _nhwc, _rgb;
    private readonly float[] _mul = new float[3], _add = new float[3];
    private readonly byte[] _resized;
    private float[] _input = [];
    private readonly RunOptions _runOptions = new();

    private OnnxClassifier(ModelSession model, ClassifierOptions options, string inputName, string outputName, int width, int height, bool nhwc,
        bool rgb, float scale, float[] mean, float[] std, IReadOnlyList<string> labels, int classes, int fixedBatch, ClassifierOutput output)
    {
        _model = model;
        _options = options;
        _inputName = inputName;
        _outputName = outputName;
        Width = width;
        Height = height;
        _nhwc = nhwc;
        _rgb = rgb;
        for (int c = 0; c < 3; c++)
        {
            // (v * scale - mean) / std as one multiply-add per value.
            _mul[c] = scale / std[c];
            _add[c] = -mean[c] / std[c];
        }
        Labels = labels;
        Classes = classes;
        FixedBatch = fixedBatch;
        Output = output;
        MaxBatch = fixedBatch > 0 ? fixedBatch : options.MaxBatch;
        _resized = new byte[width * height * 3];
        Name = Path.GetFileName(model.Path);
    }

    /// <summary>File name of the model (events' <c>model</c>).</summary>
    public string Name { get; }
    public int Width { get; }
    public int Height { get; }
    public bool Nhwc => _nhwc;
    /// <summary>Label per class (the model's metadata, the configuration, or the class index).</summary>
    public IReadOnlyList<string> Labels { get; }
    /// <summary>Classes the output holds (0 when the output's size is dynamic; known after the first run).</summary>
    public int Classes { get; private set; }
    /// <summary>Fixed batch of the model, 0 when dynamic.</summary>
    public int FixedBatch { get; }
    public int MaxBatch { get; }
    public ClassifierOutput Output { get; }
    public IReadOnlyList<string> ActiveProviders => _model.ActiveProviders;

    /// <summary>Loads a classifier; throws <see cref="ModelException"/> naming the file and what is wrong with it.</summary>
    public static OnnxClassifier Load(ClassifierOptions options, ILogger? logger = null, string optionsPath = "classifier")
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(optionsPath);
        if (!options.Enabled) throw new OptionsException($"{optionsPath}.model", "is empty (the path of an ONNX image classifier)");
        if (!File.Exists(options.Model)) throw new OptionsException($"{optionsPath}.model", $"file not found: '{options.Model}'");
        string path = options.Model;
        var model = ModelSession.Create(path, options.Session, logger);
        try
        {
            var session = model.Session;
            if (session.InputMetadata.Count != 1)
                throw new ModelException(path, $"a classifier has one image input, this model has {session.InputMetadata.Count} ({string.Join(", ", session.InputMetadata.Keys)})");
            var (inputName, meta) = session.InputMetadata.First();
            if (meta.ElementDataType != TensorElementType.Float)
                throw new ModelException(path, $"input '{inputName}' is {meta.ElementDataType}; only float32 image inputs are supported");
            var dims = meta.Dimensions;
            if (dims.Length != 4) throw new ModelException(path, $"input '{inputName}' has rank {dims.Length}; an image input is [batch, 3, H, W] or [batch, H, W, 3]");
            bool nhwc = options.Layout switch
            {
                ClassifierLayout.Nhwc => true,
                ClassifierLayout.Nchw => false,
                _ => dims[3] == 3 && dims[1] != 3,
            };
            int channels = nhwc ? dims[3] : dims[1];
            if (channels > 0 && channels != 3) throw new ModelException(path, $"input '{inputName}' has {channels} channels in layout {(nhwc ? "NHWC" : "NCHW")}; a classifier here takes 3 (set classifier.layout if the layout was guessed wrong)");
            var md = session.ModelMetadata.CustomMetadataMap;
            int h = nhwc ? dims[1] : dims[2], w = nhwc ? dims[2] : dims[3];
            if (h <= 0 || w <= 0)
            {
                var (mh, mw) = options.Size > 0 ? (options.Size, options.Size) : ParseImgsz(md) ?? (224, 224);
                if (h <= 0) h = mh;
                if (w <= 0) w = mw;
            }
            if (session.OutputMetadata.Count < 1) throw new ModelException(path, "has no outputs");
            var (outputName, outMeta) = session.OutputMetadata.First();
            var od = outMeta.Dimensions;
            int classes = od.Skip(1).All(d => d > 0) ? od.Skip(1).Aggregate(1, (a, d) => a * d) : 0;
            if (od.Length < 2 || od.Skip(2).Any(d => d != 1 && d > 0))
                throw new ModelException(path, $"output '{outputName}' is [{string.Join(",", od)}]; a classifier gives [batch, classes] scores");
            float scale = options.Scale > 0 ? (float)options.Scale : ParseFloats(md, "scale") is [var s] ? s : 1f / 255f;
            float[] mean = Expand(options.Mean.Count > 0 ? [.. options.Mean] : ParseFloats(md, "mean"), 0f, path, "mean");
            float[] std = Expand(options.Std.Count > 0 ? [.. options.Std] : ParseFloats(md, "std"), 1f, path, "std");
            if (std.Any(x => !(x > 0))) throw new ModelException(path, "metadata 'std' must be positive numbers");
            string order = options.ColorOrder.Length > 0 ? options.ColorOrder : md.TryGetValue("color_order", out var co) ? co.Trim().ToLowerInvariant() : "rgb";
            if (order is not ("rgb" or "bgr")) throw new ModelException(path, $"metadata 'color_order' must be rgb or bgr, got '{order}'");
            var output = options.Output != ClassifierOutput.Auto ? options.Output
                : md.TryGetValue("output", out var ot) ? ot.Trim().ToLowerInvariant() switch
                {
                    "logits" => ClassifierOutput.Logits,
                    "softmax" or "probabilities" => ClassifierOutput.Probabilities,
                    _ => ClassifierOutput.Auto,
                } : ClassifierOutput.Auto;
            IReadOnlyList<string> labels = options.Labels.Count > 0 ? options.Labels : OnnxDetector.ParseNames(md) ?? ParseList(md) ?? [];
            if (classes > 0 && labels.Count > 0 && labels.Count != classes)
                throw new ModelException(path, $"it scores {classes} classes but {(options.Labels.Count > 0 ? "classifier.labels" : "its metadata 'names'")} names {labels.Count}");
            int fixedBatch = dims[0] > 0 ? dims[0] : 0;
            var c = new OnnxClassifier(model, options, inputName, outputName, w, h, nhwc, order == "rgb", scale, mean, std, labels, classes, fixedBatch, output);
            logger?.LogInformation("classifier {Model}: input {W}x{H} {Layout} {Order}, {Classes} classes, output {Output}", c.Name, w, h,
                nhwc ? "NHWC" : "NCHW", order, classes > 0 ? classes : labels.Count, output.ToString().ToLowerInvariant());
            return c;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static float[] Expand(float[] values, float fallback, string path, string key) => values.Length switch
    {
        0 => [fallback, fallback, fallback],
        1 => [values[0], values[0], values[0]],
        3 => values,
        _ => throw new ModelException(path, $"'{key}' must hold 1 or 3 numbers, got {values.Length}"),
    };

    /// <summary>Numbers of a metadata value written as <c>[0.5, 0.5, 0.5]</c> or <c>0.5,0.5,0.5</c>; empty when absent.</summary>
    internal static float[] ParseFloats(IReadOnlyDictionary<string, string> md, string key)
    {
        if (!md.TryGetValue(key, out var text)) return [];
        var parts = text.Trim().Trim('[', ']', '(', ')').Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);
        var values = new float[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]))
                throw new ModelException(key, $"metadata '{key}' must be numbers, got '{text}'");
        return values;
    }

    /// <summary>Ultralytics' <c>imgsz</c>: <c>[224, 224]</c> (height, width) or one number.</summary>
    private static (int H, int W)? ParseImgsz(IReadOnlyDictionary<string, string> md)
    {
        var v = ParseFloats(md, "imgsz");
        return v.Length switch { 1 => ((int)v[0], (int)v[0]), 2 => ((int)v[0], (int)v[1]), _ => null };
    }

    /// <summary>Names written as a JSON-like list <c>['red', 'green']</c> or comma-separated text.</summary>
    private static IReadOnlyList<string>? ParseList(IReadOnlyDictionary<string, string> md)
    {
        if (!md.TryGetValue("names", out var text) || text.Contains(':')) return null;
        var quoted = Regex.Matches(text, @"'((?:[^'\\]|\\.)*)'|""((?:[^""\\]|\\.)*)""");
        if (quoted.Count > 0) return quoted.Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).ToArray();
        var parts = text.Trim('[', ']').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return parts.Length > 0 ? parts : null;
    }

    /// <summary>The label of class <paramref name="index"/>.</summary>
    public string Label(int index) => index < Labels.Count ? Labels[index] : index.ToString(CultureInfo.InvariantCulture);

    /// <summary>The crop of <paramref name="box"/> in a frame: padded by <see cref="ClassifierOptions.Padding"/>, clipped; null when under the minimum size.</summary>
    public (int X, int Y, int W, int H)? CropRegion(Box box, int frameWidth, int frameHeight)
    {
        float px = (float)(box.Width * _options.Padding), py = (float)(box.Height * _options.Padding);
        int x0 = Math.Clamp((int)MathF.Floor(box.X1 - px), 0, frameWidth), y0 = Math.Clamp((int)MathF.Floor(box.Y1 - py), 0, frameHeight);
        int x1 = Math.Clamp((int)MathF.Ceiling(box.X2 + px), 0, frameWidth), y1 = Math.Clamp((int)MathF.Ceiling(box.Y2 + py), 0, frameHeight);
        int w = x1 - x0, h = y1 - y0;
        return w >= _options.MinSize && h >= _options.MinSize ? (x0, y0, w, h) : null;
    }

    /// <summary>One answer per crop, in order (crops under the minimum size or outside the frame throw: check <see cref="CropRegion"/> first).</summary>
    public TrackClassification[] Classify(IReadOnlyList<CropRequest> crops, int hits = 0)
    {
        ArgumentNullException.ThrowIfNull(crops);
        var results = new TrackClassification[crops.Count];
        int per = Width * Height * 3;
        for (int start = 0; start < crops.Count; start += MaxBatch)
        {
            int count = Math.Min(MaxBatch, crops.Count - start);
            int batch = FixedBatch > 0 ? FixedBatch : count;
            if (_input.Length < batch * per) _input = GC.AllocateArray<float>(batch * per, pinned: true);
            for (int i = 0; i < count; i++)
            {
                var (frame, box) = crops[start + i];
                var r = CropRegion(box, frame.Width, frame.Height)
                    ?? throw new ArgumentException($"crop {box} of a {frame.Width}x{frame.Height} frame is under the minimum size {_options.MinSize}", nameof(crops));
                ImageOps.Resize(frame.Data, frame.Width, frame.Height, frame.Stride, r.X, r.Y, r.W, r.H, _resized, Width, Height, Width * 3);
                Fill(_input.AsSpan(i * per, per));
            }
            long[] shape = _nhwc ? [batch, Height, Width, 3] : [batch, 3, Height, Width];
            using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _input.AsMemory(0, batch * per), shape);
            using var outputs = _model.Session.Run(_runOptions, [_inputName], [input], [_outputName]);
            var info = outputs[0].GetTensorTypeAndShape();
            if (info.ElementDataType != TensorElementType.Float)
                throw new ModelException(_model.Path, $"output '{_outputName}' is {info.ElementDataType}; classifier scores must be float32");
            var scores = outputs[0].GetTensorDataAsSpan<float>();
            int classes = (int)(info.ElementCount / Math.Max(1, info.Shape[0]));
            if (Labels.Count > 0 && classes != Labels.Count)
                throw new ModelException(_model.Path, $"it scored {classes} classes but {Labels.Count} labels are named");
            Classes = classes;
            for (int i = 0; i < count; i++) results[start + i] = Answer(scores.Slice(i * classes, classes), hits);
        }
        return results;
    }

    private void Fill(Span<float> dst)
    {
        int n = Width * Height;
        ReadOnlySpan<byte> src = _resized;
        // Source is BGR; model channel k takes source channel k (bgr) or 2 - k (rgb).
        for (int k = 0; k < 3; k++)
        {
            int sc = _rgb ? 2 - k : k;
            float mul = _mul[k], add = _add[k];
            if (_nhwc)
                for (int i = 0; i < n; i++) dst[3 * i + k] = src[3 * i + sc] * mul + add;
            else
            {
                var plane = dst.Slice(k * n, n);
                for (int i = 0; i < n; i++) plane[i] = src[3 * i + sc] * mul + add;
            }
        }
    }

    private TrackClassification Answer(ReadOnlySpan<float> raw, int hits)
    {
        var p = new float[raw.Length];
        bool probabilities = Output switch
        {
            ClassifierOutput.Probabilities => true,
            ClassifierOutput.Logits => false,
            _ => LooksLikeProbabilities(raw),
        };
        if (probabilities) raw.CopyTo(p);
        else Softmax(raw, p);
        int k = Math.Min(_options.TopK, p.Length);
        var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ThenBy(i => i).Take(k).ToArray();
        var top = order.Select(i => new LabelScore(Label(i), p[i])).ToArray();
        return new TrackClassification(top[0].Label, top[0].Score, top, Name, hits);
    }

    private static bool LooksLikeProbabilities(ReadOnlySpan<float> v)
    {
        double sum = 0;
        foreach (float x in v)
        {
            if (x < 0 || x > 1) return false;
            sum += x;
        }
        return Math.Abs(sum - 1) < 1e-3;
    }

    internal static void Softmax(ReadOnlySpan<float> x, Span<float> p)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = Math.Max(max, v);
        double sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            p[i] = MathF.Exp(x[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < x.Length; i++) p[i] = (float)(p[i] / sum);
    }

    public void Dispose()
    {
        _runOptions.Dispose();
        _model.Dispose();
    }
}
