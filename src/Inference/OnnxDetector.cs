using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StreamVision.Core;
using StreamVision.Inference.Decoders;
using StreamVision.Inference.Preprocessing;

namespace StreamVision.Inference;

/// <summary>Model families the detector understands; Auto picks one from the model's inputs, outputs and metadata.</summary>
public enum ModelFamily
{
    Auto,
    BlazeFace,
    YoloV8,
    YoloV5,
    Ssd,
}

/// <summary>Everything needed to load an ONNX detection model.</summary>
public sealed record OnnxDetectorOptions
{
    public ModelSessionOptions Session { get; init; } = new();
    public DetectorOptions Detection { get; init; } = new();
    /// <summary>Decoder family; Auto detects it.</summary>
    public ModelFamily Family { get; init; } = ModelFamily.Auto;
    /// <summary>Class names overriding the model's own (metadata <c>names</c>).</summary>
    public IReadOnlyList<string>? ClassNames { get; init; }
    /// <summary>Largest batch for models with a dynamic batch dimension (1..64). Default 8.</summary>
    public int MaxBatch { get; init; } = 8;
}

/// <summary>
/// An ONNX detection model: preprocess (letterbox/stretch, normalise, layout) into session-owned tensors, run with
/// IOBinding on buffers allocated once per batch size, decode by family, map to frame pixels, threshold, NMS.
/// One instance serves all streams (calls are serialised by the caller, e.g. <see cref="DetectionBatcher"/>).
/// </summary>
public sealed class OnnxDetector : IDetector
{
    private readonly ModelSession _model;
    private readonly OnnxDetectorOptions _options;
    private readonly IDetectionDecoder _decoder;
    private readonly Preprocessor _pre;
    private readonly string[] _outputNames;
    private readonly Dictionary<int, BatchRunner> _runners = new();
    private readonly CandidateBuffer _candidates = new();
    private readonly LetterboxTransform[] _transforms;
    private readonly RunOptions _runOptions = new();

    private OnnxDetector(ModelSession model, OnnxDetectorOptions options, InputSpec spec, IDetectionDecoder decoder, IReadOnlyList<string> classNames)
    {
        _model = model;
        _options = options;
        _decoder = decoder;
        Spec = spec;
        _pre = new Preprocessor(spec);
        ClassNames = classNames;
        _outputNames = model.Session.OutputMetadata.Keys.ToArray();
        MaxBatch = spec.FixedBatch > 0 ? spec.FixedBatch : Math.Clamp(options.MaxBatch, 1, 64);
        _transforms = new LetterboxTransform[MaxBatch];
        _candidates.KeypointsPerBox = decoder.KeypointsPerBox;
        Name = Path.GetFileName(model.Path);
    }

