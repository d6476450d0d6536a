using Microsoft.Extensions.Logging;
using StreamVision.Core;

namespace StreamVision.Inference.Tests;

public class ModelSessionTests
{
    private static readonly ModelSessionOptions s_gpuOptions = new()
    {
        Providers = ["tensorrt", "cuda", "cpu"],
        DeviceId = 1,
        Cuda = new CudaProviderOptions { GpuMemoryLimitBytes = 2L << 30, ConvAlgoSearch = CudnnConvAlgoSearch.Heuristic, UseTf32 = false },
        TensorRt = new TensorRtProviderOptions { Fp16 = true, EngineCacheDirectory = "trt-cache", MaxWorkspaceBytes = 1L << 30 },
    };

    private static bool GpuBuild => OnnxRuntimeInfo.Flavour == "gpu";

    /// <summary>
    /// The GPU build (setup --gpu) lists CUDA and TensorRT; on a machine without CUDA 13 / cuDNN 9 / TensorRT 10 each is
    /// skipped with a warning naming the library that is missing, on a machine with them it is active.
    /// </summary>
    private static void AssertGpuProvidersActiveOrSkippedForAMissingLibrary(ModelSession session, ListLogger log)
    {
        foreach (var p in new[] { "tensorrt", "cuda" })
        {
            if (session.ActiveProviders.Contains(p)) continue;
            string reason = Assert.Single(session.SkippedProviders, s => s.StartsWith(p + ": ", StringComparison.Ordinal));
            Assert.Matches(@"Failed to load library libonnxruntime_providers_\w+\.so with error: \S+\.so[.\d]*: cannot open shared object file", reason);
            Assert.Contains(log.Lines, l => l.Level == LogLevel.Warning && l.Message.Contains($"execution provider {p} skipped: Failed to load library", StringComparison.Ordinal));
        }
        Assert.Equal("cpu", session.ActiveProviders[^1]);
    }

    [Fact]
    public void UnavailableGpuProvidersFallBackToCpuWithOneLogLineEach()
    {
        var log = new ListLogger();
        using var session = ModelSession.Create(TestModels.YoloV8, s_gpuOptions, log);
        if (GpuBuild)
        {
            AssertGpuProvidersActiveOrSkippedForAMissingLibrary(session, log);
            return;
        }
        Assert.Equal(["cpu"], session.ActiveProviders);
        Assert.Equal(2, session.SkippedProviders.Count);
        Assert.StartsWith("tensorrt: not in this ONNX Runtime build (available: CPUExecutionProvider)", session.SkippedProviders[0]);
        Assert.StartsWith("cuda: not in this ONNX Runtime build", session.SkippedProviders[1]);
        Assert.Contains("setup --gpu", session.SkippedProviders[1]);
        // Absent from a CPU-only build is expected, so it is one information line each, not a warning on every start.
        var lines = log.Lines.Where(l => l.Message.Contains("skipped", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(LogLevel.Information, l.Level));
        Assert.Contains("execution provider tensorrt skipped: not in this ONNX Runtime build", lines[0].Message);
        Assert.Contains("execution provider cuda skipped", lines[1].Message);
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.Contains("providers cpu"));
    }

