namespace StreamVision.Analytics;

/// <summary>Which classes a zone or line counts, and how class ids become names. Shared by both.</summary>
internal sealed class ClassFilter
{
    private readonly HashSet<string>? _classes;
    private readonly Func<int, string> _name;

    public ClassFilter(IReadOnlyList<string> classes, Func<int, string>? className)
    {
        _name = className ?? (id => id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _classes = classes.Count > 0 ? new HashSet<string>(classes, StringComparer.OrdinalIgnoreCase) : null;
    }

    public string Name(int classId) => _name(classId);

    public bool Accepts(int classId) => _classes is null || _classes.Contains(_name(classId));
}

/// <summary>Bounded per-track state: when full, the entry seen longest ago makes room.</summary>
internal static class BoundedStates
{
    /// <summary>Id of the entry with the smallest tick (the one seen longest ago).</summary>
    public static int Oldest<T>(Dictionary<int, T> states, Func<T, long> tick)
    {
        int oldest = 0;
        long min = long.MaxValue;
        foreach (var (id, s) in states)
        {
            long t = tick(s);
            if (t < min)
            {
                min = t;
                oldest = id;
            }
        }
        return oldest;
    }
}
