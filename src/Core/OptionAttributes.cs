namespace StreamVision.Core;

// How an options record meets the configuration file. The records stay plain (init-only properties, a Validate(path)
// method); these attributes only say what the reflection binder in App/Config and the generated reference
// (docs/configuration.md) cannot derive themselves. A property's key is its name in snake_case unless OptionKey says
// otherwise; its documentation is its XML doc comment.

/// <summary>The option's key in configuration files when it is not the property name in snake_case.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionKeyAttribute(string key) : Attribute
{
    public string Key { get; } = key;
}

/// <summary>Not read from configuration files; <see cref="Reason"/> says where the value comes from instead.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionIgnoreAttribute(string reason) : Attribute
{
    public string Reason { get; } = reason;
}

/// <summary>The keys of this nested options record are written at the level of its owner, without a mapping of their own.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionInlineAttribute : Attribute;

/// <summary>
/// Inclusive range of a number. Durations (<see cref="TimeSpan"/>) are given in the unit their key ends with
/// (<c>_ms</c> or <c>_seconds</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionRangeAttribute(double min, double max) : Attribute
{
    public double Min { get; } = min;
    public double Max { get; } = max;
    /// <summary>Unit shown with the range in the reference (e.g. "frames", "pixels"); null when the key or the type says it.</summary>
    public string? Unit { get; init; }
}

/// <summary>A configuration file must give this key, even though the type has a default for code that builds it.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionRequiredAttribute : Attribute;

/// <summary>
/// A single value written where this options record's mapping is expected sets this property, the others keep their
/// defaults (<c>snapshots: out/snaps</c> is <c>snapshots: {directory: out/snaps}</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionShorthandAttribute : Attribute;

/// <summary>A text option must match <see cref="Pattern"/> (a regular expression); <see cref="Description"/> says what in words.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionPatternAttribute(string pattern, string description) : Attribute
{
    public string Pattern { get; } = pattern;
    public string Description { get; } = description;
}

/// <summary>A password or token: printed as <c>(set)</c>, never its value (for a mapping: each of its values).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionSecretAttribute : Attribute;

/// <summary>
/// The default in words, where the value in code is not what a reader should see (the host name, a computed default). On a
/// nullable options record it says what null stands for, so such a record has no on/off switch (<c>key: false</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionDefaultAttribute(string text) : Attribute
{
    public string Text { get; } = text;
}

/// <summary>How an enum member is written in configuration files (the first name; the others are accepted too).</summary>
[AttributeUsage(AttributeTargets.Field)]
public sealed class OptionNameAttribute(params string[] names) : Attribute
{
    public IReadOnlyList<string> Names { get; } = names;
}

/// <summary>
/// Several values may be given in one text separated by <see cref="Separator"/> (handy in environment variables): a list
/// option splits each of its items on it; a text option also takes a list, whose items it joins with it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class OptionSeparatorAttribute(string separator) : Attribute
{
    public string Separator { get; } = separator;
}
