using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace StreamVision.Inference.Tamper;

/// <summary>
/// A camera-tamper model (CNN embedder + GRU over the last embeddings) in one ONNX Runtime session on the CPU; one per
/// model file, shared by every stream (<see cref="Run"/> is thread-safe; each stream keeps its own history in its
/// <see cref="CameraTamperMonitor"/>). The contract (models/README.md, tools/train-tamper/train.py): inputs
/// <c>frames</c> float [n, 2, S, S] (previous sample and current one, grey 0..255) and <c>history</c> float [n, H, E]
/// (the embeddings of the H samples before, oldest first, zero rows where there are fewer); outputs <c>embedding</c>
/// float [n, E] and <c>probs</c> float [n, classes]. Metadata <c>streamvision.tamper.*</c> names the classes and the
/// sample interval.
/// </summary>
public sealed class CameraTamperModel : IDisposable
{
    public const string ContractVersion = "1";
    /// <summary>The tampered states a model may name (besides <c>normal</c>).</summary>
    public static readonly IReadOnlySet<string> TamperedStates = new HashSet<string>(StringComparer.Ordinal) { "covered", "defocused", "moved", "frozen" };

    private static readonly string[] s_inputs = ["frames", "history"];
    private static readonly string[] s_outputs = ["embedding", "probs"];
    private readonly InferenceSession _session;
    private int _disposed;

    private CameraTamperModel(string path, InferenceSession session, int size, int history, int embedding, IReadOnlyList<string> classes, double interval)
    {
        Path = path;
        _session = session;
        Size = size;
        HistoryLength = history;
        EmbeddingLength = embedding;
        Classes = classes;
        SampleSeconds = interval;
    }

    public string Path { get; }
    /// <summary>Side of the square grey picture the model reads (64 for ours).</summary>
    public int Size { get; }
    /// <summary>Embeddings of earlier samples the model reads with the current one.</summary>
    public int HistoryLength { get; }
    public int EmbeddingLength { get; }
    /// <summary>Class names in output order; <c>normal</c> is one of them.</summary>
    public IReadOnlyList<string> Classes { get; }
    /// <summary>Stream time between samples the model was trained at, seconds.</summary>
    public double SampleSeconds { get; }
    /// <summary>Index of <c>normal</c> in <see cref="Classes"/>.</summary>
    public int NormalIndex => Classes.ToList().IndexOf("normal");

    /// <summary>Loads <paramref name="path"/>; throws <see cref="ModelException"/> naming the file and what is wrong with it.</summary>
    public static CameraTamperModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path)) throw new ModelException(path, $"file not found (the camera-tamper stage needs an ONNX tamper model such as {CameraTamperOptions.DefaultModel})");
        return ModelSession.OpenStageModel(path, 1, session => Check(path, session));
    }

    private static CameraTamperModel Check(string path, InferenceSession session)
    {
        // Inputs need fixed sizes beyond the batch; outputs may leave theirs open (exporters often do), they follow the history's.
        static bool Is(IReadOnlyDictionary<string, NodeMetadata> nodes, string name, int rank, bool fixedSizes = true) =>
            nodes.TryGetValue(name, out var m) && m.ElementDataType == TensorElementType.Float && m.Dimensions.Length == rank &&
            (!fixedSizes || m.Dimensions.Skip(1).All(d => d > 0));
        if (!Is(session.InputMetadata, "frames", 4) || !Is(session.InputMetadata, "history", 3) ||
            !Is(session.OutputMetadata, "embedding", 2, false) || !Is(session.OutputMetadata, "probs", 2, false))
            throw new ModelException(path, "not a camera-tamper model: expected inputs frames float [n, 2, S, S] and history float [n, H, E], outputs embedding float [n, E] and probs float [n, classes]; " +
                $"the model has inputs {ModelSession.DescribeNodes(session.InputMetadata)}; outputs {ModelSession.DescribeNodes(session.OutputMetadata)}");
        var f = session.InputMetadata["frames"].Dimensions;
        var h = session.InputMetadata["history"].Dimensions;
        int e = session.OutputMetadata["embedding"].Dimensions[1] is > 0 and var de ? de : h[2];
        if (f[1] != 2 || f[2] != f[3] || f[2] < 8 || h[2] != e || h[1] < 1)
            throw new ModelException(path, $"inconsistent shapes: frames [n, {f[1]}, {f[2]}, {f[3]}], history [n, {h[1]}, {h[2]}], embedding [n, {e}] (need 2 square pictures and history rows as long as the embedding)");
        var meta = session.ModelMetadata.CustomMetadataMap;
        string Meta(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new ModelException(path, $"metadata '{key}' is missing (train it with tools/train-tamper/train.py)");
        if (Meta("streamvision.tamper.version") != ContractVersion)
            throw new ModelException(path, $"tamper contract version {meta["streamvision.tamper.version"]} is not the supported {ContractVersion}");
        var classes = Meta("streamvision.tamper.classes").Split(',', StringSplitOptions.TrimEntries);
        int n = session.OutputMetadata["probs"].Dimensions[1] is > 0 and var dn ? dn : classes.Length;
        if (classes.Length != n || !classes.Contains("normal") || classes.Any(c => c != "normal" && !TamperedStates.Contains(c)) || classes.Distinct().Count() != n)
            throw new ModelException(path, $"metadata streamvision.tamper.classes must name its {n} outputs: normal and some of {string.Join(", ", TamperedStates)}; got '{meta["streamvision.tamper.classes"]}'");
        if (!double.TryParse(Meta("streamvision.tamper.sample_seconds"), NumberStyles.Float, CultureInfo.InvariantCulture, out double interval) || !(interval > 0) || interval > 10)
            throw new ModelException(path, $"metadata streamvision.tamper.sample_seconds must be 0..10 seconds, got '{meta["streamvision.tamper.sample_seconds"]}'");
        return new CameraTamperModel(path, session, f[2], h[1], e, classes, interval);
    }

    /// <summary>
    /// One sample of one stream: <paramref name="frames"/> (2·S·S: previous and current picture) and
    /// <paramref name="history"/> (H·E) in; the current embedding (E) and class probabilities out. Thread-safe.
    /// </summary>
    public void Run(float[] frames, float[] history, float[] embedding, float[] probs)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (frames.Length != 2 * Size * Size || history.Length != HistoryLength * EmbeddingLength || embedding.Length != EmbeddingLength || probs.Length != Classes.Count)
            throw new ArgumentException("buffer sizes do not match the model");
        using var fr = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, frames.AsMemory(), [1, 2, Size, Size]);
        using var hi = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, history.AsMemory(), [1, HistoryLength, EmbeddingLength]);
        using var em = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, embedding.AsMemory(), [1, EmbeddingLength]);
        using var pr = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, probs.AsMemory(), [1, Classes.Count]);
        _session.Run(null, s_inputs, [fr, hi], s_outputs, [em, pr]);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _session.Dispose();
    }
}
