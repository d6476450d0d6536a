using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Pipeline;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;

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
        Config = config;
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
        try
        {
            var analytics = SinkFactory.CreateAnalytics(config, index < 0 ? 0 : index, classNames);
            builder.Analytics(analytics);
            var tamper = config.Tamper ?? instance.Tamper;
            if (tamper.Enabled) builder.CameraTamper(resources.TamperModels.Get(tamper.Model), tamper);
            var enhance = config.Enhance ?? instance.Enhance;
            if (enhance.Enabled) builder.Enhance(resources.EnhanceModels.Get(enhance.Model, enhance.Threads), enhance);
            specs = SinkFactory.Create(config, instance, sinks, classNames, resources.SinkPool, resources, AnalyticsOverlays.Of(analytics),
                config.Source.IsFile, logger, m);
        }
        catch
        {
            // A stream that could not be configured leaves no series behind (Build does the same for what fails after).
            m.RemoveStream(config.Id);
            throw;
        }
        foreach (var spec in specs) builder.Sink(spec.Sink, spec.Runner);
        _run = builder.Build();
    }

    public string Id => _run.Id;
    public StreamConfig Config { get; }
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
    }
}
