using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using StreamVision.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Config;

/// <summary>
/// Binds YAML to options records by reflection (<see cref="OptionModel"/> says which properties and keys), collecting every
/// problem with its key path instead of stopping at the first. Per value it checks what the YAML can get wrong: kind
/// (mapping, list, single value), type, <see cref="OptionRangeAttribute"/>, <see cref="OptionPatternAttribute"/>, required
/// keys and unknown keys (naming those expected). A record whose keys bound cleanly is then checked by its own
/// <c>Validate(path)</c> (cross-field rules, files); an <see cref="OptionsException"/> becomes an error at its path, with
/// the fields it names (a property name such as <c>lowScore</c> or a key) turned into the keys of the file.
/// </summary>
/// <remarks>
/// Nested records merge: a mapping sets the keys it gives on top of the property's current value (its default, or what
/// <see cref="Inherit"/> supplies for its type). A nullable record is off when null: <c>key: false</c> or
/// <c>enabled: false</c> inside its mapping switches it off, <c>key: true</c> on with defaults; a single value sets its
/// <see cref="OptionShorthandAttribute"/> property. A single value where a list is expected is a list of one.
/// </remarks>
public sealed class OptionsBinder
{
    private const string EnabledKey = "enabled";
    private readonly List<ConfigError> _errors;
    private readonly Type _rootType;
    private readonly string _rootPath;

    /// <param name="errors">Where problems are added.</param>
    /// <param name="rootType">The record bound at <paramref name="rootPath"/>: paths from Validate methods are translated from there.</param>
    /// <param name="rootPath">Key path of the root (empty for the whole file).</param>
    public OptionsBinder(List<ConfigError> errors, Type rootType, string rootPath = "")
    {
        _errors = errors;
        _rootType = rootType;
        _rootPath = rootPath;
    }

    /// <summary>Starting values by type: a mapping for a null property of such a type starts from a copy of this value.</summary>
    public Dictionary<Type, object> Inherit { get; } = new();

    /// <summary>Binds a whole record from a mapping. Keys in <paramref name="deferred"/> count as known but are left to the caller.</summary>
    public T Bind<T>(YamlMappingNode? map, string path, bool validate = true, params string[] deferred) where T : class
    {
        var obj = Activator.CreateInstance<T>();
        if (map is null) return obj;
        var read = new HashSet<string>(deferred, StringComparer.Ordinal);
        BindMembers(typeof(T), obj, map, path, read, fromBase: false, skip: deferred);
        ReportUnknown(typeof(T), map, path, read, enabledKey: false);
        if (validate) Validate(obj, path);
        return obj;
    }

    /// <summary>Binds a list of records given at <paramref name="path"/> (the list's node; absent or null = empty).</summary>
    public List<T> BindList<T>(YamlNode? node, string path) where T : class
    {
        var list = new List<T>();
        if (IsAbsent(node)) return list;
        if (node is not YamlSequenceNode seq)
        {
            Error(path, "must be a list");
            return list;
        }
        for (int i = 0; i < seq.Children.Count; i++)
        {
            if (BindValue(typeof(T), null, seq.Children[i], $"{path}[{i}]", null, false, out var v) && v is T t) list.Add(t);
        }
        return list;
    }

