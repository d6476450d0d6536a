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
    /// <summary>Recognised from the model's outputs.</summary>
    Auto,
    /// <summary>MediaPipe BlazeFace: score logits and box regressors over fixed anchors.</summary>
    [OptionName("blazeface")]
    BlazeFace,
    /// <summary>Ultralytics YOLOv8/v11: one output [batch, 4 + classes, anchors].</summary>
    [OptionName("yolov8")]
    YoloV8,
    /// <summary>Ultralytics YOLOv5: one output [batch, anchors, 5 + classes] with an objectness score.</summary>
    [OptionName("yolov5")]
    YoloV5,
    /// <summary>SSD-style: separate boxes, scores and labels outputs.</summary>
    Ssd,
    /// <summary>Ultralytics YOLOv8/v11-seg: detections [batch, 4 + classes + 32, anchors] plus prototype masks [batch, 32, H/4, W/4].</summary>
    [OptionName("yolov8-seg")]
    YoloV8Seg,
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
    // Post-processing scratch, grown to the largest candidate count seen and then reused: no allocation per frame
    // beyond the returned Detections.
    private Box[] _boxes = new Box[64];
    private float[] _scores = new float[64];
    private int[] _classes = new int[64];
    private float[] _keypoints = [];
    private int[] _candidateRow = new int[64];
    private ulong[] _nmsScratch = new ulong[64];
    private readonly int[] _keep;

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
        _candidates.ExtrasPerBox = decoder is YoloSegDecoder sd ? sd.MaskChannels : 0;
        _keep = new int[options.Detection.MaxDetections];
        Name = Path.GetFileName(model.Path);
    }

    public string Name { get; }
    public IReadOnlyList<string> ClassNames { get; }
    public int MaxBatch { get; }
    public InputSpec Spec { get; }
    public string Family => _decoder.Family;
    /// <summary>True for segmentation models: their detections carry mask coefficients and prototypes.</summary>
    public bool Segments => _decoder is YoloSegDecoder;
    public IReadOnlyList<string> ActiveProviders => _model.ActiveProviders;

    /// <summary>Session runs so far (a batch of N frames is one run on a dynamic-batch model, N on a fixed batch of 1).</summary>
    internal long SessionRuns { get; private set; }
    /// <summary>Batch sizes the session has been run with (one set of bound buffers each).</summary>
    internal IReadOnlyCollection<int> RunnerBatchSizes => _runners.Keys;

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
            // For messages: the outputs as the model declares them (? = dynamic).
            string described = string.Join(", ", session.OutputMetadata.Select(kv =>
                $"{kv.Key} [{string.Join(",", kv.Value.Dimensions.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]"));

            var family = options.Family == ModelFamily.Auto ? DetectFamily(path, shaped, metaNames, described) : options.Family;
            IDetectionDecoder decoder;
            InputSpec spec;
            IReadOnlyList<string> names;
            switch (family)
            {
                case ModelFamily.BlazeFace:
                    var m = BlazeFaceDecoder.Match(shaped) ?? throw Mismatch(path, family, "two score [1, N, 1] and two regressor [1, N, 16] outputs", described);
                    decoder = new BlazeFaceDecoder(w, shaped[m.ScoresFine].Shape[1], shaped[m.ScoresCoarse].Shape[1]);
                    spec = new InputSpec { Name = inputName, Width = w, Height = h, Layout = TensorLayout.Nhwc, FixedBatch = fixedBatch, Resize = ResizeMode.Letterbox, Scale = 1f / 127.5f, Offset = -1f, PadValue = 0 };
                    names = BlazeFaceDecoder.ClassNames;
                    break;
                case ModelFamily.YoloV8:
                case ModelFamily.YoloV5:
                    bool v5 = family == ModelFamily.YoloV5;
                    string layout = v5 ? "[batch, anchors, 5 + classes]" : "[batch, 4 + classes, anchors]";
                    if (shaped.Count != 1 || shaped[0].Rank != 3) throw Mismatch(path, family, "one output " + layout, described);
                    int classes = v5 ? shaped[0].Shape[2] - 5 : shaped[0].Shape[1] - 4;
                    if (classes < 1 && (v5 ? shaped[0].Shape[2] : shaped[0].Shape[1]) > 0) throw Mismatch(path, family, "one output " + layout + " with at least one class", described);
                    if (metaNames is not null && classes > 0 && classes != metaNames.Count)
                        throw Mismatch(path, family, $"one output {layout} with the {metaNames.Count} classes its metadata names", described);
                    decoder = new YoloDecoder(v5);
                    spec = new InputSpec { Name = inputName, Width = w, Height = h, Layout = nhwc ? TensorLayout.Nhwc : TensorLayout.Nchw, FixedBatch = fixedBatch };
                    names = metaNames ?? CocoNames(shaped[0], v5);
                    break;
                case ModelFamily.YoloV8Seg:
                    var seg = YoloSegDecoder.Match(shaped) ?? throw Mismatch(path, family, "two outputs: detections [batch, 4 + classes + 32, anchors] and prototypes [batch, 32, H/4, W/4]", described);
                    int segClasses = seg.Classes(shaped);
                    if (segClasses < 1 && shaped[seg.DetectionsOutput].Shape[1] > 0)
                        throw Mismatch(path, family, $"a detections output with 4 box rows, at least one class and {seg.MaskChannels} mask coefficients", described);
                    if (metaNames is not null && segClasses > 0 && segClasses != metaNames.Count)
                        throw Mismatch(path, family, $"a detections output [batch, 4 + {metaNames.Count} + {seg.MaskChannels}, anchors] for the {metaNames.Count} classes its metadata names", described);
                    decoder = seg;
                    spec = new InputSpec { Name = inputName, Width = w, Height = h, Layout = nhwc ? TensorLayout.Nhwc : TensorLayout.Nchw, FixedBatch = fixedBatch };
                    names = metaNames ?? (segClasses == CocoClasses.Names.Count ? CocoClasses.Names : []);
                    break;
                case ModelFamily.Ssd:
                    var s = SsdDecoder.Match(outputs) ?? throw Mismatch(path, family, "three outputs boxes [N, 4], scores [N] and labels [N] (optionally batch first)", described);
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

    private static ModelFamily DetectFamily(string path, List<OutputTensor> outputs, IReadOnlyList<string>? names, string described)
    {
        if (BlazeFaceDecoder.Match(outputs) is not null) return ModelFamily.BlazeFace;
        if (SsdDecoder.Match(outputs.Select(o => (o.Name, o.Shape)).ToList()) is not null) return ModelFamily.Ssd;
        if (YoloSegDecoder.Match(outputs) is not null) return ModelFamily.YoloV8Seg;
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
        throw new ModelException(path, $"cannot tell the model family from its outputs ({described}); expected YOLOv8 [batch, 4 + classes, anchors], " +
            "YOLOv5 [batch, anchors, 5 + classes], YOLOv8-seg detections + prototypes, SSD boxes/scores/labels or BlazeFace; " +
            "set detector.family to yolov8, yolov8-seg, yolov5, ssd or blazeface");
    }

    private static ModelException Mismatch(string path, ModelFamily family, string expected, string described) =>
        new(path, $"family {family.ToString().ToLowerInvariant()} expects {expected}; the model has {described}");

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

    private long _nonFinite;

    /// <summary>Candidates dropped so far because their box or score was NaN or infinite (also counted in <c>sv_detections_nonfinite_dropped_total</c> by the batcher).</summary>
    public long NonFiniteDropped => Interlocked.Read(ref _nonFinite);

    internal static bool IsFinite(in Box b, float score) =>
        float.IsFinite(score) && float.IsFinite(b.X1) && float.IsFinite(b.Y1) && float.IsFinite(b.X2) && float.IsFinite(b.Y2);

    public Detections[] Detect(IReadOnlyList<Frame> frames)
    {
        ArgumentNullException.ThrowIfNull(frames);
        if (frames.Count == 0) return [];
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
            SessionRuns++;
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
        int kpb = _decoder.KeypointsPerBox;
        EnsureScratch(n, kpb);
        var allow = opt.ClassAllowList;
        int m = 0;
        for (int i = 0; i < n; i++)
        {
            int c = _candidates.ClassAt(i);
            if (allow is not null && !allow.Contains(c)) continue;
            var raw = _candidates.BoxAt(i);
            // Checked before the box is clipped to the frame: clipping would turn an infinite box into the whole frame.
            if (!IsFinite(raw, _candidates.ScoreAt(i)))
            {
                // A model emitting NaN or infinity (overflow, a broken export) must not reach NMS, the tracker or any file.
                Interlocked.Increment(ref _nonFinite);
                continue;
            }
            var b = t.ToFrame(raw);
            if (b.Width < 1 || b.Height < 1) continue;
            _boxes[m] = b;
            _scores[m] = _candidates.ScoreAt(i);
            _classes[m] = c;
            _candidateRow[m] = i;
            for (int k = 0; k < kpb; k++)
            {
                _keypoints[(m * kpb + k) * 2] = t.ToFrameX(_candidates.KeypointAt(i, 2 * k));
                _keypoints[(m * kpb + k) * 2 + 1] = t.ToFrameY(_candidates.KeypointAt(i, 2 * k + 1));
            }
            m++;
        }
        if (m == 0) return Detections.Empty;
        int kept = Nms.Run(_boxes.AsSpan(0, m), _scores.AsSpan(0, m), _classes.AsSpan(0, m), opt.NmsIouThreshold, !opt.ClassAgnosticNms, _keep, _nmsScratch);
        var boxes = new Box[kept];
        var scores = new float[kept];
        var classes = new int[kept];
        var rows = new int[kept];
        var kps = kpb > 0 ? new float[kept * kpb * 2] : null;
        for (int j = 0; j < kept; j++)
        {
            int i = _keep[j];
            rows[j] = j;
            boxes[j] = _boxes[i];
            scores[j] = _scores[i];
            classes[j] = _classes[i];
            if (kps is not null) _keypoints.AsSpan(i * kpb * 2, kpb * 2).CopyTo(kps.AsSpan(j * kpb * 2));
        }
        if (_decoder is YoloSegDecoder seg)
        {
            // Masks are made later (the pipeline's segment stage, only for what it keeps): hand over each kept row's
            // coefficients and a copy of this image's prototypes with the frame -> prototype mapping.
            int mc = seg.MaskChannels;
            var coeffs = new float[kept * mc];
            for (int j = 0; j < kept; j++)
                for (int k = 0; k < mc; k++) coeffs[j * mc + k] = _candidates.ExtraAt(_candidateRow[_keep[j]], k);
            var po = outputs[seg.PrototypesOutput];
            int ph = po.Shape[2], pw = po.Shape[3], plane = mc * ph * pw;
            var protoData = po.Data.AsSpan(batchIndex * plane, plane).ToArray();
            float sx = (float)pw / Spec.Width, sy = (float)ph / Spec.Height;
            var protos = new MaskPrototypes(protoData, mc, ph, pw, t.ScaleX * sx, t.ScaleY * sy, t.PadX * sx, t.PadY * sy);
            return new Detections(boxes, scores, classes, rows, kps, kps is null ? 0 : kpb, coeffs, protos, null);
        }
        // The detector's output is the origin of every later row: source indices are 0..kept-1.
        return new Detections(boxes, scores, classes, rows, kps, kps is null ? 0 : kpb);
    }

    private void EnsureScratch(int n, int keypointsPerBox)
    {
        if (_boxes.Length < n)
        {
            int size = Math.Max(n, 2 * _boxes.Length);
            _boxes = new Box[size];
            _scores = new float[size];
            _classes = new int[size];
            _nmsScratch = new ulong[size];
            _candidateRow = new int[size];
        }
        if (_keypoints.Length < _boxes.Length * keypointsPerBox * 2) _keypoints = new float[_boxes.Length * keypointsPerBox * 2];
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
        private readonly bool _anyDynamic;

        public BatchRunner(InferenceSession session, InputSpec spec, string[] outputNames, int batch)
        {
            var inputMeta = session.InputMetadata[spec.Name];
            string? inputBatchName = inputMeta.Dimensions[0] <= 0 ? inputMeta.SymbolicDimensions[0] : null;
            Input = GC.AllocateArray<float>(batch * spec.ElementsPerImage, pinned: true);
            long[] shape = spec.Layout == TensorLayout.Nhwc ? [batch, spec.Height, spec.Width, 3] : [batch, 3, spec.Height, spec.Width];
            _inputValue = OrtValue.CreateTensorValueFromMemory(Input, shape);
            _binding = session.CreateIoBinding();
            _binding.BindInput(spec.Name, _inputValue);
            _dynamic = new bool[outputNames.Length];
            for (int i = 0; i < outputNames.Length; i++)
            {
                var meta = session.OutputMetadata[outputNames[i]];
                bool batched = HasBatchDimension(meta, inputBatchName);
                var dims = meta.Dimensions.Select((d, k) => k == 0 && batched ? batch : d).ToArray();
                bool isFloat = meta.ElementDataType == TensorElementType.Float;
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
            _anyDynamic = _dynamic.Contains(true);
        }

        public float[] Input { get; }
        public List<OutputTensor> Outputs { get; } = new();

        /// <summary>
        /// Whether an output's dynamic first dimension is the batch (so its size is known per batch and a buffer can be bound
        /// once). Named dimensions decide ("batch" in and out); unnamed ones count as batch for rank 3 and up (YOLO
        /// [B, 84, 8400], BlazeFace [B, 896, 16]), not for rank 1-2 (torchvision SSD's [K, 4] boxes: K varies per run).
        /// </summary>
        private static bool HasBatchDimension(NodeMetadata output, string? inputBatchName)
        {
            var dims = output.Dimensions;
            if (dims.Length == 0 || dims[0] > 0) return false;
            string name = output.SymbolicDimensions.Length > 0 ? output.SymbolicDimensions[0] : "";
            if (!string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(inputBatchName)) return name == inputBatchName;
            return dims.Length >= 3;
        }

        public void Run(InferenceSession session, RunOptions options)
        {
            session.RunWithBinding(options, _binding);
            if (!_anyDynamic) return;
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
