using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Pipeline;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;
using StreamVision.Analytics;

namespace StreamVision.App.Service;

/// <summary>
/// One configured stream of the service: its configuration turned into a pipeline (<see cref="PipelineBuilder"/>) and the
/// run that results. Status, stop order and deadlines are the run's (<see cref="StreamRun"/>); this adds the configuration
/// and the instance-wide resources (the dashboard's preview).
/// </summary>
public sealed class StreamHost : IAsyncDisposable
{
    private readonly ServiceResources _resources;
    private readonly StreamRun _run;
    private readonly IReadOnlyList<string> _classNames;
    private readonly string _analyticsPath;
    private readonly object _regionsGate = new();
    private readonly List<IDisposable> _modelLeases = new(); // shared tamper/enhancement models this stream runs
    private StreamConfig _config;

    /// <summary>
    /// The tracker options of one stream: the instance's <c>tracker</c> section, with the stream's own
    /// <see cref="StreamConfig.CompensateCameraMotion"/> when it gives one (moving or fixed camera).
    /// </summary>
    public static Tracking.ByteTrackerOptions TrackerOptions(StreamConfig config, SvConfig instance) =>
        config.CompensateCameraMotion is bool cmc ? instance.Tracker.Options with { CompensateCameraMotion = cmc } : instance.Tracker.Options;

    public StreamHost(StreamConfig config, SvConfig instance, FramePool pool, DetectionBatcher? batcher, ServiceResources resources,
        Tracking.Motion.IMotionModel? motion, ILogger logger, PipelineMetrics? metrics = null,
        Inference.Classification.ClassifierBatcher? classifier = null)
    {
        _config = config;
        _resources = resources;
        var m = metrics ?? PipelineMetrics.Default;
        var sinks = config.Sinks ?? instance.Sinks;
        var classNames = batcher?.Detector.ClassNames ?? [];
        var builder = new PipelineBuilder(config.Id, pool, resources.SinkPool).Logger(logger).Metrics(m)
            .Source(config.Source).Detector(batcher).QueueCapacity(sinks.QueueCapacity)
            .DetectSchedule(config.Detect);
        if (instance.Tracker.Enabled) builder.Tracker(TrackerOptions(config, instance), motion).CameraMotion(instance.Tracker.CameraMotion);
        builder.Masks(config.Masks ? instance.Masks : null);
        if (config.Classify) builder.Classifier(classifier);
        int index = instance.Streams.ToList().FindIndex(s => s.Id == config.Id);
        List<SinkSpec> specs;
        _classNames = classNames;
        _analyticsPath = $"streams[{(index < 0 ? 0 : index)}]";
        try
        {
            // Replaceable while the stream runs (PUT /api/streams/{id}/regions): the pictures draw whatever set is current.
            Analytics = new LiveAnalytics(SinkFactory.CreateAnalytics(config, index < 0 ? 0 : index, classNames));
            builder.Analytics(Analytics);
            var tamper = config.Tamper ?? instance.Tamper;
            if (tamper.Enabled)
            {
                var lease = resources.TamperModels.Acquire(tamper.Model);
                _modelLeases.Add(lease);
                builder.CameraTamper(lease.Model, tamper);
            }
            var enhance = config.Enhance ?? instance.Enhance;
            if (enhance.Enabled)
            {
                var lease = resources.EnhanceModels.Acquire(enhance.Model, enhance.Threads);
                _modelLeases.Add(lease);
                builder.Enhance(lease.Model, enhance);
            }
            specs = SinkFactory.Create(config, instance, sinks, classNames, resources.SinkPool, resources, [new LiveAnalyticsOverlay(Analytics)],
                config.Source.IsFile, logger, m);
        }
        catch
        {
            // A stream that could not be configured leaves no series behind (Build does the same for what fails after).
            m.RemoveStream(config.Id);
            ReleaseModels();
            throw;
        }
        foreach (var spec in specs) builder.Sink(spec.Sink, spec.Runner);
        try
        {
            _run = builder.Build();
        }
        catch
        {
            ReleaseModels();
            throw;
        }
    }

    public string Id => _run.Id;
    /// <summary>The stream's configuration, with the zones and lines in use now.</summary>
    public StreamConfig Config => Volatile.Read(ref _config);
    /// <summary>The stream's zones and lines, replaceable while it runs (<see cref="ReplaceRegions"/>).</summary>
    public LiveAnalytics Analytics { get; }

    /// <summary>
    /// Replaces the stream's zones and lines from the next frame on, without restarting its source. Throws
    /// <see cref="OptionsException"/> naming the bad key (e.g. <c>streams[0].analytics.zones[1].polygon</c>) and changes nothing then.
    /// </summary>
    public void ReplaceRegions(IReadOnlyList<ZoneOptions> zones, IReadOnlyList<LineOptions> lines)
    {
        var options = Config.Analytics with { Zones = zones, Lines = lines };
        var next = new StreamAnalytics(options, _classNames, _analyticsPath);
        lock (_regionsGate)
        {
            Analytics.Replace(next);
            Volatile.Write(ref _config, _config with { Analytics = options });
        }
    }
    public StreamStatus Status => _run.Status;
    public string? Error => _run.Error;
    public VideoSource Source => _run.Source;
    public StreamStats Stats => _run.Stats;
    public IReadOnlyList<SinkRunner> Sinks => _run.Sinks;
    /// <summary>After the stream stopped: each output that was not finalised, and why (empty when all were).</summary>
    public IReadOnlyList<string> NotFinalised => _run.NotFinalised;
    public Task Completion => _run.Completion;
    /// <summary>Frames per second over the last few seconds.</summary>
    public double Fps => _run.Fps;
    /// <summary>Capture-to-analysed latency of the latest frame.</summary>
    public TimeSpan Latency => _run.Latency;

    public void Start() => _run.Start();

    /// <summary>Stops the stream within <paramref name="deadline"/>, finalising every output (see <see cref="StreamRun.StopAsync"/>). Idempotent.</summary>
    public Task StopAsync(TimeSpan deadline) => _run.StopAsync(deadline);

    public async ValueTask DisposeAsync()
    {
        // Only our own preview: a stream re-added under the same id may have registered a new one already.
        if (_run.Sinks.Select(r => r.Sink).OfType<MjpegPreviewSink>().FirstOrDefault() is { } mine)
            _resources.Previews.TryRemove(new KeyValuePair<string, MjpegPreviewSink>(Id, mine));
        await _run.DisposeAsync().ConfigureAwait(false);
        ReleaseModels(); // the run is over: nothing of it uses them any more
    }

    private void ReleaseModels()
    {
        foreach (var l in _modelLeases) l.Dispose();
        _modelLeases.Clear();
    }
}