    /// <summary>
    /// Runs the record's own <c>Validate(path)</c> unless one of its keys already has an error (its checks assume
    /// well-formed values; an inline record's siblings do not count).
    /// </summary>
    public void Validate(object obj, string path)
    {
        var type = obj.GetType();
        if (OptionModel.Keyed(type).Any(k => HasErrorsUnder(Key(path, k.Key)))) return;
        var method = type.GetMethod("Validate", BindingFlags.Public | BindingFlags.Instance, [typeof(string)])
            ?? type.GetMethod("Validate", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (method is null) return;
        try
        {
            method.Invoke(obj, method.GetParameters().Length == 1 ? [path] : []);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is OptionsException oe)
        {
            string message = oe.Message.StartsWith(oe.Path + ": ", StringComparison.Ordinal) ? oe.Message[(oe.Path.Length + 2)..] : oe.Message;
            _errors.Add(new ConfigError(TranslatePath(oe.Path), message));
        }
    }

    private bool HasErrorsUnder(string path) => _errors.Any(e => e.Path == path
        || e.Path.StartsWith(path + ".", StringComparison.Ordinal) || e.Path.StartsWith(path + "[", StringComparison.Ordinal));

    private void Error(string path, string message) => _errors.Add(new ConfigError(path, message));

    private static string Key(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    private static bool IsNullScalar(YamlScalarNode s) => s.Style == ScalarStyle.Plain && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>Missing, or a plain null (<c>key:</c>, <c>~</c>, <c>null</c>): the option keeps its value.</summary>
    private static bool IsAbsent(YamlNode? n) => n is null || (n is YamlScalarNode s && IsNullScalar(s));

    private static YamlNode? Find(YamlMappingNode map, string key)
    {
        foreach (var (k, v) in map.Children)
        {
            if (k is YamlScalarNode s && s.Value == key) return v;
        }
        return null;
    }

    private void BindMembers(Type type, object obj, YamlMappingNode map, string path, HashSet<string> read, bool fromBase, string[]? skip = null)
    {
        foreach (var m in OptionModel.Members(type))
        {
            if (skip is not null && skip.Contains(m.Key)) continue;
            if (m.Inline)
            {
                var inner = m.Property.GetValue(obj) is { } current ? Clone(current) : Activator.CreateInstance(m.ValueType)!;
                BindMembers(m.ValueType, inner, map, path, read, fromBase);
                Set(m, obj, inner, path);
                Validate(inner, path);
                continue;
            }
            read.Add(m.Key);
            var node = Find(map, m.Key);
            string keyPath = Key(path, m.Key);
            if (IsAbsent(node))
            {
                if (m.Required && !(fromBase && m.Property.GetValue(obj) is not (null or "")))
                {
                    if (!_errors.Any(e => e.Path == keyPath)) Error(keyPath, "missing");
                }
                continue;
            }
            if (BindValue(m.Type, m, node!, keyPath, m.Property.GetValue(obj), fromBase, out var value)) Set(m, obj, value, keyPath);
        }
    }

    private void Set(OptionMember m, object obj, object? value, string path)
    {
        try
        {
            m.Property.SetValue(obj, value);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is OptionsException oe)
        {
            // A setter that checks its value (e.g. a line's two points) reports at the key it was given under.
            Error(path, oe.Message.StartsWith(oe.Path + ": ", StringComparison.Ordinal) ? oe.Message[(oe.Path.Length + 2)..] : oe.Message);
        }
    }

    private void ReportUnknown(Type type, YamlMappingNode map, string path, HashSet<string> read, bool enabledKey)
    {
        foreach (var (k, _) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } key } || read.Contains(key) || (enabledKey && key == EnabledKey)) continue;
            var expected = OptionModel.Keyed(type).Select(m => m.Key).Concat(read).Concat(enabledKey ? [EnabledKey] : [])
                .Distinct().Order(StringComparer.Ordinal);
            Error(Key(path, key), $"unknown key (expected one of: {string.Join(", ", expected)})");
        }
    }

    /// <summary>Binds one value; false (with an error added) when it cannot be used, so the option keeps its value.</summary>
    private bool BindValue(Type type, OptionMember? m, YamlNode node, string path, object? current, bool fromBase, out object? value)
    {
        value = null;
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (m?.Separator is { } sep) return BindSeparated(t, m, sep, node, path, out value);
        if (OptionModel.IsScalar(t)) return BindScalar(t, m, node, path, out value);
        if (OptionModel.IsPoint(t)) return BindPoint(node, path, out value);
        if (OptionModel.ElementType(t) is { } elem) return BindSequence(t, elem, node, path, out value);
        if (OptionModel.DictionaryValueType(t) is { } valueType) return BindMapping(valueType, node, path, out value);
        if (OptionModel.IsRecord(t)) return BindRecord(t, m, node, path, current, fromBase, out value);
        throw new InvalidOperationException($"{path}: options of type {t} cannot be bound from YAML");
    }

    /// <summary>
    /// An option with a separator: a text takes a list too (items joined with it), a list of texts splits each item on it
    /// (<c>endpoints: "http://a:2379,http://b:2379"</c> is a list of two).
    /// </summary>
    private bool BindSeparated(Type t, OptionMember m, string sep, YamlNode node, string path, out object? value)
    {
        value = null;
        if (t == typeof(string))
        {
            if (node is not YamlSequenceNode seq) return BindScalar(t, m, node, path, out value);
            var parts = new List<string>();
            for (int i = 0; i < seq.Children.Count; i++)
            {
                if (seq.Children[i] is not YamlScalarNode { Value: { } v } item || IsNullScalar(item))
                {
                    Error($"{path}[{i}]", "must be a single value");
                    return false;
                }
                parts.Add(v.Trim());
            }
            value = string.Join(sep, parts);
            return true;
        }
        if (OptionModel.ElementType(t) == typeof(string) && !t.IsArray && !OptionModel.IsSet(t))
        {
            if (!BindSequence(t, typeof(string), node, path, out var list)) return false;
            value = ((IEnumerable<string>)list!).SelectMany(x => x.Split(sep, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            return true;
        }
        throw new InvalidOperationException($"{path}: a separator applies to a text or a list of texts, not {t}");
    }

    private bool BindRecord(Type t, OptionMember? m, YamlNode node, string path, object? current, bool fromBase, out object? value)
    {
        value = null;
        bool switchable = m?.Switchable ?? false;
        if (current is null && Inherit.TryGetValue(t, out var inherited))
        {
            current = inherited;
            fromBase = true;
        }
        if (node is YamlScalarNode s)
        {
            if (switchable && bool.TryParse(s.Value, out bool on))
            {
                value = on ? current ?? Activator.CreateInstance(t) : null;
                return true;
            }
            var shorthand = OptionModel.Members(t).FirstOrDefault(x => x.Shorthand);
            if (shorthand is null)
            {
                Error(path, switchable ? "must be a mapping (key: value lines), true or false" : "must be a mapping (key: value lines)");
                return false;
            }
            var obj = current is null ? Activator.CreateInstance(t)! : Clone(current);
            if (!BindValue(shorthand.Type, shorthand, node, path, null, fromBase, out var v)) return false;
            Set(shorthand, obj, v, path);
            Validate(obj, path);
            value = obj;
            return true;
        }
        if (node is not YamlMappingNode map)
        {
            Error(path, "must be a mapping (key: value lines)");
            return false;
        }
        bool enabledKey = switchable;
        if (enabledKey && Find(map, EnabledKey) is { } en && !IsAbsent(en))
        {
            if (!BindScalar(typeof(bool), null, en, Key(path, EnabledKey), out var enabled)) return false;
            if (enabled is false)
            {
                // Switched off: null; the other keys are only checked to be known.
                ReportUnknown(t, map, path, OptionModel.Keyed(t).Select(k => k.Key).ToHashSet(StringComparer.Ordinal), enabledKey);
                return true;
            }
        }
        var result = current is null ? Activator.CreateInstance(t)! : Clone(current);
        var read = new HashSet<string>(StringComparer.Ordinal);
        BindMembers(t, result, map, path, read, fromBase);
        ReportUnknown(t, map, path, read, enabledKey);
        Validate(result, path);
        value = result;
        return true;
    }

    private bool BindSequence(Type listType, Type elem, YamlNode node, string path, out object? value)
    {
        value = null;
        var items = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elem))!;
        if (node is YamlScalarNode && OptionModel.IsScalar(elem))
        {
            // A single value is a list of one (classes: person).
            if (!BindScalar(elem, null, node, path, out var one)) return false;
            items.Add(one);
        }
        else if (node is YamlSequenceNode seq)
        {
            bool ok = true;
            for (int i = 0; i < seq.Children.Count; i++)
            {
                var item = seq.Children[i];
                if (IsAbsent(item))
                {
                    Error($"{path}[{i}]", "must not be empty");
                    ok = false;
                }
                else if (BindValue(elem, null, item, $"{path}[{i}]", null, false, out var v)) items.Add(v);
                else ok = false;
            }
            if (!ok) return false;
        }
        else
        {
            Error(path, "must be a list");
            return false;
        }
        if (listType.IsArray)
        {
            var array = Array.CreateInstance(elem, items.Count);
            items.CopyTo(array, 0);
            value = array;
        }
        else if (OptionModel.IsSet(listType))
        {
            value = Activator.CreateInstance(typeof(HashSet<>).MakeGenericType(elem), items);
        }
        else
        {
            value = items;
        }
        return true;
    }

    private bool BindMapping(Type valueType, YamlNode node, string path, out object? value)
    {
        value = null;
        if (node is not YamlMappingNode map)
        {
            Error(path, "must be a mapping (key: value lines)");
            return false;
        }
        var dict = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType), StringComparer.Ordinal)!;
        bool ok = true;
        foreach (var (k, v) in map.Children)
        {
            if (k is not YamlScalarNode { Value: { } key })
            {
                Error(path, "keys must be single values");
                ok = false;
                continue;
            }
            if (valueType == typeof(string) && v is YamlScalarNode vs)
            {
                dict[key] = vs.Value ?? ""; // FFmpeg and header values are text as written ("key:" is an empty value)
            }
            else if (BindValue(valueType, null, v, Key(path, key), null, false, out var bound))
            {
                dict[key] = bound;
            }
            else
            {
                ok = false;
            }
        }
        value = ok ? dict : null;
        return ok;
    }

    private bool BindPoint(YamlNode node, string path, out object? value)
    {
        value = null;
        if (node is YamlSequenceNode { Children.Count: 2 } pair
            && pair.Children[0] is YamlScalarNode xs && float.TryParse(xs.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float x)
            && pair.Children[1] is YamlScalarNode ys && float.TryParse(ys.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out float y)
            && float.IsFinite(x) && float.IsFinite(y))
        {
            value = (x, y);
            return true;
        }
        Error(path, "must be a point [x, y]");
        return false;
    }

    private bool BindScalar(Type t, OptionMember? m, YamlNode node, string path, out object? value)
    {
        value = null;
        if (node is not YamlScalarNode s)
        {
            Error(path, $"must be a single value, got a {(node is YamlSequenceNode ? "list" : "mapping")}");
            return false;
        }
        string text = s.Value ?? "";
        if (t == typeof(string))
        {
            if (m?.Pattern is { } p && !Regex.IsMatch(text, p.Pattern, RegexOptions.CultureInvariant))
            {
                Error(path, $"must be {p.Description}, got '{text}'");
                return false;
            }
            value = text;
            return true;
        }
        if (t == typeof(bool))
        {
            switch (text.ToLowerInvariant())
            {
                case "true" or "yes" or "on" or "1": value = true; return true;
                case "false" or "no" or "off" or "0": value = false; return true;
                default: Error(path, $"must be true or false, got '{text}'"); return false;
            }
        }
        if (t.IsEnum)
        {
            if (OptionModel.TryParseEnum(t, text, out value)) return true;
            var names = OptionModel.EnumNames(t);
            Error(path, names.Count == 2 ? $"must be {names[0]} or {names[1]}, got '{text}'" : $"must be one of {string.Join(", ", names)}, got '{text}'");
            return false;
        }
        // Numbers and durations (a number in the unit of the key).
        var range = m?.Range;
        string rangeText = range is null ? "" : $" {OptionModel.Number(range.Min)}..{OptionModel.Number(range.Max)}";
        bool whole = OptionModel.IsWholeNumber(t);
        double x;
        if (whole)
        {
            if (!long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l))
            {
                Error(path, $"must be a whole number{rangeText}, got '{text}'");
                return false;
            }
            x = l;
        }
        else if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out x) || !double.IsFinite(x))
        {
            Error(path, $"must be a number{rangeText}, got '{text}'");
            return false;
        }
        if (range is not null && (x < range.Min || x > range.Max))
        {
            Error(path, $"must be {OptionModel.Number(range.Min)}..{OptionModel.Number(range.Max)}, got {OptionModel.Number(x)}");
            return false;
        }
        if (t == typeof(int) && x is < int.MinValue or > int.MaxValue)
        {
            Error(path, $"must be a whole number {int.MinValue}..{int.MaxValue}, got {OptionModel.Number(x)}");
            return false;
        }
        value = t == typeof(int) ? (int)x
            : t == typeof(long) ? long.Parse(text, NumberStyles.Integer, CultureInfo.InvariantCulture)
            : t == typeof(float) ? (float)x
            : t == typeof(double) ? x
            : OptionModel.ToDuration(x, m?.Key ?? path[(path.LastIndexOf('.') + 1)..]);
        return true;
    }

    /// <summary>A copy of a record (its compiler-made clone), so that binding never changes a default or an inherited value.</summary>
    private static object Clone(object o)
    {
        var clone = o.GetType().GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance);
        return clone is not null ? clone.Invoke(o, null)! : typeof(object).GetMethod("MemberwiseClone", BindingFlags.NonPublic | BindingFlags.Instance)!.Invoke(o, null)!;
    }

    /// <summary>
    /// Turns a path a Validate method reported (<c>streams[1].decoderThreads</c>, <c>detector.intra_op_threads</c>) into the
    /// keys of the file (<c>streams[1].decoder_threads</c>, <c>detector.threads</c>): each part is matched, loosely, against
    /// the property names and keys of the record at that point; what matches nothing is left as it is.
    /// </summary>
    public string TranslatePath(string path)
    {
        string rest;
        if (_rootPath.Length == 0) rest = path;
        else if (path.StartsWith(_rootPath + ".", StringComparison.Ordinal)) rest = path[(_rootPath.Length + 1)..];
        else return path;
        var parts = rest.Split('.');
        Type? type = _rootType;
        for (int i = 0; i < parts.Length && type is not null; i++)
        {
            string part = parts[i];
            int bracket = part.IndexOf('[');
            string name = bracket < 0 ? part : part[..bracket];
            string norm = OptionModel.Normalize(name);
            var m = OptionModel.Keyed(type).FirstOrDefault(k => OptionModel.Normalize(k.Key) == norm)
                ?? OptionModel.Keyed(type).FirstOrDefault(k => OptionModel.Normalize(k.Property.Name) == norm);
            if (m is null) break;
            parts[i] = m.Key + (bracket < 0 ? "" : part[bracket..]);
            var vt = m.ValueType;
            if (OptionModel.ElementType(vt) is { } elem) type = bracket < 0 ? null : elem;
            else type = OptionModel.IsRecord(vt) ? vt : null;
        }
        string translated = string.Join('.', parts);
        return _rootPath.Length == 0 ? translated : $"{_rootPath}.{translated}";
    }
}
