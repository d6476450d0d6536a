using System.Collections;
using System.Globalization;

namespace StreamVision.App.Config;

/// <summary>
/// Prints the effective configuration (after defaults, inheritance and environment overrides) as YAML, every option with
/// its key as <see cref="OptionsBinder"/> reads it. Secrets (<see cref="Core.OptionSecretAttribute"/>) print as
/// <c>(set)</c>, passwords inside URLs as <c>***</c>; an output that is off prints as <c>false</c>, other unset values as <c>~</c>.
/// </summary>
public static class ConfigPrinter
{
    public static void Print(SvConfig c, TextWriter o) => PrintRecord(c, o, 0);

    private static void PrintRecord(object record, TextWriter o, int indent)
    {
        foreach (var m in OptionModel.Keyed(record.GetType()))
        {
            var value = OptionModel.ValueOf(record, m);
            PrintMember(m, value, o, indent);
        }
    }

    private static void PrintMember(OptionMember m, object? value, TextWriter o, int indent)
    {
        string pad = new(' ', indent);
        var t = m.ValueType;
        if (value is null && m.DefaultText is not null && OptionModel.IsRecord(t))
        {
            // A section whose absence has a meaning of its own (no cluster: a stand-alone instance) is left out, as in the file.
            return;
        }
        if (value is null)
        {
            // An output that is off says so (a ~ would inherit the instance's when read back).
            o.WriteLine($"{pad}{m.Key}: {(m.Switchable ? "false" : "~")}");
        }
        else if (m.Secret)
        {
            o.WriteLine($"{pad}{m.Key}: (set)");
        }
        else if (OptionModel.IsRecord(t))
        {
            o.WriteLine($"{pad}{m.Key}:");
            PrintRecord(value, o, indent + 2);
        }
        else if (OptionModel.ElementType(t) is { } elem && OptionModel.IsRecord(elem))
        {
            var items = ((IEnumerable)value).Cast<object>().ToList();
            o.WriteLine(items.Count == 0 ? $"{pad}{m.Key}: []" : $"{pad}{m.Key}:");
            foreach (var item in items)
            {
                var w = new StringWriter();
                PrintRecord(item, w, indent + 4);
                string text = w.ToString();
                // The first line of an item carries the list dash.
                o.Write($"{pad}  - {text.TrimStart(' ')}");
            }
        }
        else if (OptionModel.DictionaryValueType(t) is not null)
        {
            var dict = (IDictionary)value;
            o.WriteLine(dict.Count == 0 ? $"{pad}{m.Key}: {{}}" : $"{pad}{m.Key}:");
            foreach (DictionaryEntry e in dict) o.WriteLine($"{pad}  {e.Key}: {(IsSecretKey(e.Key.ToString()) ? "(set)" : Scalar(e.Value))}");
        }
        else
        {
            o.WriteLine($"{pad}{m.Key}: {Value(value, m.Key)}");
        }
    }

    private static string Value(object value, string key) => value switch
    {
        TimeSpan ts => OptionModel.Number(OptionModel.FromDuration(ts, key)),
        (float x, float y) => string.Create(CultureInfo.InvariantCulture, $"[{x}, {y}]"),
        string or bool or Enum or IConvertible => Scalar(value),
        IEnumerable list => "[" + string.Join(", ", list.Cast<object>().Select(i => i is string s ? Quote(s, flow: true) : Value(i, key))) + "]",
        _ => Scalar(value),
    };

    /// <summary>Entries of free-form maps (e.g. Kafka's <c>properties</c>) that hold a password or secret print as <c>(set)</c>.</summary>
    private static bool IsSecretKey(string? key) =>
        key is not null && (key.Contains("password", StringComparison.OrdinalIgnoreCase) || key.Contains("secret", StringComparison.OrdinalIgnoreCase));

    /// <summary>One value as YAML: numbers invariant, enums by their file names, text quoted where YAML would misread it.</summary>
    public static string Scalar(object? value) => value switch
    {
        null => "~",
        bool b => b ? "true" : "false",
        Enum e => Quote(OptionModel.EnumName(e)),
        float f => f.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString(CultureInfo.InvariantCulture),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        string s => Quote(Ingest.SourceUri.Redact(s)),
        _ => Quote(value.ToString() ?? ""),
    };

    /// <summary>Quotes text YAML would read otherwise (<paramref name="flow"/>: an item of a [a, b] list, where , [ ] { } matter too).</summary>
    private static string Quote(string s, bool flow = false)
    {
        bool plain = s.Length > 0 && !s.StartsWith(' ') && !s.EndsWith(' ') && !s.EndsWith(':') && s.IndexOfAny(['\'', '"', '\n']) < 0
            && (!flow || s.IndexOfAny([',', '[', ']', '{', '}']) < 0)
            && !s.Contains(": ", StringComparison.Ordinal) && !s.Contains(" #", StringComparison.Ordinal)
            && "[]{},&*!|>%@`-?~".IndexOf(s[0]) < 0 && s is not ("true" or "false" or "null" or "yes" or "no" or "on" or "off")
            && !double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _);
        if (plain) return s;
        return "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
    }
}
