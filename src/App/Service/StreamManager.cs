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
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly IDetector? _detector;
    private readonly DetectionBatcher? _batcher;
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
        _motion = Tracking.Motion.MotionModels.Create(config.Tracker.Motion, config.Tracker.Options.Kalman);
        try
        {
            _detector = DetectorFactory.Create(config.Detector, _loggers.CreateLogger("detector"));
            if (_detector is not null) _batcher = new DetectionBatcher(_detector, config.Detector.Batch, _loggers.CreateLogger("detector"), Metrics);
        }
        catch
        {
            Tracking.Motion.MotionModels.DisposeIfNeeded(_motion);
            throw;
        }
    }

    public SvConfig Config => _config;
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
        foreach (var s in _config.Streams.Where(s => s.Enabled))
        {
            try
            {
                await AddAsync(s).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException)
            {
                _logger.LogError("stream {Stream} not started: {Error}", s.Id, ex.Message);
                _notStarted[s.Id] = (s, ex.Message);
            }
        }
        Ready = true;
    }

    /// <summary>Adds and starts a stream. Throws when the id is taken or its sinks cannot be created.</summary>
    public async Task<StreamHost> AddAsync(StreamConfig config)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_streams.TryGetValue(config.Id, out var existing) && existing.Status is StreamStatus.Running or StreamStatus.Starting)
                throw new OptionsException($"streams.{config.Id}", "a stream with this id is already running");
            if (existing is not null)
            {
                _streams.TryRemove(config.Id, out _);
                await existing.DisposeAsync().ConfigureAwait(false);
            }
            var host = new StreamHost(config, _config, Pool, _batcher, _resources, _motion, _loggers.CreateLogger($"stream.{config.Id}"), Metrics);
            _notStarted.TryRemove(config.Id, out _);
            _streams[config.Id] = host;
            host.Start();
            _logger.LogInformation("stream {Stream} started ({Uri})", config.Id, Ingest.SourceUri.Redact(config.Source.Uri));
            return host;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops (draining within the shutdown deadline) and removes a stream. False when there is none.</summary>
    public async Task<bool> RemoveAsync(string id)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_notStarted.TryRemove(id, out _) && !_streams.ContainsKey(id)) return true;
            if (!_streams.TryRemove(id, out var host)) return false;
            await host.StopAsync(TimeSpan.FromSeconds(_config.ShutdownSeconds)).ConfigureAwait(false);
            await host.DisposeAsync().ConfigureAwait(false);
            _logger.LogInformation("stream {Stream} removed", id);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Applies a new configuration's streams: removed ones stop, new ones start, changed ones restart; unchanged ones are
    /// untouched. Detector and HTTP changes need a restart (logged).
    /// </summary>
    public async Task<(int Added, int Removed, int Restarted)> ReloadAsync(SvConfig next)
    {
        if (next.Detector != _config.Detector) _logger.LogWarning("detector settings changed: they take effect after a restart");
        var old = _config;
        _config = next with { Detector = old.Detector, Http = old.Http, FramePoolMb = old.FramePoolMb };
        int added = 0, removed = 0, restarted = 0;
        var wanted = next.Streams.Where(s => s.Enabled).ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var host in _streams.Values.ToList())
        {
            if (!wanted.TryGetValue(host.Id, out var cfg))
            {
                await RemoveAsync(host.Id).ConfigureAwait(false);
                removed++;
            }
            else if (!SameStream(cfg, host.Config) || next.Sinks != old.Sinks || next.Tracker != old.Tracker)
            {
                await RemoveAsync(host.Id).ConfigureAwait(false);
                await TryAddAsync(cfg).ConfigureAwait(false);
                restarted++;
            }
        }
        foreach (var (id, cfg) in wanted)
        {
            if (_streams.ContainsKey(id)) continue;
            if (await TryAddAsync(cfg).ConfigureAwait(false)) added++;
        }
        _logger.LogInformation("configuration reloaded: {Added} added, {Removed} removed, {Restarted} restarted", added, removed, restarted);
        return (added, removed, restarted);
    }

    private async Task<bool> TryAddAsync(StreamConfig cfg)
    {
        try
        {
            await AddAsync(cfg).ConfigureAwait(false);
            return true;
        }
        catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException)
        {
            _logger.LogError("stream {Stream} not started: {Error}", cfg.Id, ex.Message);
            _notStarted[cfg.Id] = (cfg, ex.Message);
            return false;
        }
    }

    private static bool SameStream(StreamConfig a, StreamConfig b) =>
        a.Source with { FfmpegOptions = null } == b.Source with { FfmpegOptions = null }
        && DictEqual(a.Source.FfmpegOptions, b.Source.FfmpegOptions)
        && a.Zones.SequenceEqual(b.Zones) && a.Lines.SequenceEqual(b.Lines) && a.Sinks == b.Sinks && a.Enabled == b.Enabled;

    private static bool DictEqual(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a is null || a.Count == 0) ? (b is null || b.Count == 0) : b is not null && a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    /// <summary>Stops every stream in parallel within <paramref name="deadline"/>, finalising their outputs.</summary>
    public async Task StopAllAsync(TimeSpan deadline)
    {
        var hosts = _streams.Values.ToList();
        await Task.WhenAll(hosts.Select(h => h.StopAsync(deadline))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAllAsync(TimeSpan.FromSeconds(_config.ShutdownSeconds)).ConfigureAwait(false);
        foreach (var h in _streams.Values) await h.DisposeAsync().ConfigureAwait(false);
        _streams.Clear();
        if (_batcher is not null) await _batcher.DisposeAsync().ConfigureAwait(false);
        _detector?.Dispose();
        Tracking.Motion.MotionModels.DisposeIfNeeded(_motion);
        _gate.Dispose();
    }
}
