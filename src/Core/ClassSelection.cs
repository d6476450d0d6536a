using System.Globalization;

namespace StreamVision.Core;

/// <summary>
/// Classes a user names (configuration, command line) checked against a model's class names: one rule and one message for
/// every list that picks classes (<c>detector.classes</c>, <c>classifier.classes</c>, <c>sinks.obscure</c>).
/// </summary>
public static class ClassSelection
{
    /// <summary>
    /// Class ids from names (any case) or numeric ids. Throws <see cref="OptionsException"/> at <paramref name="path"/>
    /// naming every name that is none of <paramref name="names"/> (<paramref name="owner"/> says whose they are).
    /// </summary>
    public static HashSet<int> Resolve(IEnumerable<string> classes, IReadOnlyList<string> names, string path, string owner = "this model")
    {
        var ids = new HashSet<int>();
        var unknown = new List<string>();
        foreach (var c in classes)
        {
            if (int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id)) ids.Add(id);
            else
            {
                int i = IndexOf(names, c);
                if (i >= 0) ids.Add(i);
                else unknown.Add(c);
            }
        }
        if (unknown.Count > 0) throw Unknown(path, unknown, names, owner);
        return ids;
    }

    /// <summary>
    /// Throws <see cref="OptionsException"/> at <paramref name="path"/> when a class is none of <paramref name="names"/>
    /// (names only, no ids). A model without class names is not checked.
    /// </summary>
    public static void CheckNames(IEnumerable<string>? classes, IReadOnlyList<string> names, string path)
    {
        if (classes is null || names.Count == 0) return;
        var unknown = classes.Where(c => IndexOf(names, c) < 0).ToList();
        if (unknown.Count > 0) throw Unknown(path, unknown, names, "this model");
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        }
        return -1;
    }

    private static OptionsException Unknown(string path, List<string> unknown, IReadOnlyList<string> names, string owner) =>
        new(path, $"not classes of {owner}: {string.Join(", ", unknown)} (it has: {string.Join(", ", names.Take(20))}{(names.Count > 20 ? ", ..." : "")})");
}