    public string Name { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int MaxBatch { get; }
    public InputSpec Spec { get; }
    public string Family => _decoder.Family;
    public IReadOnlyList<string> ActiveProviders => _model.ActiveProviders;

    /// <summary>Loads a model; throws <see cref="ModelException"/> naming the file and what is wrong.</summary>
    public static OnnxDetector Load(string path, OnnxDetectorOptions? options = null, ILogger? logger = null)
    {
        options ??= new OnnxDetectorOptions();
        options.Detection.Validate();
        if (options.MaxBatch is < 1 or > 64) throw new OptionsException("detector.batch.max_size", $"must be 1..64, got {options.MaxBatch}");
        var model = ModelSession.Create(path, options.Session, logger);
        try
        {
            var session = model.Session;
            if (session.InputMetadata.Count != 1)
                throw new ModelException(path, $"expected one image input, found {session.InputMetadata.Count} ({string.Join(", ", session.InputMetadata.Keys)})");
            var (inputName, meta) = session.InputMetadata.First();
            if (meta.ElementDataType != TensorElementType.Float)
                throw new ModelException(path, $"input '{inputName}' is {meta.ElementDataType}; only float32 image inputs are supported");
            var dims = meta.Dimensions;
            if (dims.Length != 4) throw new ModelException(path, $"input '{inputName}' has rank {dims.Length}; an image input is [batch, 3, H, W] or [batch, H, W, 3]");
            bool nhwc = dims[3] == 3 && dims[1] != 3;
            int h = nhwc ? dims[1] : dims[2], w = nhwc ? dims[2] : dims[3];
            if (h <= 0) h = 640;
            if (w <= 0) w = 640;
            int fixedBatch = dims[0] > 0 ? dims[0] : 0;
            var outputs = session.OutputMetadata.Select(kv => (kv.Key, kv.Value.Dimensions.Select((d, i) => d > 0 ? d : (i == 0 ? 1 : -1)).ToArray())).ToList();
            var shaped = outputs.Select(o => new OutputTensor(o.Key, o.Item2, [])).ToList();
            var metaNames = ParseNames(session.ModelMetadata.CustomMetadataMap);

            var family = options.Family == ModelFamily.Auto ? DetectFamily(path, nhwc, shaped, metaNames) : options.Family;
            IDetectionDecoder decoder;
            InputSpec spec;
            IReadOnlyList<string> names;
            switch (family)
            {
                case ModelFamily.BlazeFace:
                    var m = BlazeFaceDecoder.Match(shaped) ?? throw new ModelException(path, "outputs are not BlazeFace-shaped (two score and two regressor tensors)");
                    decoder = new BlazeFaceDecoder(w, shaped[m.ScoresFine].Shape[1], shaped[m.ScoresCoarse].Shape[1]);
                    spec = new InputSpec { Name = inputName, Width = w, Height = h, Layout = TensorLayout.Nhwc, FixedBatch = fixedBatch, Resize = ResizeMode.Letterbox, Scale = 1f / 127.5f, Offset = -1f, PadValue = 0 };
                    names = BlazeFaceDecoder.ClassNames;
                    break;
                case ModelFamily.YoloV8:
                case ModelFamily.YoloV5:
                    decoder = new YoloDecoder(family == ModelFamily.YoloV5);
                    spec = new InputSpec { Name = inputName, Width = w, Height = h, Layout = nhwc ? TensorLayout.Nhwc : TensorLayout.Nchw, FixedBatch = fixedBatch };
                    names = metaNames ?? CocoNames(shaped[0], family == ModelFamily.YoloV5);
                    break;
                case ModelFamily.Ssd:
                    var s = SsdDecoder.Match(outputs) ?? throw new ModelException(path, "outputs are not SSD-shaped (boxes, scores, labels)");
                    decoder = new SsdDecoder(s.Boxes, s.Scores, s.Labels, w, h);
                    spec = new InputSpec { Name = inputName, Width = w, Height = h, Layout = nhwc ? TensorLayout.Nhwc : TensorLayout.Nchw, FixedBatch = outputs[s.Boxes].Item2.Length == 2 ? 1 : fixedBatch, Resize = ResizeMode.Stretch };
                    names = metaNames ?? [];
                    break;
                default:
                    throw new ModelException(path, $"unsupported family {family}");
            }
            var detector = new OnnxDetector(model, options, spec, decoder, options.ClassNames ?? names);
            logger?.LogInformation("model {Model}: {Family}, input {W}x{H} {Layout}, batch {Batch}", detector.Name, decoder.Family, w, h, spec.Layout, spec.FixedBatch == 0 ? "dynamic" : spec.FixedBatch.ToString());
            return detector;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    private static ModelFamily DetectFamily(string path, bool nhwc, List<OutputTensor> outputs, IReadOnlyList<string>? names)
    {
        if (BlazeFaceDecoder.Match(outputs) is not null) return ModelFamily.BlazeFace;
        if (SsdDecoder.Match(outputs.Select(o => (o.Name, o.Shape)).ToList()) is not null) return ModelFamily.Ssd;
        if (outputs.Count == 1 && outputs[0].Rank == 3)
        {
            int a = outputs[0].Shape[1], b = outputs[0].Shape[2];
            if (names is not null)
            {
                if (a == 4 + names.Count) return ModelFamily.YoloV8;
                if (b == 5 + names.Count) return ModelFamily.YoloV5;
            }
            if (a > 4 && (b < 0 || a < b)) return ModelFamily.YoloV8;
            if (b > 5 && (a < 0 || b < a)) return ModelFamily.YoloV5;
        }
        throw new ModelException(path, "cannot tell the model family from its outputs (" +
            string.Join(", ", outputs.Select(o => $"{o.Name} [{string.Join(",", o.Shape)}]")) + "); set detector.family to yolov8, yolov5, ssd or blazeface");
    }

    /// <summary>Ultralytics writes <c>names</c> as a Python dict literal: <c>{0: 'person', 1: 'bicycle'}</c>.</summary>
    internal static IReadOnlyList<string>? ParseNames(IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue("names", out var text)) return null;
        var matches = Regex.Matches(text, @"(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|""((?:[^""\\]|\\.)*)"")");
        if (matches.Count == 0) return null;
        var dict = matches.ToDictionary(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            m => m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Value);
        int count = dict.Keys.Max() + 1;
        return Enumerable.Range(0, count).Select(i => dict.TryGetValue(i, out var n) ? n : i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
    }

    private static IReadOnlyList<string> CocoNames(OutputTensor output, bool v5)
    {
        int classes = v5 ? output.Shape[2] - 5 : output.Shape[1] - 4;
        return classes == CocoClasses.Names.Count ? CocoClasses.Names : [];
    }

    public Detections[] Detect(IReadOnlyList<Frame> frames)
    {
        var results = new Detections[frames.Count];
        for (int start = 0; start < frames.Count; start += MaxBatch)
        {
            int count = Math.Min(MaxBatch, frames.Count - start);
            // Fixed-batch models always run their full batch (unused slots are left as they were).
            int runBatch = Spec.FixedBatch > 0 ? Spec.FixedBatch : count;
            var runner = GetRunner(runBatch);
            for (int i = 0; i < count; i++)
                _transforms[i] = _pre.Prepare(frames[start + i], runner.Input.AsSpan(i * Spec.ElementsPerImage, Spec.ElementsPerImage));
            runner.Run(_model.Session, _runOptions);
            for (int i = 0; i < count; i++) results[start + i] = Postprocess(runner.Outputs, i, _transforms[i]);
        }
        return results;
    }

    private Detections Postprocess(IReadOnlyList<OutputTensor> outputs, int batchIndex, in LetterboxTransform t)
    {
        var opt = _options.Detection;
        _candidates.Clear();
        _decoder.Decode(outputs, batchIndex, opt.ConfidenceThreshold, _candidates);
        int n = _candidates.Count;
        if (n == 0) return Detections.Empty;
        var boxes = new List<Box>(n);
        var scores = new List<float>(n);
        var classes = new List<int>(n);
        var kps = _decoder.KeypointsPerBox > 0 ? new List<float>(n * _decoder.KeypointsPerBox * 2) : null;
        var allow = opt.ClassAllowList;
        for (int i = 0; i < n; i++)
        {
            int c = _candidates.ClassAt(i);
            if (allow is not null && !allow.Contains(c)) continue;
            var b = t.ToFrame(_candidates.BoxAt(i));
            if (b.Width < 1 || b.Height < 1) continue;
            boxes.Add(b);
            scores.Add(_candidates.ScoreAt(i));
            classes.Add(c);
            if (kps is not null)
            {
                for (int k = 0; k < _decoder.KeypointsPerBox; k++)
                {
                    kps.Add(t.ToFrameX(_candidates.KeypointAt(i, 2 * k)));
                    kps.Add(t.ToFrameY(_candidates.KeypointAt(i, 2 * k + 1)));
                }
            }
        }
        var all = new Detections(boxes.ToArray(), scores.ToArray(), classes.ToArray(), null, kps?.ToArray(), kps is null ? 0 : _decoder.KeypointsPerBox);
        return all.Select(Nms.Run(all, opt.NmsIouThreshold, opt.MaxDetections, !opt.ClassAgnosticNms));
    }

    private BatchRunner GetRunner(int batch)
    {
        if (!_runners.TryGetValue(batch, out var r))
        {
            r = new BatchRunner(_model.Session, Spec, _outputNames, batch);
            _runners[batch] = r;
        }
        return r;
    }

    public void Dispose()
    {
        foreach (var r in _runners.Values) r.Dispose();
        _runners.Clear();
        _runOptions.Dispose();
        _model.Dispose();
    }

    /// <summary>Input and output buffers and their IOBinding for one batch size, allocated once.</summary>
    private sealed class BatchRunner : IDisposable
    {
        private readonly OrtIoBinding _binding;
        private readonly OrtValue _inputValue;
        private readonly List<OrtValue> _outputValues = new();
        private readonly bool[] _dynamic;
        private readonly bool[] _needsConversion;

        public BatchRunner(InferenceSession session, InputSpec spec, string[] outputNames, int batch)
        {
            Input = GC.AllocateArray<float>(batch * spec.ElementsPerImage, pinned: true);
            long[] shape = spec.Layout == TensorLayout.Nhwc ? [batch, spec.Height, spec.Width, 3] : [batch, 3, spec.Height, spec.Width];
            _inputValue = OrtValue.CreateTensorValueFromMemory(Input, shape);
            _binding = session.CreateIoBinding();
            _binding.BindInput(spec.Name, _inputValue);
            _dynamic = new bool[outputNames.Length];
            _needsConversion = new bool[outputNames.Length];
            for (int i = 0; i < outputNames.Length; i++)
            {
                var meta = session.OutputMetadata[outputNames[i]];
                var dims = meta.Dimensions.Select((d, k) => k == 0 && d <= 0 ? batch : d).ToArray();
                bool isFloat = meta.ElementDataType == TensorElementType.Float;
                _needsConversion[i] = !isFloat;
                if (dims.Any(d => d <= 0) || !isFloat)
                {
                    _dynamic[i] = true;
                    _binding.BindOutputToDevice(outputNames[i], OrtMemoryInfo.DefaultInstance);
                    Outputs.Add(new OutputTensor(outputNames[i], dims, []));
                }
                else
                {
                    int n = dims.Aggregate(1, (a, d) => a * d);
                    var data = GC.AllocateArray<float>(n, pinned: true);
                    var v = OrtValue.CreateTensorValueFromMemory(data, dims.Select(d => (long)d).ToArray());
                    _outputValues.Add(v);
                    _binding.BindOutput(outputNames[i], v);
                    Outputs.Add(new OutputTensor(outputNames[i], dims, data));
                }
            }
        }

        public float[] Input { get; }
        public List<OutputTensor> Outputs { get; } = new();

        public void Run(InferenceSession session, RunOptions options)
        {
            session.RunWithBinding(options, _binding);
            if (!_dynamic.Any(d => d)) return;
            using var values = _binding.GetOutputValues();
            for (int i = 0; i < Outputs.Count; i++)
            {
                if (!_dynamic[i]) continue;
                var v = values[i];
                var info = v.GetTensorTypeAndShape();
                var o = Outputs[i];
                o.Shape = info.Shape.Select(d => (int)d).ToArray();
                int n = (int)info.ElementCount;
                if (o.Data.Length < n) o.Data = new float[Math.Max(n, 16)];
                switch (info.ElementDataType)
                {
                    case TensorElementType.Float: v.GetTensorDataAsSpan<float>().CopyTo(o.Data); break;
                    case TensorElementType.Int64: { var s = v.GetTensorDataAsSpan<long>(); for (int k = 0; k < n; k++) o.Data[k] = s[k]; break; }
                    case TensorElementType.Int32: { var s = v.GetTensorDataAsSpan<int>(); for (int k = 0; k < n; k++) o.Data[k] = s[k]; break; }
                    default: throw new InvalidOperationException($"output '{o.Name}' has unsupported type {info.ElementDataType}");
                }
            }
        }

        public void Dispose()
        {
            _binding.Dispose();
            _inputValue.Dispose();
            foreach (var v in _outputValues) v.Dispose();
        }
    }
}
