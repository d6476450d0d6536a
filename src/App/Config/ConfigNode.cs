using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Config;

/// <summary>One problem in a configuration: the key path (<c>streams[2].uri</c>) and what is expected.</summary>
public sealed record ConfigError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>
/// A mapping of the configuration tree with its key path, for typed reads that collect every error instead of
/// stopping at the first: each read records a <see cref="ConfigError"/> naming the key and what it expects, and
/// returns the default so reading goes on. Keys never read are reported as unknown by <see cref="ReportUnknown"/>.
/// </summary>
public sealed class ConfigNode
{
    private readonly YamlMappingNode? _map;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public ConfigNode(YamlMappingNode? map, string path, List<ConfigError> errors)
    {
        _map = map;
        Path = path;
        Errors = errors;
    }

    public string Path { get; }
    public List<ConfigError> Errors { get; }
    public bool Exists => _map is not null;

    private string Key(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public void Error(string key, string message) => Errors.Add(new ConfigError(Key(key), message));

    private YamlNode? Get(string key)
    {
        _read.Add(key);
        if (_map is null) return null;
        foreach (var (k, v) in _map.Children)
        {
            if (k is YamlScalarNode s && s.Value == key) return v;
        }
        return null;
    }

    public bool Has(string key) => Get(key) is not null and not YamlScalarNode { Value: null or "" or "~" or "null" };

    private string? Scalar(string key, out bool present)
    {
        var n = Get(key);
        present = n is not null;
        if (n is null) return null;
        if (n is YamlScalarNode s)
        {
            if (s.Style == YamlDotNet.Core.ScalarStyle.Plain && s.Value is "~" or "null" or "") { present = false; return null; }
            return s.Value;
        }
        Error(key, $"must be a single value, got a {(n is YamlSequenceNode ? "list" : "mapping")}");
        present = false;
        return null;
    }

    public string String(string key, string fallback) => Scalar(key, out bool p) is { } v && p ? v : fallback;

    public string? OptionalString(string key) => Scalar(key, out _);

    public string RequiredString(string key)
    {
        var v = Scalar(key, out bool p);
        if (!p || string.IsNullOrWhiteSpace(v))
        {
            if (!Errors.Any(e => e.Path == Key(key))) Error(key, "missing");
            return "";
        }
        return v!;
    }

    public int Int(string key, int fallback, int min, int max)
    {
        var v = Scalar(key, out bool p);
        if (!p) return fallback;
        if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x)) { Error(key, $"must be a whole number {min}..{max}, got '{v}'"); return fallback; }
        if (x < min || x > max) { Error(key, $"must be {min}..{max}, got {x}"); return fallback; }
        return x;
    }

    public double Double(string key, double fallback, double min, double max)
    {
        var v = Scalar(key, out bool p);
        if (!p) return fallback;
        if (!double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) || !double.IsFinite(x))
        {
            Error(key, $"must be a number {min.ToString(CultureInfo.InvariantCulture)}..{max.ToString(CultureInfo.InvariantCulture)}, got '{v}'");
            return fallback;
        }
        if (x < min || x > max)
        {
            Error(key, string.Create(CultureInfo.InvariantCulture, $"must be {min}..{max}, got {x}"));
            return fallback;
        }
        return x;
    }

    public bool Bool(string key, bool fallback)
    {
        var v = Scalar(key, out bool p);
        if (!p) return fallback;
        switch (v!.ToLowerInvariant())
        {
            case "true" or "yes" or "on" or "1": return true;
            case "false" or "no" or "off" or "0": return false;
            default: Error(key, $"must be true or false, got '{v}'"); return fallback;
        }
    }

    public T Enum<T>(string key, T fallback) where T : struct, Enum
    {
        var v = Scalar(key, out bool p);
        if (!p) return fallback;
        string norm = v!.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal);
        if (System.Enum.TryParse<T>(norm, ignoreCase: true, out var x) && System.Enum.IsDefined(x)) return x;
        Error(key, $"must be one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}, got '{v}'");
        return fallback;
    }

    /// <summary>A list of scalars; a single scalar counts as a one-element list.</summary>
    public IReadOnlyList<string> Strings(string key, IReadOnlyList<string> fallback)
    {
        var n = Get(key);
        switch (n)
        {
            case null: return fallback;
            case YamlScalarNode s when s.Value is null or "" or "~" or "null": return fallback;
            case YamlScalarNode s: return [s.Value!];
            case YamlSequenceNode seq:
                var list = new List<string>();
                int i = 0;
                foreach (var item in seq)
                {
                    if (item is YamlScalarNode sc && sc.Value is not null) list.Add(sc.Value);
                    else Errors.Add(new ConfigError($"{Key(key)}[{i}]", "must be a single value"));
                    i++;
                }
                return list;
            default:
                Error(key, "must be a list");
                return fallback;
        }
    }

    /// <summary>Points as a list of [x, y] pairs.</summary>
    public IReadOnlyList<(float X, float Y)> Points(string key, int minPoints)
    {
        var n = Get(key);
        var list = new List<(float, float)>();
        if (n is not YamlSequenceNode seq)
        {
            Error(key, n is null ? $"missing (a list of at least {minPoints} [x, y] points)" : "must be a list of [x, y] points");
            return list;
        }
        int i = 0;
        foreach (var item in seq)
        {
            if (item is YamlSequenceNode pair && pair.Children.Count == 2
                && pair.Children[0] is YamlScalarNode xs && float.TryParse(xs.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float x)
                && pair.Children[1] is YamlScalarNode ys && float.TryParse(ys.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float y))
                list.Add((x, y));
            else Errors.Add(new ConfigError($"{Key(key)}[{i}]", "must be a point [x, y]"));
            i++;
        }
        if (list.Count < minPoints && list.Count == seq.Children.Count) Error(key, $"needs at least {minPoints} points, got {list.Count}");
        return list;
    }

    public ConfigNode Child(string key)
    {
        var n = Get(key);
        if (n is not null and not YamlMappingNode and not YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            Error(key, "must be a mapping (key: value lines)");
            n = null;
        }
        return new ConfigNode(n as YamlMappingNode, Key(key), Errors);
    }

    /// <summary>Items of a list of mappings.</summary>
    public IReadOnlyList<ConfigNode> Children(string key)
    {
        var n = Get(key);
        var list = new List<ConfigNode>();
        if (n is null or YamlScalarNode { Value: null or "" or "~" or "null" }) return list;
        if (n is not YamlSequenceNode seq)
        {
            Error(key, "must be a list");
            return list;
        }
        int i = 0;
        foreach (var item in seq)
        {
            if (item is YamlMappingNode m) list.Add(new ConfigNode(m, $"{Key(key)}[{i}]", Errors));
            else Errors.Add(new ConfigError($"{Key(key)}[{i}]", "must be a mapping (key: value lines)"));
            i++;
        }
        return list;
    }

    /// <summary>Raw mapping of string values (e.g. extra FFmpeg options).</summary>
    public IReadOnlyDictionary<string, string>? Map(string key)
    {
        var n = Get(key);
        if (n is null) return null;
        if (n is not YamlMappingNode m)
        {
            Error(key, "must be a mapping");
            return null;
        }
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in m.Children)
        {
            if (k is YamlScalarNode ks && v is YamlScalarNode vs && ks.Value is not null) d[ks.Value] = vs.Value ?? "";
            else Errors.Add(new ConfigError($"{Key(key)}", "values must be single values"));
        }
        return d;
    }

    /// <summary>Reports keys present in the file that no read asked for (typos), naming the keys that exist.</summary>
    public void ReportUnknown()
    {
        if (_map is null) return;
        foreach (var (k, _) in _map.Children)
        {
            if (k is YamlScalarNode s && s.Value is not null && !_read.Contains(s.Value))
                Errors.Add(new ConfigError(Key(s.Value), $"unknown key (expected one of: {string.Join(", ", _read.Order(StringComparer.Ordinal))})"));
        }
    }
}