    [Fact]
    public void GpuProviderThatFailsToAppendIsSkippedWithTheRuntimeReason()
    {
        // Pretend the build lists both GPU providers, so the full append path runs (options objects, settings, append);
        // this CPU-only library then refuses to create them, and the session must still come up on CPU.
        var cache = Path.Combine(TestEnvironment.NewTempDir(), "engines");
        var options = s_gpuOptions with { TensorRt = s_gpuOptions.TensorRt with { EngineCacheDirectory = cache } };
        var log = new ListLogger();
        using var session = ModelSession.Create(TestModels.YoloV8, options, log,
            availableProviders: ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]);
        if (GpuBuild)
        {
            AssertGpuProvidersActiveOrSkippedForAMissingLibrary(session, log);
        }
        else
        {
            Assert.Equal(["cpu"], session.ActiveProviders);
            Assert.Equal(2, session.SkippedProviders.Count);
            Assert.StartsWith("tensorrt: ", session.SkippedProviders[0]);
            Assert.Contains("TensorRT execution provider is not enabled in this build", session.SkippedProviders[0]);
            Assert.StartsWith("cuda: ", session.SkippedProviders[1]);
            Assert.Contains("CUDA execution provider is not enabled in this build", session.SkippedProviders[1]);
            Assert.Equal(2, log.Lines.Count(l => l.Level == LogLevel.Warning));
        }
        Assert.True(Directory.Exists(cache), "the engine cache folder is created when TensorRT is tried");
        // The session works.
        using var detector = OnnxDetector.Load(TestModels.YoloV8, new OnnxDetectorOptions { Session = options });
        using var frame = TestModels.ForS(5);
        Expect.Equal(Expect.Yolo(5), detector.Detect([frame])[0]);
    }

    [Fact]
    public void CudaSettingsUseTheProviderOptionNames()
    {
        Assert.Equal(new Dictionary<string, string>
        {
            ["device_id"] = "1",
            ["gpu_mem_limit"] = "2147483648",
            ["cudnn_conv_algo_search"] = "HEURISTIC",
            ["use_tf32"] = "0",
        }, s_gpuOptions.CudaProviderSettings());
        Assert.Equal(new Dictionary<string, string>
        {
            ["device_id"] = "0",
            ["cudnn_conv_algo_search"] = "EXHAUSTIVE",
            ["use_tf32"] = "1",
        }, new ModelSessionOptions().CudaProviderSettings());
    }

    [Fact]
    public void TensorRtSettingsUseTheProviderOptionNames()
    {
        string dir = Path.GetFullPath("trt-cache");
        Assert.Equal(new Dictionary<string, string>
        {
            ["device_id"] = "1",
            ["trt_fp16_enable"] = "1",
            ["trt_max_workspace_size"] = "1073741824",
            ["trt_engine_cache_enable"] = "1",
            ["trt_engine_cache_path"] = dir,
            ["trt_timing_cache_enable"] = "1",
            ["trt_timing_cache_path"] = dir,
        }, s_gpuOptions.TensorRtProviderSettings());
        Assert.Equal(new Dictionary<string, string> { ["device_id"] = "0", ["trt_fp16_enable"] = "0" },
            new ModelSessionOptions().TensorRtProviderSettings());
    }

    [Fact]
    public void CpuOnlyNeedsNoGpuAndHonoursThreads()
    {
        var log = new ListLogger();
        using var session = ModelSession.Create(TestModels.YoloV8, new ModelSessionOptions { Providers = ["cpu"], IntraOpThreads = 1 }, log);
        Assert.Equal(["cpu"], session.ActiveProviders);
        Assert.Empty(session.SkippedProviders);
        Assert.DoesNotContain(log.Lines, l => l.Level >= LogLevel.Warning);
    }

    [Theory]
    [InlineData("detector.providers", "npu")]
    [InlineData("detector.providers", "cuda", "CUDA")]
    public void UnknownOrRepeatedProvidersAreOptionErrors(string key, params string[] providers)
    {
        var ex = Assert.Throws<OptionsException>(() => ModelSession.Create(TestModels.YoloV8, new ModelSessionOptions { Providers = providers }));
        Assert.Equal(key, ex.Path);
    }

    [Fact]
    public void OutOfRangeNumbersAreOptionErrors()
    {
        Assert.Equal("detector.device_id", Assert.Throws<OptionsException>(() => new ModelSessionOptions { DeviceId = -1 }.Validate()).Path);
        Assert.Equal("detector.intra_op_threads", Assert.Throws<OptionsException>(() => new ModelSessionOptions { IntraOpThreads = -2 }.Validate()).Path);
        Assert.Equal("detector.cuda.gpu_mem_limit", Assert.Throws<OptionsException>(() =>
            new ModelSessionOptions { Cuda = new CudaProviderOptions { GpuMemoryLimitBytes = -1 } }.Validate()).Path);
        Assert.Equal("detector.tensorrt.max_workspace_size", Assert.Throws<OptionsException>(() =>
            new ModelSessionOptions { TensorRt = new TensorRtProviderOptions { MaxWorkspaceBytes = -1 } }.Validate()).Path);
    }

    [Fact]
    public void MissingAndInvalidFilesAreModelErrors()
    {
        Assert.Contains("file not found", Assert.Throws<ModelException>(() => ModelSession.Create("/nonexistent/m.onnx")).Message);
        string bogus = Path.Combine(TestEnvironment.NewTempDir(), "bogus.onnx");
        File.WriteAllBytes(bogus, [1, 2, 3, 4]);
        var ex = Assert.Throws<ModelException>(() => ModelSession.Create(bogus));
        Assert.Contains("bogus.onnx", ex.Message);
        Assert.Contains("ONNX Runtime cannot load it", ex.Message);
    }

    [Fact]
    public void ProbeCreatesARealSessionPerProvider()
    {
        var probes = OnnxRuntimeInfo.ProbeProviders();
        Assert.Equal(["tensorrt", "cuda", "cpu"], probes.Select(p => p.Name));
        var cpu = probes.Single(p => p.Name == "cpu");
        Assert.True(cpu.Usable, cpu.Reason);
        // The CPU package has no GPU providers; the GPU package lists them, and where CUDA is missing the probe names
        // the library that is (GetAvailableProviders would have claimed they work).
        Assert.All(probes.Where(p => p.Name != "cpu"), p =>
        {
            if (!GpuBuild)
            {
                Assert.False(p.Usable);
                Assert.Equal("not in this ONNX Runtime build", p.Reason);
            }
            else if (!p.Usable)
            {
                Assert.Matches(@"^Failed to load library libonnxruntime_providers_\w+\.so with error: \S+\.so[.\d]*: cannot open shared object file", p.Reason);
            }
        });
    }

    [Fact]
    public void ProbeModelIsAValidIdentityModel()
    {
        using var session = new Microsoft.ML.OnnxRuntime.InferenceSession(OnnxRuntimeInfo.IdentityModel.Value);
        Assert.Equal("x", session.InputMetadata.Keys.Single());
        Assert.Equal([1], session.InputMetadata["x"].Dimensions);
        using var input = Microsoft.ML.OnnxRuntime.OrtValue.CreateTensorValueFromMemory(new[] { 4.25f }, [1]);
        using var outputs = session.Run(new Microsoft.ML.OnnxRuntime.RunOptions(), ["x"], [input], ["y"]);
        Assert.Equal([4.25f], outputs[0].GetTensorDataAsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SpinningOnOrOffDetectsTheSame(bool spinning)
    {
        var options = new OnnxDetectorOptions { Session = new ModelSessionOptions { Providers = ["cpu"], IntraOpThreads = 2, AllowSpinning = spinning } };
        using var detector = OnnxDetector.Load(TestModels.YoloV8, options);
        using var frame = TestModels.ForS(5);
        Expect.Equal(Expect.Yolo(5), detector.Detect([frame])[0]);
    }

    [Fact]
    public void RuntimeReportsVersionAndProviders()
    {
        Assert.True(OnnxRuntimeInfo.TryLoad(out var version, out var providers, out var error), error);
        Assert.Matches(@"^1\.\d+", version);
        Assert.Contains("CPUExecutionProvider", providers);
    }
}
