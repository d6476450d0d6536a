using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StreamVision.Inference.Enhance;

/// <summary>
/// An image-to-image ONNX model (low-light enhancement, denoising, restoration) in one ONNX Runtime session on the CPU,
/// shared by every stream naming the same file (<see cref="Run"/> is thread-safe; each stream has its own buffers in its
/// <see cref="FrameEnhancer"/>). Contract: one float input [1, 3, H, W] (H and W fixed, or open for a fully convolutional
/// model) and one float output [1, 3, H', W']; channels RGB and values 0..1, unless the metadata
/// <c>streamvision.enhance.channels</c> = <c>bgr</c> or <c>streamvision.enhance.range</c> = <c>255</c> say otherwise;
/// <c>streamvision.enhance.multiple</c> = n asks for sides that are multiples of n.
/// </summary>
public sealed class ImageEnhancerModel : IDisposable
{
    private readonly InferenceSession _session;
    private readonly string _input;
    private readonly RunOptions _runOptions = new();
    private int _disposed;

    private ImageEnhancerModel(string path, InferenceSession session, string input, int width, int height, bool bgr, float range)
    {
        Path = path;
        _session = session;
        _input = input;
        InputWidth = width;
        InputHeight = height;
        Bgr = bgr;
        Range = range;
    }

    public string Path { get; }
    /// <summary>The model's fixed input width, or 0 when it takes any size.</summary>
    public int InputWidth { get; }
    /// <summary>The model's fixed input height, or 0 when it takes any size.</summary>
    public int InputHeight { get; }
    /// <summary>True when the model reads and writes BGR planes (else RGB).</summary>
    public bool Bgr { get; }
    /// <summary>The value of full white for the model: 1 or 255.</summary>
    public float Range { get; }
    /// <summary>An any-size model's sides must be multiples of this (metadata <c>streamvision.enhance.multiple</c>; default 1).</summary>
    public int SizeMultiple { get; private init; } = 1;

    /// <summary>Loads <paramref name="path"/>; throws <see cref="ModelException"/> naming the file and what is wrong with it.</summary>
    public static ImageEnhancerModel Load(string path, int threads = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new ModelException(path, $"file not found (the enhancement stage needs an ONNX image-to-image model such as {EnhanceOptions.DefaultModel})");
        return ModelSession.OpenStageModel(path, threads, session => Check(path, session));
    }

    private static ImageEnhancerModel Check(string path, InferenceSession session)
    {
        static bool IsImage(NodeMetadata m) => m.ElementDataType == TensorElementType.Float && m.Dimensions.Length == 4 &&
            m.Dimensions[0] is 1 or -1 && m.Dimensions[1] is 3 or -1;
        if (session.InputMetadata.Count != 1 || session.OutputMetadata.Count != 1 ||
            !IsImage(session.InputMetadata.Values.First()) || !IsImage(session.OutputMetadata.Values.First()))
            throw new ModelException(path, "not an image-to-image model: expected one input float [1, 3, H, W] and one output float [1, 3, H', W']; " +
                $"the model has inputs {ModelSession.DescribeNodes(session.InputMetadata)}; outputs {ModelSession.DescribeNodes(session.OutputMetadata)}");
        var (name, meta) = session.InputMetadata.First();
        int h = meta.Dimensions[2], w = meta.Dimensions[3];
        if ((h > 0) != (w > 0))
            throw new ModelException(path, $"input {name} fixes one side but not the other ([1, 3, {h}, {w}]): give both or neither");
        var custom = session.ModelMetadata.CustomMetadataMap;
        bool bgr = false;
        if (custom.TryGetValue("streamvision.enhance.channels", out var ch))
        {
            if (ch is not ("rgb" or "bgr")) throw new ModelException(path, $"metadata streamvision.enhance.channels must be rgb or bgr, got '{ch}'");
            bgr = ch == "bgr";
        }
        float range = 1;
        if (custom.TryGetValue("streamvision.enhance.range", out var r))
        {
            if (r is not ("1" or "255")) throw new ModelException(path, $"metadata streamvision.enhance.range must be 1 or 255, got '{r}'");
            range = r == "1" ? 1 : 255;
        }
        int multiple = 1;
        if (custom.TryGetValue("streamvision.enhance.multiple", out var mu) &&
            (!int.TryParse(mu, NumberStyles.None, CultureInfo.InvariantCulture, out multiple) || multiple is < 1 or > 64))
            throw new ModelException(path, $"metadata streamvision.enhance.multiple must be 1..64, got '{mu}'");
        return new ImageEnhancerModel(path, session, name, Math.Max(0, w), Math.Max(0, h), bgr, range) { SizeMultiple = multiple };
    }

    /// <summary>
    /// Runs the model on <paramref name="planes"/> (3·<paramref name="height"/>·<paramref name="width"/> floats, the model's
    /// channel order and range) and copies the result's planes into <paramref name="output"/> (grown when too small), its
    /// size into <paramref name="outWidth"/> and <paramref name="outHeight"/>. Thread-safe.
    /// </summary>
    public void Run(float[] planes, int width, int height, ref float[] output, out int outWidth, out int outHeight)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (planes.Length < 3 * width * height) throw new ArgumentException("the planes are smaller than the picture", nameof(planes));
        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, planes.AsMemory(0, 3 * width * height), [1, 3, height, width]);
        using var results = _session.Run(_runOptions, [_input], [input], _session.OutputNames);
        var result = results[0];
        var shape = result.GetTensorTypeAndShape().Shape;
        if (shape.Length != 4 || shape[0] != 1 || shape[1] != 3 || shape[2] < 1 || shape[3] < 1)
            throw new ModelException(Path, $"output has shape [{string.Join(", ", shape)}] for an input of [1, 3, {height}, {width}]; expected [1, 3, H', W']");
        outWidth = (int)shape[3];
        outHeight = (int)shape[2];
        var data = result.GetTensorDataAsSpan<float>();
        if (output.Length < data.Length) output = new float[data.Length];
        data.CopyTo(output);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _session.Dispose();
        _runOptions.Dispose();
    }
}
