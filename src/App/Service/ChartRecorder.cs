using StreamVision.App.Config;
using StreamVision.Core;

namespace StreamVision.App.Service;

/// <summary>One point of a chart: a stream's (or the instance's) figures over one sampling interval.</summary>
public sealed record ChartSample(DateTimeOffset Time, double Fps, double LatencyP50Ms, double LatencyP95Ms, double LatencyP99Ms,
    double Drops, double Objects, double DetectorMs, double Events);

/// <summary>
/// The charts' data, in process: every <see cref="ChartOptions.SampleSeconds"/> a sample per stream and one for the
/// instance (key ""), kept in a fine ring for <see cref="ChartOptions.FineMinutes"/> and folded into a coarse ring
/// (<see cref="ChartOptions.CoarseSeconds"/> per point) for <see cref="ChartOptions.CoarseHours"/>. Latency percentiles
/// are exact over the interval (it listens to every observation of the end-to-end histogram); detector time is the mean
/// per frame (streams) or per batch (instance). Memory is bounded by the rings and the streams. Thread-safe.
/// </summary>
public sealed class ChartRecorder : IDisposable
{
    /// <summary>Key of the instance's series.</summary>
    public const string Instance = "";
    private const int MaxValuesPerInterval = 16384;

    private readonly ChartOptions _options;
    private readonly StreamManager _manager;
    private readonly object _gate = new();
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Interval> _open = new(StringComparer.Ordinal);
    private readonly List<IDisposable> _subscriptions = new();
    private readonly Timer _timer;
    private int _disposed;

    private sealed class Interval
    {
        public readonly List<double> Latency = new();
        public double DetectSum;
        public long DetectCount;
    }

    private sealed class Series(int fine, int coarse)
    {
        public readonly Ring Fine = new(fine);
        public readonly Ring Coarse = new(Math.Max(1, coarse));
        public readonly List<ChartSample> Pending = new();
        public long LastDrops = -1, LastEvents = -1;
        public DateTimeOffset CoarseStart = DateTimeOffset.MinValue;
    }

    private sealed class Ring(int capacity)
    {
        private readonly ChartSample[] _items = new ChartSample[capacity];
        private int _start, _count;

        public void Add(ChartSample s)
        {
            if (_count < _items.Length) _items[(_start + _count++) % _items.Length] = s;
            else
            {
                _items[_start] = s;
                _start = (_start + 1) % _items.Length;
            }
        }

        public IEnumerable<ChartSample> Items()
        {
            for (int i = 0; i < _count; i++) yield return _items[(_start + i) % _items.Length];
        }
    }

