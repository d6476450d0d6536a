using System.Text;
using Microsoft.ML.OnnxRuntime;

namespace StreamVision.Inference;

/// <summary>What the ONNX Runtime native library in use is and can do.</summary>
public static class OnnxRuntimeInfo
{
    /// <summary>"cpu" or "gpu": which ONNX Runtime package this build was made with (build property OrtFlavour).</summary>
    public static string Flavour { get; } =
        typeof(OnnxRuntimeInfo).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "OrtFlavour")?.Value ?? "cpu";

    /// <summary>Loads the native library; false with the reason when it cannot be loaded.</summary>
    /// <param name="providers">What the library says it was built with. Not proof that a provider loads: see <see cref="ProbeProviders"/>.</param>
    public static bool TryLoad(out string version, out IReadOnlyList<string> providers, out string error)
    {
        try
        {
            var env = OrtEnv.Instance();
            version = env.GetVersionString();
            providers = env.GetAvailableProviders();
            error = "";
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException or OnnxRuntimeException)
        {
            version = "";
            providers = [];
            error = $"ONNX Runtime native library could not be loaded ({ex.GetBaseException().Message}); run ./streamvision setup";
            return false;
        }
    }

    /// <summary>One execution provider and whether a session can really be created with it here.</summary>
    public sealed record ProviderProbe(string Name, bool Usable, string Reason);

    /// <summary>
    /// Creates a session on a one-node model with each provider the library lists (CUDA and TensorRT are listed by the
    /// GPU build even when CUDA, cuDNN or TensorRT cannot be loaded), and reports which really work and why the others
    /// do not. The CPU provider is always probed.
    /// </summary>
    public static IReadOnlyList<ProviderProbe> ProbeProviders(ModelSessionOptions? options = null)
    {
        options ??= new ModelSessionOptions();
        if (!TryLoad(out _, out var listed, out var error)) return [new ProviderProbe("cpu", false, error)];
        var result = new List<ProviderProbe>();
        foreach (var (name, ortName) in new[] { ("tensorrt", "TensorrtExecutionProvider"), ("cuda", "CUDAExecutionProvider") })
        {
            if (!listed.Contains(ortName))
            {
                result.Add(new ProviderProbe(name, false, "not in this ONNX Runtime build"));
                continue;
            }
            result.Add(Probe(name, (so, handles) =>
            {
                if (name == "cuda") ModelSession.AppendCuda(so, options, handles);
                else ModelSession.AppendTensorRt(so, options, handles);
            }));
        }
        result.Add(Probe("cpu", (_, _) => { }));
        return result;
    }

    private static ProviderProbe Probe(string name, Action<SessionOptions, List<IDisposable>> append)
    {
        // Provider option handles stay alive until the session exists (it reads them while it is created).
        var handles = new List<IDisposable>();
        try
        {
            using var so = ModelSession.NewSessionOptions();
            append(so, handles);
            using var session = new StreamVision.Tracking.Onnx.CountedInferenceSession(IdentityModel.Value, so);
            return new ProviderProbe(name, true, "");
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException or IOException)
        {
            return new ProviderProbe(name, false, Reason(ex));
        }
        finally
        {
            foreach (var h in handles) h.Dispose();
        }
    }

    /// <summary>
    /// The useful part of an ONNX Runtime error, on one line: "Failed to load library libonnxruntime_providers_cuda.so
    /// with error: libcublasLt.so.13: cannot open shared object file..." instead of the source location and full paths.
    /// </summary>
    public static string Reason(Exception ex)
    {
        string m = ex.GetBaseException().Message.Split('\n')[0].Trim();
        int fail = m.LastIndexOf("FAIL : ", StringComparison.Ordinal);
        if (fail >= 0) m = m[(fail + "FAIL : ".Length)..];
        // "/any/folder/libonnxruntime_providers_cuda.so" -> "libonnxruntime_providers_cuda.so"
        return System.Text.RegularExpressions.Regex.Replace(m, @"(?<=\s)/\S*/(?=[^/\s]+\.so)", "");
    }

    /// <summary>A valid ONNX model of one Identity node on a float[1] tensor, encoded here (protobuf) so a probe needs no file.</summary>
    internal static readonly Lazy<byte[]> IdentityModel = new(() =>
    {
        static byte[] Dims() => Message(1, Varint(1, 1));                                     // shape body: dim { dim_value: 1 }
        static byte[] ValueInfo(string n) =>
            [.. Text(1, n), .. Message(2, Message(1, [.. Varint(1, 1), .. Message(2, Dims())]))]; // name, type.tensor_type{elem_type FLOAT, shape}
        byte[] node = [.. Text(1, "x"), .. Text(2, "y"), .. Text(4, "Identity")];
        byte[] graph = [.. Message(1, node), .. Text(2, "probe"), .. Message(11, ValueInfo("x")), .. Message(12, ValueInfo("y"))];
        return [.. Varint(1, 7), .. Message(7, graph), .. Message(8, Varint(2, 13))];         // ir_version 7, graph, opset 13
    });

    private static byte[] Varint(int field, ulong value) => [.. Key(field, 0), .. Leb128(value)];
    private static byte[] Text(int field, string s) => Message(field, Encoding.UTF8.GetBytes(s));
    private static byte[] Message(int field, byte[] body) => [.. Key(field, 2), .. Leb128((ulong)body.Length), .. body];
    private static byte[] Key(int field, int wireType) => Leb128((ulong)((field << 3) | wireType));

    private static byte[] Leb128(ulong v)
    {
        var b = new List<byte>();
        do
        {
            byte x = (byte)(v & 0x7F);
            v >>= 7;
            b.Add(v != 0 ? (byte)(x | 0x80) : x);
        } while (v != 0);
        return [.. b];
    }
}
