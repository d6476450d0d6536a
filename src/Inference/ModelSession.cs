using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using StreamVision.Core;

namespace StreamVision.Inference;

/// <summary>How to create an ONNX Runtime session.</summary>
public sealed record ModelSessionOptions
{
    /// <summary>
    /// Execution providers to try, in order: <c>tensorrt</c>, <c>cuda</c>, <c>cpu</c>. Unavailable ones are skipped with one
    /// log line; CPU is always the floor. Default <c>[tensorrt, cuda, cpu]</c>.
    /// </summary>
    public IReadOnlyList<string> Providers { get; init; } = ["tensorrt", "cuda", "cpu"];
    /// <summary>ONNX Runtime intra-op threads (for one operator); 0 (default) = one per core. Fewer leaves cores for decoding and encoding.</summary>
    [OptionKey("threads"), OptionRange(0, 256)]
    public int IntraOpThreads { get; init; }
    /// <summary>
    /// Let ONNX Runtime's intra-op worker threads spin (busy-wait) between operators instead of sleeping. Spinning shaves
    /// a little latency when inference has the cores to itself and steals them from decoding, encoding and drawing
    /// otherwise (measured here: annotate 18.9 s spinning vs 15.1 s not, 2 cores). Default false.
    /// </summary>
    public bool AllowSpinning { get; init; }
    /// <summary>GPU index (0-based, as <c>nvidia-smi</c> lists them) for CUDA and TensorRT. Default 0.</summary>
    [OptionRange(0, 63)]
    public int DeviceId { get; init; }
    /// <summary>Settings used only when the CUDA provider is appended.</summary>
    public CudaProviderOptions Cuda { get; init; } = new();
    /// <summary>Settings used only when the TensorRT provider is appended.</summary>
    [OptionKey("tensorrt")]
    public TensorRtProviderOptions TensorRt { get; init; } = new();

    public static readonly IReadOnlySet<string> KnownProviders = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "tensorrt", "cuda", "cpu" };

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/> (the detector's).</summary>
    public void Validate(string path = "detector")
    {
        ArgumentNullException.ThrowIfNull(Providers);
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var p in Providers)
        {
            if (p is null || !KnownProviders.Contains(p)) throw new OptionsException($"{path}.providers", $"unknown execution provider '{p}' (expected tensorrt, cuda or cpu)");
            if (!seen.Add(p)) throw new OptionsException($"{path}.providers", $"'{p}' is listed twice");
        }
        if (IntraOpThreads is < 0 or > 256) throw new OptionsException($"{path}.intra_op_threads", $"must be 0..256, got {IntraOpThreads}");
        if (DeviceId is < 0 or > 63) throw new OptionsException($"{path}.device_id", $"must be 0..63, got {DeviceId}");
        ArgumentNullException.ThrowIfNull(Cuda);
        ArgumentNullException.ThrowIfNull(TensorRt);
        Cuda.Validate($"{path}.cuda");
        TensorRt.Validate($"{path}.tensorrt");
    }

    /// <summary>The key/value settings handed to ONNX Runtime's CUDA provider (its documented option names).</summary>
    internal Dictionary<string, string> CudaProviderSettings()
    {
        var d = new Dictionary<string, string>
        {
            ["device_id"] = DeviceId.ToString(CultureInfo.InvariantCulture),
            ["cudnn_conv_algo_search"] = Cuda.ConvAlgoSearch switch
            {
                CudnnConvAlgoSearch.Heuristic => "HEURISTIC",
                CudnnConvAlgoSearch.Default => "DEFAULT",
                _ => "EXHAUSTIVE",
            },
            ["use_tf32"] = Cuda.UseTf32 ? "1" : "0",
        };
        if (Cuda.GpuMemoryLimitBytes > 0) d["gpu_mem_limit"] = Cuda.GpuMemoryLimitBytes.ToString(CultureInfo.InvariantCulture);
        return d;
    }

    /// <summary>The key/value settings handed to ONNX Runtime's TensorRT provider (its documented option names).</summary>
    internal Dictionary<string, string> TensorRtProviderSettings()
    {
        var d = new Dictionary<string, string>
        {
            ["device_id"] = DeviceId.ToString(CultureInfo.InvariantCulture),
            ["trt_fp16_enable"] = TensorRt.Fp16 ? "1" : "0",
        };
        if (TensorRt.MaxWorkspaceBytes > 0) d["trt_max_workspace_size"] = TensorRt.MaxWorkspaceBytes.ToString(CultureInfo.InvariantCulture);
        if (!string.IsNullOrEmpty(TensorRt.EngineCacheDirectory))
        {
            string dir = System.IO.Path.GetFullPath(TensorRt.EngineCacheDirectory);
            d["trt_engine_cache_enable"] = "1";
            d["trt_engine_cache_path"] = dir;
            d["trt_timing_cache_enable"] = "1";
            d["trt_timing_cache_path"] = dir;
        }
        return d;
    }
}