    public ChartRecorder(ChartOptions options, StreamManager manager)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _manager = manager ?? throw new ArgumentNullException(nameof(manager));
        var m = manager.Metrics;
        _subscriptions.Add(m.EndToEndSeconds.Listen((s, v) =>
        {
            Add(s.Label("stream"), v, latency: true);
            Add(Instance, v, latency: true);
        }));
        _subscriptions.Add(m.StageSeconds.Listen((s, v) =>
        {
            if (s.Label("stage") == "detect") Add(s.Label("stream"), v, latency: false);
        }));
        _subscriptions.Add(m.InferenceSeconds.Listen((_, v) => Add(Instance, v, latency: false)));
        var period = TimeSpan.FromSeconds(options.SampleSeconds);
        _timer = new Timer(_ => Sample(DateTimeOffset.UtcNow), null, period, period);
    }

    public ChartOptions Options => _options;

    private void Add(string key, double seconds, bool latency)
    {
        lock (_gate)
        {
            if (!_open.TryGetValue(key, out var i)) _open[key] = i = new Interval();
            if (latency)
            {
                if (i.Latency.Count < MaxValuesPerInterval) i.Latency.Add(seconds * 1000);
            }
            else
            {
                i.DetectSum += seconds * 1000;
                i.DetectCount++;
            }
        }
    }

    /// <summary>Takes one sample of every stream and the instance now (the timer calls it every sample interval).</summary>
    public void Sample(DateTimeOffset now)
    {
        var streams = _manager.Streams;
        lock (_gate)
        {
            if (_disposed != 0) return;
            double fps = 0, objects = 0;
            long drops = 0, events = 0;
            foreach (var h in streams)
            {
                long d = h.Source.FramesDropped + h.Sinks.Sum(s => s.Dropped);
                long e = h.Stats.Events;
                double f = double.IsFinite(h.Fps) ? h.Fps : 0;
                Record(h.Id, now, f, h.Stats.ActiveTracks, d, e);
                fps += f;
                objects += h.Stats.ActiveTracks;
                drops += d;
                events += e;
            }
            Record(Instance, now, fps, objects, drops, events);
            // Streams gone: their series go too (a stream added again under the id starts over).
            foreach (var key in _series.Keys.Where(k => k != Instance && !streams.Any(h => h.Id == k)).ToList())
            {
                _series.Remove(key);
                _open.Remove(key);
            }
        }
    }

    private void Record(string key, DateTimeOffset now, double fps, double objects, long drops, long events)
    {
        if (!_series.TryGetValue(key, out var s))
        {
            int fine = (int)Math.Ceiling(_options.FineMinutes * 60 / _options.SampleSeconds);
            int coarse = (int)Math.Ceiling(_options.CoarseHours * 3600 / _options.CoarseSeconds);
            _series[key] = s = new Series(fine, coarse);
        }
        _open.Remove(key, out var interval);
        double p50 = 0, p95 = 0, p99 = 0, detect = 0;
        if (interval is not null)
        {
            if (interval.Latency.Count > 0)
            {
                interval.Latency.Sort();
                p50 = Percentile(interval.Latency, 0.50);
                p95 = Percentile(interval.Latency, 0.95);
                p99 = Percentile(interval.Latency, 0.99);
            }
            if (interval.DetectCount > 0) detect = interval.DetectSum / interval.DetectCount;
        }
        // Counters: the change since the last sample (a stream restarted under the same id counts from zero again).
        double dDrops = s.LastDrops < 0 || drops < s.LastDrops ? 0 : drops - s.LastDrops;
        double dEvents = s.LastEvents < 0 || events < s.LastEvents ? 0 : events - s.LastEvents;
        s.LastDrops = drops;
        s.LastEvents = events;
        var sample = new ChartSample(now, Math.Round(fps, 2), Math.Round(p50, 2), Math.Round(p95, 2), Math.Round(p99, 2), dDrops, objects, Math.Round(detect, 3), dEvents);
        s.Fine.Add(sample);
        if (_options.CoarseHours == 0) return;
        if (s.CoarseStart == DateTimeOffset.MinValue) s.CoarseStart = now;
        s.Pending.Add(sample);
        if ((now - s.CoarseStart).TotalSeconds >= _options.CoarseSeconds)
        {
            var p = s.Pending;
            s.Coarse.Add(new ChartSample(now, Math.Round(p.Average(x => x.Fps), 2), Math.Round(p.Average(x => x.LatencyP50Ms), 2),
                p.Max(x => x.LatencyP95Ms), p.Max(x => x.LatencyP99Ms), p.Sum(x => x.Drops), Math.Round(p.Average(x => x.Objects), 2),
                Math.Round(p.Average(x => x.DetectorMs), 3), p.Sum(x => x.Events)));
            p.Clear();
            s.CoarseStart = now;
        }
    }

    private static double Percentile(List<double> sorted, double q)
    {
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(sorted.Count - 1, lo + 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /// <summary>
    /// The samples of <paramref name="key"/> (a stream id, or <see cref="Instance"/>) since <paramref name="since"/>, oldest
    /// first: the coarse ring before the fine ring's start, then the fine ring. False when there is no such series.
    /// </summary>
    public bool TryGet(string key, DateTimeOffset since, out IReadOnlyList<ChartSample> samples)
    {
        lock (_gate)
        {
            if (!_series.TryGetValue(key, out var s))
            {
                samples = [];
                return false;
            }
            var fine = s.Fine.Items().Where(x => x.Time >= since).ToList();
            var fineStart = s.Fine.Items().Select(x => x.Time).DefaultIfEmpty(DateTimeOffset.MaxValue).First();
            var coarse = s.Coarse.Items().Where(x => x.Time >= since && x.Time < fineStart);
            samples = [.. coarse, .. fine];
            return true;
        }
    }

    /// <summary>Keys that have samples: the instance ("") and each stream.</summary>
    public IReadOnlyList<string> Keys
    {
        get
        {
            lock (_gate) return _series.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _timer.Dispose();
        foreach (var s in _subscriptions) s.Dispose();
    }
}
