using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Core;
using StreamVision.Pipeline;
using StreamVision.Inference;

namespace StreamVision.App.Service;

/// <summary>
/// The running instance: one shared frame pool and detector (behind the cross-stream batcher), and the streams, which
/// start, fail and stop independently. Streams can be added and removed at run time and the configuration reloaded.
/// </summary>
public sealed class StreamManager : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, StreamHost> _streams = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (StreamConfig Config, string Error)> _notStarted = new(StringComparer.Ordinal);
    /// <summary>Start, add, remove and reload run one at a time, each holding this for its whole run.</summary>
    private readonly SemaphoreSlim _gate = new(1, 1);
    /// <summary>Guards <see cref="_stopping"/> together with putting a started stream into <see cref="_streams"/>.</summary>
    private readonly object _registry = new();
    private readonly StackTraceOnce _stacks = new();
    private bool _stopping;
    private int _disposed;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IDetector? _detector;
    private readonly DetectionBatcher? _batcher;
    private readonly Inference.Classification.OnnxClassifier? _classifier;
    private readonly Inference.Classification.ClassifierBatcher? _classifierBatcher;
    private readonly ServiceResources _resources;
    private readonly Tracking.Motion.IMotionModel _motion;
    private SvConfig _config;

    /// <param name="metrics">Where every stage of every stream records; null = a registry of this manager's own.</param>
    public StreamManager(SvConfig config, ILoggerFactory loggers, PipelineMetrics? metrics = null)
    {
        _config = config;
        Metrics = metrics ?? new PipelineMetrics();
        _loggers = loggers;
        _logger = loggers.CreateLogger("streamvision");
        Pool = new FramePool(new FramePoolOptions { MaxBytes = (long)config.FramePoolMb << 20 });
        _resources = new ServiceResources();
        // One motion model for every stream's tracker (models are stateless over the track's own state).
        _motion = Tracking.Motion.MotionModels.Create(config.Tracker.Motion, config.Tracker.Options.Kalman, config.Tracker.MotionBlend);
        try
        {
            _detector = DetectorFactory.Create(config.Detector, _loggers.CreateLogger("detector"));
            if (_detector is not null) _batcher = new DetectionBatcher(_detector, config.Detector.Batch, _loggers.CreateLogger("detector"), Metrics);
            if (config.Classifier.Enabled)
            {
                // One classifier for every stream, batched across them like the detector.
                _classifier = Inference.Classification.OnnxClassifier.Load(config.Classifier, _loggers.CreateLogger("classifier"));
                _classifierBatcher = new Inference.Classification.ClassifierBatcher(_classifier, config.Classifier, _loggers.CreateLogger("classifier"), Metrics);
            }
        }
        catch
        {
            _classifier?.Dispose();
            _batcher?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _detector?.Dispose();
            Tracking.Motion.MotionModels.DisposeIfNeeded(_motion);
            throw;
        }
    }

    public SvConfig Config => _config;
    /// <summary>Applied to every configuration a reload brings (the web interface's state file of browser changes); null = none.</summary>
    public Func<SvConfig, SvConfig>? Overlay { get; set; }
    public PipelineMetrics Metrics { get; }
    public ServiceResources Resources => _resources;
    public FramePool Pool { get; }
    public IDetector? Detector => _detector;
    public IReadOnlyCollection<StreamHost> Streams => _streams.Values.OrderBy(s => s.Id, StringComparer.Ordinal).ToList();
    /// <summary>True once every configured stream was started (failures included: they are reported per stream).</summary>
    public bool Ready { get; private set; }

    public bool TryGet(string id, out StreamHost host) => _streams.TryGetValue(id, out host!);

    /// <summary>Configured streams that could not start (bad options, unwritable outputs), with the reason.</summary>
    public IReadOnlyList<(StreamConfig Config, string Error)> NotStarted => _notStarted.Values.OrderBy(v => v.Config.Id, StringComparer.Ordinal).ToList();

    /// <summary>Starts every enabled configured stream. A stream that cannot start is reported and the others go on.</summary>
    public async Task StartAsync()
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var s in _config.Streams.Where(s => s.Enabled))
            {
                try
                {
                    await AddCoreAsync(s).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    NotStartedBecause(s, ex);
                }
            }
            Ready = true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Adds and starts a stream. Throws when the id is taken (<see cref="StreamExistsException"/>), its sinks cannot be
    /// created, or the service is stopping (<see cref="ServiceStoppingException"/>). Waits for a running reload, add or remove to finish first.
    /// </summary>
    public async Task<StreamHost> AddAsync(StreamConfig config)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await AddCoreAsync(config).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops (draining within the shutdown deadline) and removes a stream. False when there is none. Waits for a running reload, add or remove to finish first.</summary>
    public async Task<bool> RemoveAsync(string id)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await RemoveCoreAsync(id).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies a new configuration's streams: removed ones stop, new ones start, changed ones restart; unchanged ones are
    /// untouched. Detector and HTTP changes need a restart (logged). Holds the same gate as <see cref="AddAsync"/> and
    /// <see cref="RemoveAsync"/> for its whole run, so API changes happen before or after it, never in between. Never
    /// throws for a stream: every error is logged and returned in the report (and the stream listed in <see cref="NotStarted"/>).
    /// </summary>
    public async Task<ReloadReport> ReloadAsync(SvConfig next)
    {
        ArgumentNullException.ThrowIfNull(next);
        next = Overlay?.Invoke(next) ?? next;
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            return await ReloadCoreAsync(next).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<ReloadReport> ReloadCoreAsync(SvConfig next)
    {
        var errors = new List<ReloadError>();
        if (Volatile.Read(ref _stopping))
        {
            errors.Add(new ReloadError("streams", "the service is stopping; nothing was changed"));
            _logger.LogError("configuration not reloaded: the service is stopping");
            return new ReloadReport { Errors = errors };
        }
        if (!ConfigEquality.Equal(next.Detector, _config.Detector)) _logger.LogWarning("detector settings changed: they take effect after a restart");
        var old = _config;
        _config = next with { Detector = old.Detector, Http = old.Http, Ui = old.Ui, FramePoolMb = old.FramePoolMb };
        int added = 0, removed = 0, restarted = 0;
        var wanted = next.Streams.Where(s => s.Enabled).ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var id in _notStarted.Keys.Where(id => !wanted.ContainsKey(id)).ToList()) _notStarted.TryRemove(id, out _);
        foreach (var host in _streams.Values.OrderBy(h => h.Id, StringComparer.Ordinal).ToList())
        {
            if (Volatile.Read(ref _stopping)) break;
            if (!wanted.TryGetValue(host.Id, out var cfg))
            {
                if (await TryStepAsync(host.Id, () => RemoveCoreAsync(host.Id), errors).ConfigureAwait(false)) removed++;
            }
            else if (!ConfigEquality.Equal(cfg, host.Config) || !ConfigEquality.Equal(next.Sinks, old.Sinks) || !ConfigEquality.Equal(next.Tracker, old.Tracker)
                     || !ConfigEquality.Equal(next.Tamper, old.Tamper) || !ConfigEquality.Equal(next.Enhance, old.Enhance)
                     || !ConfigEquality.Equal(next.Masks, old.Masks))
            {
                if (await TryStepAsync(host.Id, () => RemoveCoreAsync(host.Id), errors).ConfigureAwait(false)
                    && await TryStepAsync(cfg, () => AddCoreAsync(cfg), errors).ConfigureAwait(false))
                {
                    restarted++;
                }
            }
        }
        foreach (var (id, cfg) in wanted)
        {
            if (Volatile.Read(ref _stopping)) break;
            if (_streams.ContainsKey(id)) continue;
            if (await TryStepAsync(cfg, () => AddCoreAsync(cfg), errors).ConfigureAwait(false)) added++;
        }
        if (Volatile.Read(ref _stopping)) errors.Add(new ReloadError("streams", "the service began stopping during the reload; the rest was not applied"));
        var report = new ReloadReport { Added = added, Removed = removed, Restarted = restarted, Errors = errors };
        if (errors.Count == 0)
        {
            _logger.LogInformation("configuration reloaded: {Added} added, {Removed} removed, {Restarted} restarted", added, removed, restarted);
        }
        else
        {
            _logger.LogError("configuration reloaded with {Count} error(s): {Added} added, {Removed} removed, {Restarted} restarted; {Errors}",
                errors.Count, added, removed, restarted, string.Join("; ", errors));
        }
        return report;
    }

    /// <summary>Runs one step of a reload for a stream that cannot start; a failure is recorded (and logged) and the reload goes on.</summary>
    private async Task<bool> TryStepAsync(StreamConfig cfg, Func<Task> step, List<ReloadError> errors)
    {
        try
        {
            await step().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            errors.Add(new ReloadError($"streams.{cfg.Id}", NotStartedBecause(cfg, ex)));
            return false;
        }
    }

    /// <summary>Runs one step of a reload that stops a stream; a failure is recorded (and logged) and the reload goes on.</summary>
    private async Task<bool> TryStepAsync(string id, Func<Task<bool>> step, List<ReloadError> errors)
    {
        try
        {
            await step().ConfigureAwait(false);
            return true;
        }
        catch (Exception ex)
        {
            string message = Describe(ex);
            if (_stacks.IsFirst(ex)) _logger.LogError(ex, "stream {Stream} did not stop cleanly: {Error}", id, message);
            else _logger.LogError("stream {Stream} did not stop cleanly: {Error}", id, message);
            errors.Add(new ReloadError($"streams.{id}", message));
            return false;
        }
    }

    /// <summary>Records and logs why a configured stream did not start; returns the reason as the API shows it.</summary>
    private string NotStartedBecause(StreamConfig cfg, Exception ex)
    {
        string message = Describe(ex);
        // Expected failures (bad options, unwritable outputs) are one line; anything else carries its stack, once.
        if (IsExpected(ex) || !_stacks.IsFirst(ex)) _logger.LogError("stream {Stream} not started: {Error}", cfg.Id, message);
        else _logger.LogError(ex, "stream {Stream} not started: {Error}", cfg.Id, message);
        if (ex is not ServiceStoppingException) _notStarted[cfg.Id] = (cfg, message);
        return message;
    }

    private static bool IsExpected(Exception ex) => ex is StreamVisionException or IOException or UnauthorizedAccessException;

    private static string Describe(Exception ex) => IsExpected(ex) ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";

    /// <summary>Adds and starts a stream; the caller holds the gate.</summary>
    private async Task<StreamHost> AddCoreAsync(StreamConfig config)
    {
        if (Volatile.Read(ref _stopping)) throw new ServiceStoppingException(config.Id);
        if (_streams.TryGetValue(config.Id, out var existing) && existing.Status is StreamStatus.Running or StreamStatus.Degraded or StreamStatus.Starting)
            throw new StreamExistsException(config.Id);
        if (existing is not null)
        {
            _streams.TryRemove(config.Id, out _);
            await existing.DisposeAsync().ConfigureAwait(false);
        }
        var host = new StreamHost(config, _config, Pool, _batcher, _resources, _motion, _loggers.CreateLogger($"stream.{config.Id}"), Metrics,
            _classifierBatcher);
        bool stopping;
        lock (_registry)
        {
            // Inserted and started under the lock StopAllAsync takes: a stop never misses a stream that starts meanwhile.
            stopping = _stopping;
            if (!stopping)
            {
                _notStarted.TryRemove(config.Id, out _);
                _streams[config.Id] = host;
                host.Start();
            }
        }
        if (stopping)
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw new ServiceStoppingException(config.Id);
        }
        _logger.LogInformation("stream {Stream} started ({Uri})", config.Id, Ingest.SourceUri.Redact(config.Source.Uri));
        return host;
    }

    /// <summary>Stops and removes a stream; the caller holds the gate.</summary>
    private async Task<bool> RemoveCoreAsync(string id)
    {
        if (_notStarted.TryRemove(id, out _) && !_streams.ContainsKey(id)) return true;
        if (!_streams.TryRemove(id, out var host)) return false;
        await host.StopAsync(TimeSpan.FromSeconds(_config.ShutdownSeconds)).ConfigureAwait(false);
        await host.DisposeAsync().ConfigureAwait(false);
        _logger.LogInformation("stream {Stream} removed", id);
        return true;
    }

    /// <summary>
    /// Stops every stream in parallel within <paramref name="deadline"/>, finalising their outputs (a sink still busy at the
    /// deadline is abandoned and logged). From here on the manager starts no stream: a reload in progress stops at its next
    /// step, adds are refused with <see cref="ServiceStoppingException"/>. What SIGTERM does.
    /// </summary>
    public async Task StopAllAsync(TimeSpan deadline)
    {
        List<StreamHost> hosts;
        lock (_registry)
        {
            Volatile.Write(ref _stopping, true);
            hosts = _streams.Values.ToList();
        }
        await Task.WhenAll(hosts.Select(h => h.StopAsync(deadline))).ConfigureAwait(false);
    }

    /// <summary>After <see cref="DisposeAsync"/>: every output of the streams running at the end that was not finalised, and why.</summary>
    public IReadOnlyList<string> NotFinalised { get; private set; } = [];

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopAllAsync(TimeSpan.FromSeconds(_config.ShutdownSeconds)).ConfigureAwait(false);
        NotFinalised = _streams.Values.OrderBy(h => h.Id, StringComparer.Ordinal)
            .SelectMany(h => h.NotFinalised.Select(r => $"stream {h.Id}: {r}")).ToList();
        // A reload, add or remove still running finishes its current step first (it stops at the next: we are stopping).
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var h in _streams.Values) await h.DisposeAsync().ConfigureAwait(false);
            _streams.Clear();
        }
        finally
        {
            _gate.Release();
        }
        if (_batcher is not null) await _batcher.DisposeAsync().ConfigureAwait(false);
        if (_classifierBatcher is not null) await _classifierBatcher.DisposeAsync().ConfigureAwait(false);
        _classifier?.Dispose();
        _detector?.Dispose();
        Tracking.Motion.MotionModels.DisposeIfNeeded(_motion);
        _resources.TamperModels.Dispose();
        _resources.EnhanceModels.Dispose();
    }
}

/// <summary>The service is stopping: it takes no new stream.</summary>
public sealed class ServiceStoppingException : StreamVisionException
{
    public ServiceStoppingException(string streamId) : base($"stream '{streamId}' not started: the service is stopping") => StreamId = streamId;

    public string StreamId { get; }
}

/// <summary>A stream with this id is already running (the API answers 409).</summary>
public sealed class StreamExistsException : StreamVisionException
{
    public StreamExistsException(string streamId) : base($"streams.{streamId}: a stream with this id is already running") => StreamId = streamId;

    public string StreamId { get; }
}

/// <summary>One error of a reload: the configuration key or stream it concerns (<c>streams.ID</c>) and what went wrong.</summary>
public sealed record ReloadError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>What a reload did, and every error it met (each also logged). A refused configuration file changes nothing.</summary>
public sealed record ReloadReport
{
    public int Added { get; init; }
    public int Removed { get; init; }
    public int Restarted { get; init; }
    /// <summary>False when the configuration was refused as a whole (errors in the file): nothing was changed.</summary>
    public bool Applied { get; init; } = true;
    public IReadOnlyList<ReloadError> Errors { get; init; } = [];
    public bool Ok => Errors.Count == 0;
}
