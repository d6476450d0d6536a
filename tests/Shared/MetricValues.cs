using Prometheus;

namespace StreamVision.Testing;

/// <summary>Reads prometheus-net collectors in tests: which series exist and what they hold, without creating any.</summary>
internal static class MetricValues
{
    /// <summary>Runs the registry's collection (the before-collect callbacks set the live gauges) and returns the text a scrape gets.</summary>
    public static async Task<string> CollectAsync(CollectorRegistry registry)
    {
        using var ms = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(ms);
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    /// <summary>The label values of every series of <paramref name="collector"/> whose <paramref name="label"/> is <paramref name="value"/>.</summary>
    public static List<string[]> Series<TChild>(Collector<TChild> collector, string label, string value) where TChild : ChildBase
    {
        int i = Array.IndexOf(collector.LabelNames, label);
        if (i < 0) throw new ArgumentException($"{collector.Name} has no label {label}", nameof(label));
        return collector.GetAllLabelValues().Where(v => v[i] == value).ToList();
    }

    /// <summary>The value of an existing series (fails when there is none: reading must not create it).</summary>
    public static double Value(Counter counter, params string[] labels) => counter.WithLabels(Existing(counter, labels)).Value;

    public static double Value(Gauge gauge, params string[] labels) => gauge.WithLabels(Existing(gauge, labels)).Value;

    /// <summary>Sum over the series of one stream, optionally only those whose labels satisfy <paramref name="where"/>.</summary>
    public static double Sum(Counter counter, string stream, Func<string[], bool>? where = null) =>
        Series(counter, "stream", stream).Where(v => where is null || where(v)).Sum(v => counter.WithLabels(v).Value);

    public static double Sum(Gauge gauge, string stream, Func<string[], bool>? where = null) =>
        Series(gauge, "stream", stream).Where(v => where is null || where(v)).Sum(v => gauge.WithLabels(v).Value);

    /// <summary>A label's value in one series' label values.</summary>
    public static string Label(Collector collector, string[] values, string label) => values[Array.IndexOf(collector.LabelNames, label)];

    private static string[] Existing<TChild>(Collector<TChild> collector, string[] labels) where TChild : ChildBase
    {
        if (!collector.GetAllLabelValues().Any(v => v.SequenceEqual(labels)))
            throw new Xunit.Sdk.XunitException($"{collector.Name} has no series {{{string.Join(",", labels)}}}");
        return labels;
    }
}
