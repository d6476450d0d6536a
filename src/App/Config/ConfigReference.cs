using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace StreamVision.App.Config;

/// <summary>
/// Writes docs/configuration.md from the options types themselves: every key (<see cref="OptionModel"/>), its type,
/// default (from a default instance), range (<see cref="Core.OptionRangeAttribute"/>) and description (the property's XML
/// doc comment, read from the doc files built next to the assemblies). <c>streamvision config reference</c> prints it; a
/// test fails when the checked-in file differs.
/// </summary>
public static partial class ConfigReference
{
    /// <summary>How to bring the checked-in reference up to date.</summary>
    public const string RegenerateCommand = "./streamvision config reference > docs/configuration.md";

    public static string Generate()
    {
        var sb = new StringBuilder();
        sb.Append(Intro).Append("\n\n");
        // Each record once, at the first path it is met on, its nested records right after it.
        var sections = new List<(string Path, Type Type)>();
        var documented = new Dictionary<Type, string>();
        void Walk(string path, Type type)
        {
            documented[type] = path;
            sections.Add((path, type));
            foreach (var m in OptionModel.Keyed(type))
            {
                if (ChildRecord(m) is not { } child || documented.ContainsKey(child)) continue;
                Walk(Join(path, m.Key) + (OptionModel.ElementType(m.ValueType) is not null ? "[]" : ""), child);
            }
        }
        Walk("", typeof(SvConfig));
        foreach (var (path, type) in sections) WriteSection(sb, path, type, TitleOf(path), documented);
        return sb.ToString();
    }

    private const string Intro = """
        # Configuration reference

        <!-- Generated from the options types by `streamvision config reference`; do not edit by hand. -->

        One YAML file describes an instance (`./streamvision run -c FILE`; `./streamvision config check FILE` prints the
        effective settings or every mistake with its key path). Each stage is configured by its own options type, and this
        page is generated from those types: a key is the property's name in snake_case, its description the property's
        documentation, its default the type's own.

        How values are written:

        - Key paths are written as in the file: `detector.batch.max_size` is `max_size` inside `batch` inside `detector`;
          `streams[]` is each item of the `streams` list.
        - A key left out (or written `key:` / `~`) keeps its default. Unknown keys are errors that name the expected ones.
        - Durations are numbers in the unit their key ends with (`_ms` milliseconds, `_seconds` seconds).
        - A single value where a list is expected is a list of one (`classes: person`).
        - Outputs and other optional mappings are off when absent; `key: false` or `enabled: false` inside the mapping
          switches one off, `key: true` on with its defaults. Where a row says so, a single value stands for the mapping's
          main key (`snapshots: out/snaps` is `snapshots: {directory: out/snaps}`).
        - Paths, folders and topics of outputs take `{instance}` and `{stream}`, replaced per stream.
        - Environment variables override any key: `SV__` and the key path in capitals with `__` between levels and list
          indices as numbers, e.g. `SV__DETECTOR__CONFIDENCE=0.6`, `SV__STREAMS__0__URI=rtsp://user:pass@cam/1`,
          `SV__SINKS__MQTT__PASSWORD=...`.
        """;

    private static string Join(string path, string key) => path.Length == 0 ? key : $"{path}.{key}";

    /// <summary>The record a member leads to (a nested mapping, or the items of a list), else null.</summary>
    private static Type? ChildRecord(OptionMember m)
    {
        var t = m.ValueType;
        if (OptionModel.IsRecord(t)) return t;
        return OptionModel.ElementType(t) is { } e && OptionModel.IsRecord(e) ? e : null;
    }

    private static string TitleOf(string path) => path switch
    {
        "" => "Instance",
        "streams[]" => "Streams",
        "sinks" => "Sinks",
        _ => $"`{path}`",
    };

    private static void WriteSection(StringBuilder sb, string path, Type type, string title, Dictionary<Type, string> documented)
    {
        sb.Append("## ").Append(title).Append("\n\n");
        var types = new List<Type> { type };
        types.AddRange(InlineTypes(type));
        sb.Append("Options type").Append(types.Count > 1 ? "s" : "").Append(": ")
            .AppendJoin(", ", types.Select(t => $"`{t.Name}`")).Append(path.Length > 0 ? $" — keys under `{path}`" : " — keys at the top level").Append(".");
        string summary = Docs.Summary(type);
        if (summary.Length > 0) sb.Append(' ').Append(summary);
        sb.Append("\n\n| key | type | default | range | description |\n|---|---|---|---|---|\n");
        foreach (var m in OptionModel.Keyed(type))
        {
            string key = Join(path, m.Key);
            sb.Append("| `").Append(key).Append("` | ").Append(Cell(TypeText(m, documented)))
                .Append(" | ").Append(Cell(DefaultText(m))).Append(" | ").Append(Cell(RangeText(m)))
                .Append(" | ").Append(Cell(Description(m))).Append(" |\n");
        }
        var ignored = types.SelectMany(OptionModel.Ignored).ToList();
        if (ignored.Count > 0)
        {
            sb.Append("\nNot set in the file: ")
                .AppendJoin("; ", ignored.Select(i => $"`{i.Property.DeclaringType!.Name}.{i.Property.Name}` ({i.Reason})")).Append(".\n");
        }
        sb.Append('\n');
    }

