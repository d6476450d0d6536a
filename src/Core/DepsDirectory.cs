namespace StreamVision.Core;

/// <summary>Finds what set-up put in <c>.deps/</c> (native shim, models) from wherever the program runs inside the checkout.</summary>
public static class DepsDirectory
{
    /// <summary>The nearest <c>.deps/<paramref name="relativePath"/></c> (file or folder) above the program's folder, or null.</summary>
    public static string? Find(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, ".deps", relativePath);
            if (File.Exists(p) || Directory.Exists(p)) return p;
        }
        return null;
    }
}
