using System.Diagnostics;
using System.Diagnostics.Metrics;
using StreamVision.Core;

namespace StreamVision.App.Bench;

/// <summary>
/// Records every measurement of some StreamVision histograms (end-to-end latency, stage and sink times) while
/// <see cref="Recording"/> is on, with the stream and the stage or sink it was tagged with. The pipeline records these
/// anyway for /metrics; the bench reads the same numbers, so what it reports is what the service reports.
/// </summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly HashSet<string> _instruments;
    private readonly object _gate = new();
    private List<Sample> _samples = new();
    private volatile bool _recording;

    /// <param name="Instrument">Instrument name (<see cref="SvMetrics"/>).</param>
    /// <param name="Stream">The <c>stream</c> tag, or empty.</param>
    /// <param name="Label">The <c>stage</c> or <c>sink</c> tag, or empty.</param>
    /// <param name="Value">The measurement (seconds for these histograms).</param>
    /// <param name="Timestamp"><see cref="Stopwatch.GetTimestamp"/> when it was recorded.</param>
    /// <param name="Allocated">Bytes the process had allocated by then (<see cref="GC.GetTotalAllocatedBytes"/>), when <see cref="CaptureAllocations"/> is on.</param>
    public readonly record struct Sample(string Instrument, string Stream, string Label, double Value, long Timestamp, long Allocated);

    public MetricRecorder(params string[] instruments)
    {
        _instruments = new HashSet<string>(instruments, StringComparer.Ordinal);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SvMetrics.MeterName && _instruments.Contains(instrument.Name)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<double>(OnMeasurement);
        _listener.Start();
    }

    /// <summary>Also note the process's allocated bytes with every sample (cheap, imprecise by at most a few KiB per thread).</summary>
    public bool CaptureAllocations { get; init; }

    public bool Recording
    {
        get => _recording;
        set => _recording = value;
    }

    private void OnMeasurement(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (!_recording) return;
        string stream = "", label = "";
        foreach (var t in tags)
        {
            if (t.Key == "stream") stream = t.Value as string ?? "";
            else if (t.Key is "stage" or "sink") label = t.Value as string ?? "";
        }
        var s = new Sample(instrument.Name, stream, label, value, Stopwatch.GetTimestamp(), CaptureAllocations ? GC.GetTotalAllocatedBytes(precise: false) : 0);
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

    public void Dispose() => _listener.Dispose();
}
