namespace StreamVision.Inference;

/// <summary>
/// Resolves model names to files: <c>blazeface</c> (front, 128x128: near faces) and <c>blazeface-back</c>
/// (256x256: smaller, farther faces) come from set-up's download folder; anything else is a path.
/// The folder is <c>$SV_MODELS_DIR</c>, or <c>.deps/models</c> of the checkout the program runs from.
/// </summary>
public static class ModelCatalog
{
    public const string DefaultModel = "blazeface";

    private static readonly Dictionary<string, string> s_builtIn = new(StringComparer.OrdinalIgnoreCase)
    {
        ["blazeface"] = "face_detection_front_128x128_barracuda.onnx",
        ["blazeface-back"] = "face_detection_back_256x256_barracuda.onnx",
    };

    public static IReadOnlyCollection<string> BuiltInNames => s_builtIn.Keys;

    /// <summary>The file for <paramref name="nameOrPath"/>; throws <see cref="ModelException"/> when it does not exist.</summary>
    public static string Resolve(string nameOrPath)
    {
        if (s_builtIn.TryGetValue(nameOrPath, out var file))
        {
            var dir = ModelsDirectory();
            var p = dir is null ? null : Path.Combine(dir, file);
            if (p is null || !File.Exists(p))
                throw new ModelException(nameOrPath, "built-in model not downloaded yet; run ./streamvision setup");
            return p;
        }
        if (!File.Exists(nameOrPath))
            throw new ModelException(nameOrPath, $"file not found (built-in models: {string.Join(", ", s_builtIn.Keys)})");
        return Path.GetFullPath(nameOrPath);
    }

    public static string? ModelsDirectory()
    {
        var env = Environment.GetEnvironmentVariable("SV_MODELS_DIR");
        if (!string.IsNullOrEmpty(env)) return env;
        return Core.DepsDirectory.Find("models");
    }
}
