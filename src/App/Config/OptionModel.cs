using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text;
using StreamVision.Core;

namespace StreamVision.App.Config;

/// <summary>One option of an options record as configuration files see it: its key, kind and the attributes that shape it.</summary>
public sealed class OptionMember
{
    internal OptionMember(PropertyInfo property, Type owner)
    {
        Property = property;
        Owner = owner;
        Inline = property.IsDefined(typeof(OptionInlineAttribute));
        Key = Inline ? "" : property.GetCustomAttribute<OptionKeyAttribute>()?.Key ?? OptionModel.SnakeCase(property.Name);
        Required = !Inline && (property.IsDefined(typeof(OptionRequiredAttribute))
            || property.IsDefined(typeof(System.Runtime.CompilerServices.RequiredMemberAttribute)));
        Nullable = System.Nullable.GetUnderlyingType(property.PropertyType) is not null
            || (!property.PropertyType.IsValueType && new NullabilityInfoContext().Create(property).WriteState == NullabilityState.Nullable);
        Range = property.GetCustomAttribute<OptionRangeAttribute>();
        Pattern = property.GetCustomAttribute<OptionPatternAttribute>();
        Secret = property.IsDefined(typeof(OptionSecretAttribute));
        Shorthand = property.IsDefined(typeof(OptionShorthandAttribute));
        DefaultText = property.GetCustomAttribute<OptionDefaultAttribute>()?.Text;
        Separator = property.GetCustomAttribute<OptionSeparatorAttribute>()?.Separator;
        if (ValueType == typeof(TimeSpan) && OptionModel.DurationUnit(Key) is null)
            throw new InvalidOperationException($"{owner.Name}.{property.Name}: a duration's key must end in _ms or _seconds, got '{Key}'");
    }

    public PropertyInfo Property { get; }
    /// <summary>The options record that declares the property.</summary>
    public Type Owner { get; }
    /// <summary>Key in the file; empty for an inline record, whose own keys sit at this level.</summary>
    public string Key { get; }
    public bool Inline { get; }
    /// <summary>A file must give the key (C# <c>required</c> or <see cref="OptionRequiredAttribute"/>).</summary>
    public bool Required { get; }
    /// <summary>null is a value of its own (an output switched off, a default worked out elsewhere).</summary>
    public bool Nullable { get; }
    /// <summary>A nullable record that is off when null: <c>key: true/false</c> and <c>enabled:</c> in its mapping switch it.</summary>
    public bool Switchable => Nullable && DefaultText is null && OptionModel.IsRecord(ValueType) && !OptionModel.Keyed(ValueType).Any(k => k.Key == "enabled");
    public OptionRangeAttribute? Range { get; }
    public OptionPatternAttribute? Pattern { get; }
    public bool Secret { get; }
    public bool Shorthand { get; }
    public string? DefaultText { get; }
    /// <summary>Values may come in one text split on this (<see cref="OptionSeparatorAttribute"/>); null = no.</summary>
    public string? Separator { get; }
    public Type Type => Property.PropertyType;
    /// <summary>The type without <see cref="System.Nullable{T}"/>.</summary>
    public Type ValueType => System.Nullable.GetUnderlyingType(Type) ?? Type;
}

/// <summary>
/// What the binder (<see cref="OptionsBinder"/>), the printer and the generated reference agree on: which properties of an
/// options record are options, their keys (snake_case of the name unless <see cref="OptionKeyAttribute"/> says otherwise),
/// and how each .NET type is written in YAML.
/// </summary>
public static class OptionModel
{
    private static readonly ConcurrentDictionary<Type, IReadOnlyList<OptionMember>> s_members = new();

