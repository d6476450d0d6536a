using System.Collections;
using System.Reflection;

namespace StreamVision.App.Config;

/// <summary>
/// Structural equality of configuration values, for reloads: two loads of the same file give equal records. A record's
/// own <c>==</c> compares its lists (a zone's corners, <c>classes</c>, <c>obscure</c>, <c>providers</c>) by reference,
/// and every load makes new lists, so an unchanged stream looked changed and restarted on every SIGHUP.
/// </summary>
internal static class ConfigEquality
{
    /// <summary>
    /// True when <paramref name="a"/> and <paramref name="b"/> hold the same values: strings, numbers, enums and other value
    /// types by <c>Equals</c>; dictionaries by key; other sequences item by item, in order; any other object by its public
    /// properties, recursively.
    /// </summary>
    public static bool Equal(object? a, object? b) => Equal(a, b, 0);

    private static bool Equal(object? a, object? b, int depth)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a is null || b is null) return false;
        var type = a.GetType();
        if (type != b.GetType()) return false;
        if (a is string || type.IsValueType || a is Uri) return a.Equals(b);
        // Configuration is a tree of records a few levels deep; anything deeper is a cycle, not a configuration.
        if (depth > 32) throw new InvalidOperationException($"{type.Name}: nested too deeply to compare");
        if (a is IDictionary da)
        {
            var db = (IDictionary)b;
            if (da.Count != db.Count) return false;
            foreach (DictionaryEntry e in da)
            {
                if (!db.Contains(e.Key) || !Equal(e.Value, db[e.Key], depth + 1)) return false;
            }
            return true;
        }
        if (a is IEnumerable ea)
        {
            var eb = ((IEnumerable)b).GetEnumerator();
            try
            {
                foreach (object? item in ea)
                {
                    if (!eb.MoveNext() || !Equal(item, eb.Current, depth + 1)) return false;
                }
                return !eb.MoveNext();
            }
            finally
            {
                (eb as IDisposable)?.Dispose();
            }
        }
        foreach (var p in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (p.GetIndexParameters().Length > 0 || p.GetMethod is null) continue;
            if (!Equal(p.GetValue(a), p.GetValue(b), depth + 1)) return false;
        }
        return true;
    }
}
