using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.App.Pipeline;
using StreamVision.Core;
using StreamVision.Inference;
using StreamVision.Ingest;
using StreamVision.Sinks;
using StreamVision.Tracking;

namespace StreamVision.App.Service;

/// <summary>What a stream is doing, as the API shows it.</summary>
public enum StreamStatus
{
    Starting,
    Running,
    Ended,
    Failed,
    Stopped,
}

/// <summary>
/// One running stream: its source, analysis loop and sinks. Independent of every other stream: a failure here ends
/// only this stream (status Failed with the reason). Owns its sink runners; the source owns its frames until read.
/// </summary>
public sealed class StreamHost : IAsyncDisposable
{
    private readonly StreamConfig _config;
    private readonly ILogger _logger;
    private readonly VideoSource _source;
    private readonly List<SinkRunner> _sinks = new();
    private readonly StreamPipeline _pipeline;
    private readonly CancellationTokenSource _cts = new();
    private readonly DetectionBatcher? _batcher;
    private readonly ServiceResources _resources;
    private readonly PipelineMetrics _metrics;
    private readonly Prometheus.Gauge.Child _up;
    private Task? _run;
    private int _stopped;

    public StreamHost(StreamConfig config, SvConfig instance, FramePool pool, DetectionBatcher? batcher, ServiceResources resources,
        Tracking.Motion.IMotionModel? motion, ILogger logger, PipelineMetrics? metrics = null)
    {
        _config = config;
        _logger = logger;
        Id = config.Id;
        _metrics = metrics ?? PipelineMetrics.Default;
        try
        {
            _source = new VideoSource(config.Source, pool, logger, _metrics);
            var sinks = config.Sinks ?? instance.Sinks;
            var classNames = batcher?.Detector.ClassNames ?? [];
            bool lossless = !_source.IsLive;
            var runnerOptions = new SinkRunnerOptions
            {
                Capacity = sinks.QueueCapacity,
                Policy = lossless ? SinkQueuePolicy.Wait : SinkQueuePolicy.DropOldest,
            };
            _resources = resources;
            int index = instance.Streams.ToList().FindIndex(s => s.Id == config.Id);
            var analytics = SinkFactory.CreateAnalytics(config, index < 0 ? 0 : index, classNames);
            try
            {
                foreach (var spec in SinkFactory.Create(config, instance, sinks, classNames, pool, resources, analytics?.Overlays, lossless, logger, _metrics))
                    _sinks.Add(new SinkRunner(spec.Sink, Id, spec.Runner ?? runnerOptions, logger, _metrics));
            }
            catch
            {
                foreach (var s in _sinks) s.DisposeAsync().AsTask().GetAwaiter().GetResult();
                _source.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
            _batcher = batcher;
            var tracker = instance.Tracker.Enabled && batcher is not null ? new ByteTracker(instance.Tracker.Options, motion) : null;
            _pipeline = new StreamPipeline(Id, _source.Frames, batcher?.CreateClient(Id), tracker, classNames, _sinks, lossless, logger, analytics, metrics: _metrics);
            _up = _metrics.StreamUp.WithLabels(Id);
        }
        catch
        {
            // A stream that could not be built leaves no series behind.
            _metrics.RemoveStream(Id);
            throw;
        }
    }

    public string Id { get; }
    public StreamConfig Config => _config;
    public StreamStatus Status { get; private set; } = StreamStatus.Starting;
    public string? Error { get; private set; }
    public VideoSource Source => _source;
    public StreamStats Stats => _pipeline.Stats;
    public IReadOnlyList<SinkRunner> Sinks => _sinks;
    public Task Completion => _run ?? Task.CompletedTask;

    public void Start()
    {
        _source.Start();
        _run = RunAsync();
    }

    private async Task RunAsync()
    {
        await Task.Yield();
        Status = StreamStatus.Running;
        _up.Set(1);
        try
        {
            try
            {
                await _pipeline.RunAsync(_cts.Token).ConfigureAwait(false);
            }
            finally
            {
                _up.Set(0); // before the status says so
            }
            Status = Volatile.Read(ref _stopped) != 0 ? StreamStatus.Stopped : StreamStatus.Ended;
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            Status = StreamStatus.Stopped;
        }
        catch (Exception ex)
        {
            Status = StreamStatus.Failed;
            Error = ex is SourceException or StreamVisionException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            _logger.LogError("stream {Stream} failed: {Error}", Id, Error);
        }
        finally
        {
            if (_batcher?.Detector is MotionDetector motion) motion.ForgetStream(Id);
            foreach (var s in _sinks) await s.CompleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Frames per second over the last few seconds.</summary>
    public double Fps => Stats.Fps;

    /// <summary>Capture-to-analysed latency of the latest frame.</summary>
    public TimeSpan Latency => Stats.Latency;

    /// <summary>
    /// Stops the source, lets queued frames through within <paramref name="deadline"/>, then finalises every sink.
    /// After the deadline, what is still queued is dropped (files are still finalised). Idempotent.
    /// </summary>
    public async Task StopAsync(TimeSpan deadline)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            await Completion.ConfigureAwait(false);
            return;
        }
        await _source.StopAsync().ConfigureAwait(false);
        if (_run is not null)
        {
            var done = await Task.WhenAny(_run, Task.Delay(deadline)).ConfigureAwait(false);
            if (done != _run)
            {
                _logger.LogWarning("stream {Stream}: drain took longer than {Seconds} s; dropping what is queued", Id, deadline.TotalSeconds);
                _cts.Cancel();
                await _run.ConfigureAwait(false);
            }
        }
        if (Status is StreamStatus.Running or StreamStatus.Starting) Status = StreamStatus.Stopped;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        // Only our own preview: a stream re-added under the same id may have registered a new one already.
        if (_sinks.Select(r => r.Sink).OfType<MjpegPreviewSink>().FirstOrDefault() is { } mine)
            _resources.Previews.TryRemove(new KeyValuePair<string, MjpegPreviewSink>(Id, mine));
        foreach (var s in _sinks) await s.DisposeAsync().ConfigureAwait(false);
        await _source.DisposeAsync().ConfigureAwait(false);
        _cts.Dispose();
        // Nothing of the stream records any more: its series leave /metrics.
        _metrics.RemoveStream(Id);
    }
}
