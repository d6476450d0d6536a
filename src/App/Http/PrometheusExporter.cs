using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using StreamVision.Core;

namespace StreamVision.App.Http;

/// <summary>
/// Collects every StreamVision instrument through a <see cref="MeterListener"/> and renders Prometheus text format 0.0.4.
/// Counters get <c>_total</c>; histograms <c>_bucket</c>/<c>_sum</c>/<c>_count</c>; observable gauges are sampled at scrape.
/// Process memory, GC and thread-pool figures are added at scrape. Thread-safe.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] s_secondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] s_countBuckets = [1, 2, 4, 8, 16, 32, 64, 128];

    private readonly MeterListener _listener = new();
    // Several instruments may share a name (e.g. one queue-depth gauge per stage, each with its own tag): one family each name.
    private readonly ConcurrentDictionary<Instrument, Family> _byInstrument = new();
    private readonly ConcurrentDictionary<string, Family> _families = new(StringComparer.Ordinal);
    private readonly object _scrapeGate = new();

    public PrometheusExporter(string instanceId)
    {
        InstanceId = instanceId;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name != SvMetrics.MeterName) return;
            var family = _families.GetOrAdd(PrometheusName(instrument), _ => new Family(instrument));
            _byInstrument.TryAdd(instrument, family);
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<float>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public string InstanceId { get; }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_byInstrument.TryGetValue(instrument, out var f)) f.Record(value, tags);
    }

    /// <summary>The metrics page.</summary>
    public string Scrape()
    {
        var sb = new StringBuilder(16 * 1024);
        lock (_scrapeGate)
        {
            foreach (var f in _families.Values) if (f.IsObservable) f.ClearSamples();
            _listener.RecordObservableInstruments();
            foreach (var f in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal)) f.Write(sb);
        }
        WriteProcess(sb);
        return sb.ToString();
    }

    private void WriteProcess(StringBuilder sb)
    {
        using var p = Process.GetCurrentProcess();
        Gauge(sb, "process_resident_memory_bytes", "Resident memory of the process", p.WorkingSet64);
        Gauge(sb, "process_cpu_seconds_total", "CPU time used by the process", p.TotalProcessorTime.TotalSeconds, "counter");
        Gauge(sb, "process_start_time_seconds", "Start time of the process since the Unix epoch", new DateTimeOffset(p.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds() / 1000.0);
        Gauge(sb, "dotnet_gc_heap_bytes", "Bytes in the managed heap", GC.GetTotalMemory(false));
        Gauge(sb, "dotnet_gc_allocated_bytes_total", "Bytes allocated since start", GC.GetTotalAllocatedBytes(), "counter");
        sb.Append("# HELP dotnet_gc_collections_total Garbage collections by generation\n# TYPE dotnet_gc_collections_total counter\n");
        for (int g = 0; g <= GC.MaxGeneration; g++)
            sb.Append(CultureInfo.InvariantCulture, $"dotnet_gc_collections_total{{generation=\"{g}\"}} {GC.CollectionCount(g)}\n");
        Gauge(sb, "dotnet_threadpool_threads", "Thread-pool threads", ThreadPool.ThreadCount);
        sb.Append(CultureInfo.InvariantCulture, $"# HELP sv_instance_info Instance id\n# TYPE sv_instance_info gauge\nsv_instance_info{{instance_id=\"{Escape(InstanceId)}\"}} 1\n");
    }

    private static void Gauge(StringBuilder sb, string name, string help, double value, string type = "gauge") =>
        sb.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n{name} {Format(value)}\n");

    internal static string Format(double v) =>
        double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf" : double.IsNaN(v) ? "NaN" : v.ToString("R", CultureInfo.InvariantCulture);

    internal static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    /// <summary>Prometheus name of an instrument: snake_case, base unit suffix, <c>_total</c> for counters.</summary>
    internal static string PrometheusName(Instrument i)
    {
        string n = i.Name.Replace('.', '_').Replace('-', '_');
        if (i.Unit == "s" && !n.EndsWith("_seconds", StringComparison.Ordinal)) n += "_seconds";
        if (i.Unit == "By" && !n.EndsWith("_bytes", StringComparison.Ordinal)) n += "_bytes";
        bool counter = i is Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>;
        if (counter && !n.EndsWith("_total", StringComparison.Ordinal)) n += "_total";
        return n;
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>One metric family: its series by label set.</summary>
    private sealed class Family
    {
        private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
        private readonly string _type;
        private readonly double[]? _buckets;

        public Family(Instrument i)
        {
            Name = PrometheusName(i);
            Help = string.IsNullOrEmpty(i.Description) ? i.Name : i.Description;
            IsObservable = i.IsObservable;
            bool counter = Name.EndsWith("_total", StringComparison.Ordinal) && i is not (UpDownCounter<long> or UpDownCounter<double>);
            bool histogram = i.GetType().Name.StartsWith("Histogram", StringComparison.Ordinal);
            _type = histogram ? "histogram" : counter ? "counter" : "gauge";
            IsCumulative = !histogram && !IsObservable && (counter || i.GetType().Name.StartsWith("UpDownCounter", StringComparison.Ordinal));
            if (histogram) _buckets = i.Unit == "s" ? s_secondsBuckets : s_countBuckets;
        }

        public string Name { get; }
        public string Help { get; }
        public bool IsObservable { get; }
        private bool IsCumulative { get; }

        public void ClearSamples() => _series.Clear();

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string labels = Labels(tags);
            var s = _series.GetOrAdd(labels, _ => new Series(_buckets?.Length ?? 0));
            lock (s)
            {
                if (_buckets is not null)
                {
                    s.Sum += value;
                    s.Count++;
                    for (int b = 0; b < _buckets.Length; b++) if (value <= _buckets[b]) s.Buckets[b]++;
                }
                else if (IsCumulative) s.Value += value;
                else s.Value = value;
            }
        }

        private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0) return "";
            var pairs = new List<(string K, string V)>(tags.Length);
            foreach (var t in tags) pairs.Add((t.Key.Replace('.', '_'), Convert.ToString(t.Value, CultureInfo.InvariantCulture) ?? ""));
            pairs.Sort((a, b) => string.CompareOrdinal(a.K, b.K));
            return string.Join(",", pairs.Select(p => $"{p.K}=\"{Escape(p.V)}\""));
        }

        public void Write(StringBuilder sb)
        {
            if (_series.IsEmpty) return;
            sb.Append("# HELP ").Append(Name).Append(' ').Append(Help.Replace("\n", " ", StringComparison.Ordinal)).Append('\n');
            sb.Append("# TYPE ").Append(Name).Append(' ').Append(_type).Append('\n');
            foreach (var (labels, s) in _series.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                lock (s)
                {
                    if (_buckets is null)
                    {
                        sb.Append(Name).Append(labels.Length > 0 ? $"{{{labels}}}" : "").Append(' ').Append(Format(s.Value)).Append('\n');
                        continue;
                    }
                    string sep = labels.Length > 0 ? "," : "";
                    for (int b = 0; b < _buckets.Length; b++)
                        sb.Append(CultureInfo.InvariantCulture, $"{Name}_bucket{{{labels}{sep}le=\"{Format(_buckets[b])}\"}} {s.Buckets[b]}\n");
                    sb.Append(CultureInfo.InvariantCulture, $"{Name}_bucket{{{labels}{sep}le=\"+Inf\"}} {s.Count}\n");
                    sb.Append(Name).Append("_sum").Append(labels.Length > 0 ? $"{{{labels}}}" : "").Append(' ').Append(Format(s.Sum)).Append('\n');
                    sb.Append(Name).Append("_count").Append(labels.Length > 0 ? $"{{{labels}}}" : "").Append(' ').Append(s.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
            }
        }
    }

    private sealed class Series(int buckets)
    {
        public double Value;
        public double Sum;
        public long Count;
        public readonly long[] Buckets = new long[buckets];
    }
}
