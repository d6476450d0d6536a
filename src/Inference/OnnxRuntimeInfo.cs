using Microsoft.ML.OnnxRuntime;

namespace StreamVision.Inference;

/// <summary>What the ONNX Runtime native library in use is and can do.</summary>
public static class OnnxRuntimeInfo
{
    /// <summary>Loads the native library; false with the reason when it cannot be loaded.</summary>
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
}
