using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVision.App.Http;
using StreamVision.Core;

namespace StreamVision.App.Tests.Http;

public class GrafanaDashboardTests
{
    [Fact]
    public void EveryMetricTheDashboardQueriesIsOneWeExport()
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "config", "grafana-dashboard.json");
        var doc = JsonDocument.Parse(File.ReadAllText(path));
        var exprs = doc.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
        Assert.NotEmpty(exprs);

        // What we export: every SvMetrics name under its Prometheus spelling, plus the process figures of a scrape.
        var exported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in typeof(SvMetrics).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral))
        {
            string n = (string)f.GetRawConstantValue()!;
            foreach (var suffix in new[] { "", "_total", "_seconds" }) exported.Add(n + suffix);
        }
        using var exporter = new PrometheusExporter("t");
        foreach (Match m in Regex.Matches(exporter.Scrape(), @"^# TYPE (\S+)", RegexOptions.Multiline)) exported.Add(m.Groups[1].Value);

        foreach (var expr in exprs)
        {
            foreach (Match m in Regex.Matches(expr, @"\b((?:sv|process|dotnet)_[a-z0-9_]+)"))
            {
                string name = Regex.Replace(m.Groups[1].Value, "_(bucket|sum|count)$", "");
                Assert.True(exported.Contains(name), $"dashboard queries {name}, which StreamVision does not export");
            }
        }
    }
}
