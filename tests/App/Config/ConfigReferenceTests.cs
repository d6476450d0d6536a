using System.Reflection;
using StreamVision.App.Config;

namespace StreamVision.App.Tests.Config;

/// <summary>docs/configuration.md is what the options types say, and every option says something.</summary>
public class ConfigReferenceTests
{
    [Fact]
    public void TheCheckedInReferenceIsWhatTheOptionsTypesGenerate()
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "docs", "configuration.md");
        string generated = ConfigReference.Generate();
        string? onDisk = File.Exists(path) ? File.ReadAllText(path) : null;
        if (onDisk == generated) return;
        var want = generated.Split('\n');
        var have = (onDisk ?? "").Split('\n');
        int line = Enumerable.Range(0, Math.Max(want.Length, have.Length))
            .First(i => i >= want.Length || i >= have.Length || want[i] != have[i]);
        Assert.Fail($"docs/configuration.md {(onDisk is null ? "is missing" : $"differs from the options types from line {line + 1}")}:\n" +
            $"  file:      {(line < have.Length ? have[line] : "(end)")}\n  generated: {(line < want.Length ? want[line] : "(end)")}\n" +
            $"Regenerate it with: {ConfigReference.RegenerateCommand}");
    }

    [Fact]
    public void EveryOptionAndEveryValueOfItIsDocumented()
    {
        var undocumented = new List<string>();
        foreach (var type in OptionModel.Reachable(typeof(SvConfig)))
        {
            foreach (var m in OptionModel.Members(type))
            {
                if (!Documented(m.Property)) undocumented.Add($"{type.Name}.{m.Property.Name}");
                var t = m.ValueType;
                var e = t.IsEnum ? t : OptionModel.ElementType(t) is { IsEnum: true } et ? et : null;
                if (e is null) continue;
                foreach (var f in e.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => !Documented(f)))
                    undocumented.Add($"{e.Name}.{f.Name}");
            }
        }
        Assert.True(undocumented.Count == 0, "options without an XML doc comment: " + string.Join(", ", undocumented.Distinct()));
    }

    [Fact]
    public void TheReferenceListsEveryKeyWithItsDefaultAndRange()
    {
        string md = ConfigReference.Generate();
        Assert.Contains("| `detector.batch.max_size` | whole number | `8` | 1..64 |", md);
        Assert.Contains("| `streams[].open_timeout_seconds` | duration (seconds) | `10` | 0..86400 s |", md);
        Assert.Contains("| `detector.batch.max_wait_ms` | duration (milliseconds) | `5` | 0..1000 ms |", md);
        Assert.Contains("| `sinks.mqtt.protocol` | `3.1.1` \\| `5` | `3.1.1` |", md);
        Assert.Contains("| `sinks.webhook.url` | text | (required) |", md);
        Assert.Contains("| `instance` | text | the host name, lower case |", md);
        // A reference to another option is written as its key.
        Assert.Contains("doubles per failure up to `max_reconnect_delay_seconds`", md);
        foreach (var line in md.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)))
            Assert.Equal(6, line.Replace("\\|", "", StringComparison.Ordinal).Count(c => c == '|'));
    }

    [Fact]
    public void TheVerbPrintsTheReference()
    {
        var (stdout, _) = TestEnvironment.Run("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "streamvision.dll")}\" config reference");
        Assert.Equal(ConfigReference.Generate(), stdout);
    }

    private static bool Documented(MemberInfo member)
    {
        var type = member.DeclaringType!;
        string id = (member is PropertyInfo ? "P:" : "F:") + type.FullName!.Replace('+', '.') + "." + member.Name;
        var xml = System.Xml.Linq.XDocument.Load(Path.ChangeExtension(type.Assembly.Location, ".xml"));
        return xml.Descendants("member").Any(e => e.Attribute("name")?.Value == id && e.Element("summary")?.Value.Trim().Length > 0);
    }
}