    /// <summary>
    /// The options of <paramref name="type"/> in declaration order: public properties with a public setter (init-only
    /// included), less those marked <see cref="OptionIgnoreAttribute"/>. Inline records are members with an empty key.
    /// </summary>
    public static IReadOnlyList<OptionMember> Members(Type type) => s_members.GetOrAdd(type, t =>
        t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true } && p.SetMethod is { IsPublic: true }
                && !p.IsDefined(typeof(OptionIgnoreAttribute)))
            .OrderBy(p => p.MetadataToken)
            .Select(p => new OptionMember(p, t))
            .ToList());

    /// <summary>The keys written at the level of <paramref name="type"/>: its own and those of its inline records.</summary>
    public static IEnumerable<OptionMember> Keyed(Type type) =>
        Members(type).SelectMany(m => m.Inline ? Keyed(m.ValueType) : [m]);

    /// <summary>The value of a keyed member of <paramref name="record"/>, reached through the inline records that hold it.</summary>
    public static object? ValueOf(object record, OptionMember target)
    {
        foreach (var m in Members(record.GetType()))
        {
            if (m == target) return m.Property.GetValue(record);
            if (m.Inline && m.Property.GetValue(record) is { } inner && Keyed(m.ValueType).Contains(target)) return ValueOf(inner, target);
        }
        throw new ArgumentException($"{target.Key} is not an option of {record.GetType().Name}", nameof(target));
    }

    /// <summary>Every options record reachable from <paramref name="root"/> (itself, nested, list items and inline records).</summary>
    public static IReadOnlySet<Type> Reachable(Type root)
    {
        var seen = new HashSet<Type>();
        var stack = new Stack<Type>([root]);
        while (stack.Count > 0)
        {
            var t = stack.Pop();
            if (!seen.Add(t)) continue;
            foreach (var m in Members(t))
            {
                var v = m.ValueType;
                var r = IsRecord(v) ? v : ElementType(v) is { } e && IsRecord(e) ? e : null;
                if (r is not null) stack.Push(r);
            }
        }
        return seen;
    }

    /// <summary>Public properties that are deliberately not options, with the reason (for the reference).</summary>
    public static IEnumerable<(PropertyInfo Property, string Reason)> Ignored(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Select(p => (p, p.GetCustomAttribute<OptionIgnoreAttribute>()?.Reason))
            .Where(x => x.Reason is not null)
            .OrderBy(x => x.p.MetadataToken)
            .Select(x => (x.p, x.Reason!));

    /// <summary>MaxBatch -> max_batch, HwAccel -> hw_accel, UseTf32 -> use_tf32, IoTimeoutSeconds -> io_timeout_seconds.</summary>
    public static string SnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                char prev = name[i - 1];
                bool nextLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(prev) || char.IsDigit(prev) || (char.IsUpper(prev) && nextLower)) sb.Append('_');
            }
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>Unit of a duration by its key: <c>_ms</c> milliseconds, <c>_seconds</c> seconds; null for other keys.</summary>
    public static string? DurationUnit(string key) =>
        key.EndsWith("_ms", StringComparison.Ordinal) ? "ms" : key.EndsWith("_seconds", StringComparison.Ordinal) ? "s" : null;

    public static TimeSpan ToDuration(double value, string key) =>
        DurationUnit(key) == "ms" ? TimeSpan.FromMilliseconds(value) : TimeSpan.FromSeconds(value);

    public static double FromDuration(TimeSpan value, string key) =>
        DurationUnit(key) == "ms" ? value.TotalMilliseconds : value.TotalSeconds;

    public static bool IsNumber(Type t) => t == typeof(int) || t == typeof(long) || t == typeof(float) || t == typeof(double);

    public static bool IsWholeNumber(Type t) => t == typeof(int) || t == typeof(long);

    public static bool IsPoint(Type t) => t == typeof(ValueTuple<float, float>);

    /// <summary>Written as one YAML value (not a mapping or a list).</summary>
    public static bool IsScalar(Type t)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        return t == typeof(string) || t == typeof(bool) || IsNumber(t) || t.IsEnum || t == typeof(TimeSpan);
    }

    /// <summary>The element type of a list or set option, else null.</summary>
    public static Type? ElementType(Type t)
    {
        if (t == typeof(string)) return null;
        if (t.IsArray) return t.GetElementType();
        if (!t.IsGenericType) return null;
        var def = t.GetGenericTypeDefinition();
        if (def == typeof(IReadOnlyList<>) || def == typeof(IList<>) || def == typeof(List<>) || def == typeof(IEnumerable<>)
            || def == typeof(IReadOnlyCollection<>) || def == typeof(IReadOnlySet<>) || def == typeof(ISet<>) || def == typeof(HashSet<>))
            return t.GetGenericArguments()[0];
        return null;
    }

    public static bool IsSet(Type t) =>
        t.IsGenericType && t.GetGenericTypeDefinition() is var d && (d == typeof(IReadOnlySet<>) || d == typeof(ISet<>) || d == typeof(HashSet<>));

    /// <summary>The value type of a mapping option with string keys, else null.</summary>
    public static Type? DictionaryValueType(Type t)
    {
        if (!t.IsGenericType) return null;
        var def = t.GetGenericTypeDefinition();
        if ((def == typeof(IReadOnlyDictionary<,>) || def == typeof(IDictionary<,>) || def == typeof(Dictionary<,>))
            && t.GetGenericArguments()[0] == typeof(string))
            return t.GetGenericArguments()[1];
        return null;
    }

    /// <summary>An options record: a class (not a collection) with options of its own.</summary>
    public static bool IsRecord(Type t) =>
        t.IsClass && t != typeof(string) && ElementType(t) is null && DictionaryValueType(t) is null && Members(t).Count > 0;

    /// <summary>The names of an enum's values as files write them (the first of <see cref="OptionNameAttribute"/>, else snake_case).</summary>
    public static IReadOnlyList<string> EnumNames(Type enumType) =>
        enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => EnumNamesOf(f)[0]).ToList();

    public static string EnumName(object value)
    {
        var f = value.GetType().GetField(value.ToString()!, BindingFlags.Public | BindingFlags.Static);
        return f is null ? value.ToString()!.ToLowerInvariant() : EnumNamesOf(f)[0];
    }

    /// <summary>Parses an enum value: any of its names, case-insensitive, with '_' and '-' ignored.</summary>
    public static bool TryParseEnum(Type enumType, string text, out object? value)
    {
        string norm = Normalize(text);
        foreach (var f in enumType.GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (EnumNamesOf(f).Any(n => Normalize(n) == norm) || Normalize(f.Name) == norm)
            {
                value = f.GetValue(null);
                return true;
            }
        }
        value = null;
        return false;
    }

    private static IReadOnlyList<string> EnumNamesOf(FieldInfo f) =>
        f.GetCustomAttribute<OptionNameAttribute>()?.Names is { Count: > 0 } names ? names : [SnakeCase(f.Name)];

    /// <summary>Lower case without '_' and '-': how keys and names are compared when a path or a value is matched loosely.</summary>
    public static string Normalize(string s) =>
        s.Replace("_", "", StringComparison.Ordinal).Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>A number as files write it.</summary>
    public static string Number(double x) => x.ToString("0.###############", CultureInfo.InvariantCulture);
}