/// <summary>How cuDNN picks convolution kernels.</summary>
public enum CudnnConvAlgoSearch
{
    /// <summary>Benchmark every kernel once per shape: fastest steady state, slowest first run (ONNX Runtime's default).</summary>
    Exhaustive,
    /// <summary>Pick by heuristics: quick start, kernels may be slower.</summary>
    Heuristic,
    /// <summary>cuDNN's default algorithm: quickest start, usually slowest.</summary>
    Default,
}

/// <summary>CUDA execution provider settings (device id: <see cref="ModelSessionOptions.DeviceId"/>).</summary>
public sealed record CudaProviderOptions
{
    /// <summary>Cap of the GPU memory arena in bytes; 0 = no cap (ONNX Runtime's default). A cap leaves memory for other GPU users and can fail big batches.</summary>
    [OptionKey("gpu_mem_limit"), OptionRange(0, long.MaxValue, Unit = "bytes")]
    public long GpuMemoryLimitBytes { get; init; }
    /// <summary>Convolution kernel search. Default <see cref="CudnnConvAlgoSearch.Exhaustive"/>.</summary>
    public CudnnConvAlgoSearch ConvAlgoSearch { get; init; } = CudnnConvAlgoSearch.Exhaustive;
    /// <summary>Allow TF32 math on Ampere and newer: faster float32 convolutions and matrix products, ~10 bits of mantissa. Default true.</summary>
    public bool UseTf32 { get; init; } = true;

    public void Validate(string path = "detector.cuda")
    {
        if (GpuMemoryLimitBytes < 0) throw new OptionsException($"{path}.gpu_mem_limit", $"must be >= 0 bytes (0 = no limit), got {GpuMemoryLimitBytes}");
        if (!Enum.IsDefined(ConvAlgoSearch)) throw new OptionsException($"{path}.conv_algo_search", $"unknown value {ConvAlgoSearch}");
    }
}

/// <summary>TensorRT execution provider settings (device id: <see cref="ModelSessionOptions.DeviceId"/>).</summary>
public sealed record TensorRtProviderOptions
{
    /// <summary>Build FP16 engines: about twice as fast on GPUs with tensor cores, scores may shift in the third decimal. Default false.</summary>
    public bool Fp16 { get; init; }
    /// <summary>
    /// Folder for built engines and the timing cache, created when TensorRT is used. Building an engine takes seconds to
    /// minutes per model and input shape; with a cache only the first start pays. Null or empty = no cache (default).
    /// </summary>
    [OptionKey("engine_cache_dir")]
    public string? EngineCacheDirectory { get; init; }
    /// <summary>Scratch memory TensorRT may use while building in bytes; 0 = ONNX Runtime's default. More can find faster kernels.</summary>
    [OptionKey("max_workspace_size"), OptionRange(0, long.MaxValue, Unit = "bytes")]
    public long MaxWorkspaceBytes { get; init; }

    public void Validate(string path = "detector.tensorrt")
    {
        if (MaxWorkspaceBytes < 0) throw new OptionsException($"{path}.max_workspace_size", $"must be >= 0 bytes (0 = default), got {MaxWorkspaceBytes}");
        if (!string.IsNullOrEmpty(EngineCacheDirectory) && EngineCacheDirectory.IndexOfAny(System.IO.Path.GetInvalidPathChars()) >= 0)
            throw new OptionsException($"{path}.engine_cache_dir", $"'{EngineCacheDirectory}' is not a valid path");
    }
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
    /// <summary>Providers in the order ONNX Runtime tries them, always ending with "cpu".</summary>
    public IReadOnlyList<string> ActiveProviders { get; }
    /// <summary>"provider: reason" for every requested provider that could not be used.</summary>
    public IReadOnlyList<string> SkippedProviders { get; }

    /// <summary>
    /// Loads <paramref name="path"/>; throws <see cref="ModelException"/> naming the file when it cannot, and
    /// <see cref="OptionsException"/> for invalid options.
    /// </summary>
    public static ModelSession Create(string path, ModelSessionOptions? options = null, ILogger? logger = null) =>
        Create(path, options, logger, availableProviders: null);

