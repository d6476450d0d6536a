namespace StreamVision.Tracking.Tests;

/// <summary>
/// The shared evaluation data (MOT15 sequences, py-motmetrics reference files), read in place from
/// <c>../shared/data</c> beside the repository root. Tests that use it fail, never skip, when it is missing.
/// </summary>
internal static class SharedData
{
    /// <summary>Absolute path of the data folder; throws with an explanation when it is absent.</summary>
    public static string Root => TestEnvironment.SharedData;

    /// <summary>A file under the data folder; throws when it does not exist.</summary>
    public static string File(params string[] parts)
    {
        string path = Path.Combine([Root, .. parts]);
        if (!System.IO.File.Exists(path))
            throw new FileNotFoundException($"Shared evaluation file missing: {path} (expected inside {Root}; see its README.md).", path);
        return path;
    }
}