    private static IEnumerable<Type> InlineTypes(Type t) =>
        OptionModel.Members(t).Where(m => m.Inline).SelectMany(m => new[] { m.ValueType }.Concat(InlineTypes(m.ValueType)));

    private static string Cell(string s) => s.Replace("|", "\\|", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);

    private static string TypeText(OptionMember m, Dictionary<Type, string> documented)
    {
        var t = m.ValueType;
        string Link(Type r) => documented.TryGetValue(r, out var p) ? $"[`{p}`](#{Anchor(r, documented)})" : r.Name;
        if (OptionModel.IsRecord(t))
        {
            string s = $"mapping, see {Link(t)}";
            if (OptionModel.Members(t).FirstOrDefault(x => x.Shorthand) is { } sh) s += $"; or a single value: its `{sh.Key}`";
            if (m.Switchable)
                s += OptionModel.Keyed(t).Any(k => k.Required) ? "; or `false`" : "; or `true`/`false`";
            return s;
        }
        if (OptionModel.ElementType(t) is { } e)
            return OptionModel.IsRecord(e) ? $"list of mappings, see {Link(e)}" : $"list of {ScalarType(e, m.Key)}";
        if (OptionModel.DictionaryValueType(t) is { } v) return $"mapping of {ScalarType(v, m.Key)}";
        return ScalarType(t, m.Key);
    }

