using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;

namespace StreamVision.Inference;

/// <summary>How to create an ONNX Runtime session.</summary>
public sealed record ModelSessionOptions
{
    /// <summary>Execution providers to try, in order: "tensorrt", "cuda", "cpu". Unavailable ones are skipped with one log line; CPU is always the floor.</summary>
    public IReadOnlyList<string> Providers { get; init; } = ["tensorrt", "cuda", "cpu"];
    /// <summary>Threads for one operator; 0 = ONNX Runtime's default (one per core). Fewer leaves cores for decoding.</summary>
    public int IntraOpThreads { get; init; }
    /// <summary>GPU index for CUDA/TensorRT.</summary>
    public int DeviceId { get; init; }

    public static readonly IReadOnlySet<string> KnownProviders = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "tensorrt", "cuda", "cpu" };
}

/// <summary>
/// One ONNX Runtime session for one model, shared by every stream that uses the model. Owns the native session.
/// <see cref="ActiveProviders"/> lists what was really appended; <see cref="SkippedProviders"/> says why the rest were not.
/// </summary>
public sealed class ModelSession : IDisposable
{
    private ModelSession(string path, InferenceSession session, IReadOnlyList<string> active, IReadOnlyList<string> skipped)
    {
        Path = path;
        Session = session;
        ActiveProviders = active;
        SkippedProviders = skipped;
    }

    public string Path { get; }
    public InferenceSession Session { get; }
    public IReadOnlyList<string> ActiveProviders { get; }
    public IReadOnlyList<string> SkippedProviders { get; }

    /// <summary>Loads <paramref name="path"/>; throws <see cref="ModelException"/> naming the file when it cannot.</summary>
    public static ModelSession Create(string path, ModelSessionOptions? options = null, ILogger? logger = null)
    {
        options ??= new ModelSessionOptions();
        logger ??= NullLogger.Instance;
        if (!File.Exists(path)) throw new ModelException(path, "file not found");
        foreach (var p in options.Providers)
        {
            if (!ModelSessionOptions.KnownProviders.Contains(p))
                throw new ModelException(path, $"unknown execution provider '{p}' (expected tensorrt, cuda or cpu)");
        }
        if (!OnnxRuntimeInfo.TryLoad(out _, out var available, out var loadError)) throw new ModelException(path, loadError);

        var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        var active = new List<string>();
        var skipped = new List<string>();
        try
        {
            if (options.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
            foreach (var p in options.Providers)
            {
                string name = p.ToLowerInvariant();
                if (name == "cpu") continue; // appended implicitly, always last
                string ortName = name == "cuda" ? "CUDAExecutionProvider" : "TensorrtExecutionProvider";
                if (!available.Contains(ortName))
                {
                    Skip(name, $"not in this ONNX Runtime build (available: {string.Join(", ", available)}); `./streamvision setup --gpu` fetches the GPU providers");
                    continue;
                }
                try
                {
                    if (name == "cuda") so.AppendExecutionProvider_CUDA(options.DeviceId);
                    else so.AppendExecutionProvider_Tensorrt(options.DeviceId);
                    active.Add(name);
                }
                catch (Exception ex)
                {
                    // A CPU-only library throws EntryPointNotFoundException; a GPU library without a driver OnnxRuntimeException.
                    Skip(name, ex.GetBaseException().Message.Split('\n')[0]);
                }
            }
            active.Add("cpu");
            InferenceSession session;
            try
            {
                session = new InferenceSession(path, so);
            }
            catch (OnnxRuntimeException ex)
            {
                throw new ModelException(path, $"ONNX Runtime cannot load it: {ex.Message.Split('\n')[0]}", ex);
            }
            logger.LogInformation("model {Model}: providers {Providers}", System.IO.Path.GetFileName(path), string.Join(" > ", active));
            return new ModelSession(path, session, active, skipped);
        }
        finally
        {
            so.Dispose();
        }

        void Skip(string name, string why)
        {
            skipped.Add($"{name}: {why}");
            logger.LogWarning("model {Model}: execution provider {Provider} skipped: {Reason}", System.IO.Path.GetFileName(path), name, why);
        }
    }

    public void Dispose() => Session.Dispose();
}
