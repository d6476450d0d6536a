using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

/// <summary>config/grafana-dashboard.json against what a running service really exports.</summary>
public partial class GrafanaDashboardTests
{
    private const string Stream = "cam";

    /// <summary>Every query of the dashboard: each panel target's expr.</summary>
    private static List<string> Queries()
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "config", "grafana-dashboard.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray()).Select(t => t.GetProperty("expr").GetString()!).ToList();
    }

    /// <summary>The metric the "instance" variable lists its values from (<c>label_values(METRIC, instance)</c>).</summary>
    private static string InstanceVariableMetric()
    {
        string path = Path.Combine(TestEnvironment.RepoRoot, "config", "grafana-dashboard.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var variable = doc.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray()
            .Single(v => v.GetProperty("name").GetString() == "instance");
        var m = Regex.Match(variable.GetProperty("query").GetString()!, @"^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*instance\s*\)$");
        Assert.True(m.Success, "the instance variable is label_values(METRIC, instance)");
        return m.Groups[1].Value;
    }

    private static readonly HashSet<string> s_promqlWords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "offset", "bool", "inf", "nan",
    };

    /// <summary>
    /// The metric names a PromQL expression selects: what is left after label matchers, grouping clauses, range
    /// selectors and strings are cut out, that is not a function call, a keyword or a number.
    /// </summary>
    internal static List<string> MetricNames(string expr)
    {
        string e = Regex.Replace(expr, "\"(?:[^\"\\\\]|\\\\.)*\"", " ");
        e = Regex.Replace(e, @"\{[^}]*\}", " ");
        e = Regex.Replace(e, @"\[[^\]]*\]", " ");
        e = Regex.Replace(e, @"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ");
        return Regex.Matches(e, @"(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(?![\w:])(?!\s*\()")
            .Select(m => m.Groups[1].Value)
            .Where(n => !s_promqlWords.Contains(n.ToLowerInvariant()))
            .Distinct().ToList();
    }

    /// <summary>Grafana's variables in a query, as a test against one Prometheus can evaluate it.</summary>
    internal static string SubstituteVariables(string expr) => Regex.Replace(expr, @"\$\{?(\w+)\}?", m => m.Groups[1].Value switch
    {
        "__rate_interval" or "__range" => "1m",
        "__interval" => "5s",
        _ => ".+", // a multi-value variable ("All"), always used with =~
    });

    /// <summary>
    /// A service whose stream exercises every series the dashboard shows: a live test pattern (source state, queue,
    /// drops and reconnect counters), a replayed detector with one still object (inference, tracker and its active
    /// track, track events), an events sink and the preview (sink series).
    /// </summary>
    private static Task<ServiceHost> StartServiceAsync(int port = 0)
    {
        string dir = TestEnvironment.NewTempDir("svdash");
        string detections = Path.Combine(dir, "detections.txt");
        var sb = new StringBuilder();
        for (int f = 1; f <= 5000; f++) sb.Append(CultureInfo.InvariantCulture, $"{f},-1,60,40,40,40,0.9,-1,-1,-1\n");
        File.WriteAllText(detections, sb.ToString());
        var config = ConfigLoader.LoadText($$"""
            instance: dashboard
            http:
              listen: http://127.0.0.1:{{port}}
            detector:
              model: detections-file
              detections: {{detections}}
            sinks:
              events: {{dir}}/{stream}.jsonl
            streams:
              - id: {{Stream}}
                uri: lavfi:testsrc2=size=160x120:rate=25
                mode: live
            """, "dashboard.yaml", new Dictionary<string, string>());
        return ServiceHost.StartAsync(config, NullLoggerFactory.Instance);
    }

    /// <summary>Names of the samples in a scrape (text format): <c>sv_x_total</c>, <c>sv_y_seconds_bucket</c>, ...</summary>
    private static HashSet<string> SampleNames(string scrape) =>
        scrape.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => Regex.Match(l, @"^[a-zA-Z_:][a-zA-Z0-9_:]*").Value).ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void MetricNamesAreReadFromQueries()
    {
        Assert.Equal(["sv_x_seconds_bucket"], MetricNames("histogram_quantile(0.99, sum by (le, stream) (rate(sv_x_seconds_bucket{instance=~\"$instance\"}[1m])))"));
        Assert.Equal(["a_total", "b_count"], MetricNames("sum(rate(a_total{x=\"by (y)\"}[5m])) / on (z) sum without (w) (b_count)"));
        Assert.Equal("rate(x{instance=~\".+\"}[1m])", SubstituteVariables("rate(x{instance=~\"$instance\"}[$__rate_interval])"));
    }

    [Fact]
    public async Task EveryMetricTheDashboardQueriesIsInARealScrape()
    {
        var wanted = Queries().SelectMany(MetricNames).Append(InstanceVariableMetric()).ToHashSet(StringComparer.Ordinal);
        Assert.True(wanted.Count >= 10, $"only {wanted.Count} metric names found in the dashboard");

        await using var host = await StartServiceAsync();
        using var http = new HttpClient { BaseAddress = host.Address };
        HashSet<string> exported = [];
        // Some series appear with the first event or track: wait for them; then every name must be there, spelt exactly.
        try
        {
            await Poll.UntilAsync(async () =>
            {
                exported = SampleNames(await http.GetStringAsync("/metrics"));
                return wanted.IsSubsetOf(exported);
            }, TimeSpan.FromSeconds(30), "the dashboard's metrics in a scrape");
        }
        catch (TimeoutException)
        {
        }
        var missing = wanted.Except(exported).Order(StringComparer.Ordinal).ToList();
        Assert.True(missing.Count == 0, $"the dashboard queries {string.Join(", ", missing)}, which a real scrape does not hold");
    }
}