    private static string ScalarType(Type t, string key)
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t == typeof(string)) return "text";
        if (t == typeof(bool)) return "true/false";
        if (OptionModel.IsWholeNumber(t)) return "whole number";
        if (t == typeof(float) || t == typeof(double)) return "number";
        if (t == typeof(TimeSpan)) return $"duration ({(OptionModel.DurationUnit(key) == "ms" ? "milliseconds" : "seconds")})";
        if (OptionModel.IsPoint(t)) return "point [x, y]";
        if (t.IsEnum) return string.Join(" | ", OptionModel.EnumNames(t).Select(n => $"`{n}`"));
        return t.Name;
    }

    private static readonly ConcurrentDictionary<Type, object?> s_defaults = new();

    private static string DefaultText(OptionMember m)
    {
        if (m.DefaultText is { } text) return text;
        if (m.Required) return "(required)";
        var owner = s_defaults.GetOrAdd(m.Owner, t => Activator.CreateInstance(t));
        var value = owner is null ? null : m.Property.GetValue(owner);
        if (value is null) return OptionModel.IsRecord(m.ValueType) ? "off" : "none";
        if (OptionModel.IsRecord(m.ValueType)) return m.Nullable ? "on" : "";
        if (value is string s) return s.Length == 0 ? "`\"\"`" : $"`{s}`";
        if (value is TimeSpan ts) return $"`{OptionModel.Number(OptionModel.FromDuration(ts, m.Key))}`";
        if (value is IDictionary d) return d.Count == 0 ? "`{}`" : "`{...}`";
        if (value is IEnumerable list)
            return "`[" + string.Join(", ", list.Cast<object>().Select(i => ConfigPrinter.Scalar(i))) + "]`";
        return $"`{ConfigPrinter.Scalar(value)}`";
    }

    private static string RangeText(OptionMember m)
    {
        if (m.Range is not { } r) return "";
        string unit = r.Unit ?? (OptionModel.DurationUnit(m.Key) is { } u ? u : "");
        string range = r.Max >= 1e15 || r.Max == int.MaxValue ? $"≥ {OptionModel.Number(r.Min)}" : $"{OptionModel.Number(r.Min)}..{OptionModel.Number(r.Max)}";
        return unit.Length == 0 ? range : $"{range} {unit}";
    }

    private static string Description(OptionMember m)
    {
        string d = Docs.Summary(m.Property);
        if (m.Pattern is { } p) d += $" Must be {p.Description}.";
        if (m.Secret) d += " Printed as `(set)`.";
        var t = m.ValueType;
        var enumType = t.IsEnum ? t : OptionModel.ElementType(t) is { IsEnum: true } e ? e : null;
        if (enumType is not null)
        {
            var values = enumType.GetFields(BindingFlags.Public | BindingFlags.Static)
                .Select(f => (Name: OptionModel.EnumName(f.GetValue(null)!), Doc: Docs.Summary(f)))
                .Where(v => v.Doc.Length > 0).ToList();
            if (values.Count > 0) d += " " + string.Join("; ", values.Select(v => $"`{v.Name}`: {v.Doc.TrimEnd('.')}")) + ".";
        }
        return d.Trim();
    }

    private static string Anchor(Type t, Dictionary<Type, string> documented)
    {
        string path = documented[t];
        string title = TitleOf(path);
        // GitHub's heading anchors: lower case, punctuation other than '-' and '_' dropped, spaces to '-'.
        return AnchorChars().Replace(title.ToLowerInvariant(), "").Replace(' ', '-');
    }

    [GeneratedRegex(@"[^a-z0-9 _-]")]
    private static partial Regex AnchorChars();

    /// <summary>The XML documentation of the options types, from the doc files beside their assemblies.</summary>
    private static class Docs
    {
        private static readonly ConcurrentDictionary<Assembly, Dictionary<string, XElement>> s_files = new();
        private static readonly IReadOnlySet<Type> s_configTypes = OptionModel.Reachable(typeof(SvConfig));

        public static string Summary(MemberInfo member)
        {
            string prefix = member switch { Type => "T:", PropertyInfo => "P:", FieldInfo => "F:", _ => "M:" };
            var type = member as Type ?? member.DeclaringType!;
            string id = prefix + (member is Type t ? Name(t) : $"{Name(type)}.{member.Name}");
            return File(type.Assembly).TryGetValue(id, out var e) && e.Element("summary") is { } s ? Markdown(s) : "";
        }

        private static string Name(Type t) => t.FullName!.Replace('+', '.');

        private static Dictionary<string, XElement> File(Assembly a) => s_files.GetOrAdd(a, asm =>
        {
            string path = Path.ChangeExtension(asm.Location, ".xml");
            if (!System.IO.File.Exists(path))
                throw new FileNotFoundException($"the documentation of {asm.GetName().Name} is not next to it (GenerateDocumentationFile): {path}", path);
            return XDocument.Load(path).Descendants("member")
                .Where(m => m.Attribute("name") is not null)
                .GroupBy(m => m.Attribute("name")!.Value)
                .ToDictionary(g => g.Key, g => g.First());
        });

        private static string Markdown(XElement e)
        {
            var sb = new StringBuilder();
            foreach (var node in e.Nodes()) Append(sb, node);
            return Regex.Replace(sb.ToString(), @"\s+", " ").Trim();
        }

        private static void Append(StringBuilder sb, XNode node)
        {
            switch (node)
            {
                case XText text:
                    sb.Append(text.Value.Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal));
                    break;
                case XElement { Name.LocalName: "c" } c:
                    sb.Append('`').Append(c.Value).Append('`');
                    break;
                case XElement { Name.LocalName: "see" or "seealso" } see:
                    sb.Append(See(see));
                    break;
                case XElement { Name.LocalName: "paramref" or "typeparamref" } p:
                    sb.Append('`').Append(p.Attribute("name")?.Value).Append('`');
                    break;
                case XElement el:
                    sb.Append(' ');
                    foreach (var n in el.Nodes()) Append(sb, n);
                    sb.Append(' ');
                    break;
            }
        }

        /// <summary>A reference: an option as its key, anything else by its short name.</summary>
        private static string See(XElement see)
        {
            if (see.Attribute("langword")?.Value is { } word) return $"`{word}`";
            if (see.Value.Length > 0) return see.Value;
            string cref = see.Attribute("cref")?.Value ?? "";
            if (cref.Length < 2) return "";
            string name = cref[2..];
            int paren = name.IndexOf('(');
            if (paren >= 0) name = name[..paren];
            string shortName = name[(name.LastIndexOf('.') + 1)..];
            if (cref.StartsWith("P:", StringComparison.Ordinal))
            {
                string typeName = name[..name.LastIndexOf('.')];
                var owner = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
                if (owner is not null && s_configTypes.Contains(owner) && OptionModel.Members(owner).FirstOrDefault(m => m.Property.Name == shortName) is { Inline: false } m)
                    return $"`{m.Key}`";
            }
            if (cref.StartsWith("F:", StringComparison.Ordinal))
            {
                string typeName = name[..name.LastIndexOf('.')];
                var owner = AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
                if (owner is { IsEnum: true } && Enum.TryParse(owner, shortName, out var v)) return $"`{OptionModel.EnumName(v!)}`";
            }
            return $"`{shortName}`";
        }
    }
}