    /// <param name="availableProviders">Overrides what the runtime reports as compiled in (tests: exercises the append path of a GPU provider on a CPU-only build).</param>
    internal static ModelSession Create(string path, ModelSessionOptions? options, ILogger? logger, IReadOnlyList<string>? availableProviders)
    {
        options ??= new ModelSessionOptions();
        logger ??= NullLogger.Instance;
        if (!File.Exists(path)) throw new ModelException(path, "file not found");
        options.Validate();
        if (!OnnxRuntimeInfo.TryLoad(out _, out var available, out var loadError)) throw new ModelException(path, loadError);
        available = availableProviders ?? available;

        var so = NewSessionOptions(options);
        var active = new List<string>();
        var skipped = new List<string>();
        // Provider option handles stay alive until the session exists (the session reads them while it is created).
        var handles = new List<IDisposable>();
        try
        {
            foreach (var p in options.Providers)
            {
                string name = p.ToLowerInvariant();
                if (name == "cpu") continue; // appended implicitly, always last
                string ortName = name == "cuda" ? "CUDAExecutionProvider" : "TensorrtExecutionProvider";
                if (!available.Contains(ortName))
                {
                    // Expected on CPU-only machines: recorded, logged quietly.
                    Skip(name, $"not in this ONNX Runtime build (available: {string.Join(", ", available)}); `./streamvision setup --gpu` builds with the GPU packages", LogLevel.Information);
                    continue;
                }
                try
                {
                    if (name == "cuda") AppendCuda(so, options, handles);
                    else AppendTensorRt(so, options, handles);
                    active.Add(name);
                }
                catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or IOException or UnauthorizedAccessException)
                {
                    // The CPU package throws EntryPointNotFoundException (no CUDA entry point); the GPU package without
                    // CUDA/cuDNN/TensorRT libraries throws OnnxRuntimeException naming the missing library; an unusable
                    // engine cache folder IOException.
                    Skip(name, OnnxRuntimeInfo.Reason(ex));
                }
            }
            active.Add("cpu");
            InferenceSession session;
            try
            {
                session = new StreamVision.Tracking.Onnx.CountedInferenceSession(path, so);
            }
            catch (OnnxRuntimeException ex) when (active.Count > 1)
            {
                // A GPU provider appended but could not run this model (no device, driver too old, out of memory): the
                // CPU alone may still; if it cannot either, the model itself is the problem and that error is thrown.
                foreach (var gpu in active.Take(active.Count - 1)) Skip(gpu, $"session creation failed: {OnnxRuntimeInfo.Reason(ex)}");
                active.RemoveRange(0, active.Count - 1);
                using var cpuOnly = NewSessionOptions(options);
                try
                {
                    session = new StreamVision.Tracking.Onnx.CountedInferenceSession(path, cpuOnly);
                }
                catch (OnnxRuntimeException cpuEx)
                {
                    throw Unloadable(path, cpuEx);
                }
            }
            catch (OnnxRuntimeException ex)
            {
                throw Unloadable(path, ex);
            }
            logger.LogInformation("model {Model}: providers {Providers}", System.IO.Path.GetFileName(path), string.Join(" > ", active));
            return new ModelSession(path, session, active, skipped);
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
            so.Dispose();
        }

        void Skip(string name, string why, LogLevel level = LogLevel.Warning)
        {
            skipped.Add($"{name}: {why}");
            logger.Log(level, "model {Model}: execution provider {Provider} skipped: {Reason}", System.IO.Path.GetFileName(path), name, why);
        }
    }

    private static ModelException Unloadable(string path, OnnxRuntimeException ex) =>
        new(path, $"ONNX Runtime cannot load it: {ex.Message.Split('\n')[0]}", ex);

    /// <summary>
    /// A CPU session for a small per-stream stage model (enhancement, camera tamper), opened by the loader the motion model
    /// uses too (<see cref="StreamVision.Tracking.Onnx.SmallModelLoader"/>); <paramref name="check"/> reads the loaded session
    /// into the stage's model (the session is disposed when it throws). Throws <see cref="ModelException"/> naming the file
    /// when ONNX Runtime cannot load it.
    /// </summary>
    internal static T OpenStageModel<T>(string path, int threads, Func<InferenceSession, T> check) =>
        StreamVision.Tracking.Onnx.SmallModelLoader.Open(path, threads, check, (p, message, inner) => new ModelException(p, message, inner));

    /// <summary>A model's inputs or outputs as error messages name them: <c>name Float [1,3,?,?]</c> (? = any size).</summary>
    internal static string DescribeNodes(IReadOnlyDictionary<string, NodeMetadata> nodes) => StreamVision.Tracking.Onnx.SmallModelLoader.DescribeNodes(nodes);

    /// <summary>Session options every session here starts from: full graph optimisation, errors-only logging, and the
    /// caller's threads and spinning (<paramref name="options"/> null: ONNX Runtime's threads, spinning off).</summary>
    internal static SessionOptions NewSessionOptions(ModelSessionOptions? options = null)
    {
        var so = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (options?.IntraOpThreads > 0) so.IntraOpNumThreads = options.IntraOpThreads;
        // ONNX Runtime's session config keys for worker-thread spinning (intra-op and inter-op pools).
        string spin = options?.AllowSpinning == true ? "1" : "0";
        so.AddSessionConfigEntry("session.intra_op.allow_spinning", spin);
        so.AddSessionConfigEntry("session.inter_op.allow_spinning", spin);
        return so;
    }

    internal static void AppendCuda(SessionOptions so, ModelSessionOptions options, List<IDisposable> handles)
    {
        var cuda = new OrtCUDAProviderOptions();
        handles.Add(cuda);
        cuda.UpdateOptions(options.CudaProviderSettings());
        so.AppendExecutionProvider_CUDA(cuda);
    }

    internal static void AppendTensorRt(SessionOptions so, ModelSessionOptions options, List<IDisposable> handles)
    {
        var settings = options.TensorRtProviderSettings();
        if (settings.TryGetValue("trt_engine_cache_path", out var dir)) Directory.CreateDirectory(dir);
        var trt = new OrtTensorRTProviderOptions();
        handles.Add(trt);
        trt.UpdateOptions(settings);
        so.AppendExecutionProvider_Tensorrt(trt);
    }

    public void Dispose() => Session.Dispose();
}
