using System.Diagnostics;
using StreamVision.Core;

namespace StreamVision.Bench;

/// <summary>
/// Records every observation of some StreamVision histograms (end-to-end latency, stage and sink times) while
/// <see cref="Recording"/> is on, with the stream and the stage or sink it was labelled with. The pipeline records these
/// anyway for /metrics; the bench listens to the same prometheus-net histograms (<see cref="SvHistogram.Listen"/>), so what
/// it reports is what the service reports — one by one, because percentiles and per-frame timestamps cannot be had from
/// buckets.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly List<IDisposable> _subscriptions = new();
    private readonly object _gate = new();
    private List<Sample> _samples = new();
    private volatile bool _recording;

    /// <param name="Instrument">Metric name (<see cref="SvMetrics"/>).</param>
    /// <param name="Stream">The <c>stream</c> label, or empty.</param>
    /// <param name="Label">The <c>stage</c> or <c>sink</c> label, or empty.</param>
    /// <param name="Value">The observation (seconds for these histograms).</param>
    /// <param name="Timestamp"><see cref="Stopwatch.GetTimestamp"/> when it was recorded.</param>
    /// <param name="Allocated">Bytes the process had allocated by then (<see cref="GC.GetTotalAllocatedBytes"/>), when <see cref="CaptureAllocations"/> is on.</param>
    public readonly record struct Sample(string Instrument, string Stream, string Label, double Value, long Timestamp, long Allocated);

    /// <param name="histograms">Histograms of the <see cref="PipelineMetrics"/> the measured pipeline records to.</param>
    public MetricRecorder(params SvHistogram[] histograms)
    {
        foreach (var h in histograms) _subscriptions.Add(h.Listen(OnObservation));
    }

    /// <summary>Also note the process's allocated bytes with every sample (cheap, imprecise by at most a few KiB per thread).</summary>
    public bool CaptureAllocations { get; init; }

    public bool Recording
    {
        get => _recording;
        set => _recording = value;
    }

    private void OnObservation(SvHistogram.Series series, double value)
    {
        if (!_recording) return;
        string stage = series.Label(SvMetrics.LabelStage);
        string label = stage.Length > 0 ? stage : series.Label(SvMetrics.LabelSink);
        var s = new Sample(series.Histogram.Name, series.Label(SvMetrics.LabelStream), label, value, Stopwatch.GetTimestamp(),
            CaptureAllocations ? GC.GetTotalAllocatedBytes(precise: false) : 0);
        lock (_gate) _samples.Add(s);
    }

    /// <summary>Returns what was recorded so far and starts a new list.</summary>
    public List<Sample> Take()
    {
        lock (_gate)
        {
            var s = _samples;
            _samples = new List<Sample>();
            return s;
        }
    }

    public void Dispose()
    {
        foreach (var s in _subscriptions) s.Dispose();
    }
}
