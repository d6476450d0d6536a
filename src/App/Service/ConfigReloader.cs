using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Core;

namespace StreamVision.App.Service;

/// <summary>
/// Reloads the service's configuration file on request (SIGHUP, <c>POST /api/reload</c>). One reload runs at a time;
/// requests that arrive while one runs are folded into one more run after it, which reads the file as it is then. Every
/// error (the file's, each stream's) is logged and returned in the <see cref="ReloadReport"/>, never thrown.
/// </summary>
public sealed class ConfigReloader
{
    private readonly string _path;
    private readonly StreamManager _manager;
    private readonly ILogger _logger;
    private readonly Func<SvConfig, Task<ReloadReport>> _apply;
    private readonly StackTraceOnce _stacks = new();
    private readonly object _gate = new();
    private Task<ReloadReport> _last = Task.FromResult(new ReloadReport());
    private Task<ReloadReport>? _queued;

    /// <param name="apply">Applies a configuration that loaded without errors; null = the manager's
    /// <see cref="StreamManager.ReloadAsync"/> (a cluster member hands the file's streams to the cluster instead).</param>
    public ConfigReloader(string path, StreamManager manager, ILogger logger, Func<SvConfig, Task<ReloadReport>>? apply = null)
    {
        _path = path ?? throw new ArgumentNullException(nameof(path));
        _manager = manager ?? throw new ArgumentNullException(nameof(manager));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _apply = apply ?? _manager.ReloadAsync;
    }

    public string Path => _path;

    /// <summary>Completes when every reload requested so far has finished.</summary>
    public Task Idle
    {
        get
        {
            lock (_gate) return _last;
        }
    }

    /// <summary>
    /// Asks for a reload: starts one now, or after the one running (requests made meanwhile share that next run). The
    /// task completes with that reload's report and never faults.
    /// </summary>
    public Task<ReloadReport> RequestAsync()
    {
        lock (_gate)
        {
            if (_queued is not null) return _queued;
            var next = RunAfterAsync(_last);
            _queued = next;
            _last = next;
            return next;
        }
    }

    private async Task<ReloadReport> RunAfterAsync(Task previous)
    {
        await Task.Yield(); // RequestAsync records this task before it leaves the queue (below)
        await previous.ConfigureAwait(false); // never faults
        lock (_gate) _queued = null; // running now: later requests read the file again after this one
        return await ReloadOnceAsync().ConfigureAwait(false);
    }

    private async Task<ReloadReport> ReloadOnceAsync()
    {
        try
        {
            SvConfig next;
            try
            {
                next = ConfigLoader.LoadFile(_path);
            }
            catch (ConfigException ex)
            {
                var errors = ex.Errors.Select(e => new ReloadError(e.Path, e.Message)).ToList();
                _logger.LogError("reload of {Path} refused, keeping the running configuration: {Count} error(s): {Errors}",
                    _path, errors.Count, string.Join("; ", errors));
                return new ReloadReport { Applied = false, Errors = errors };
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogError("reload of {Path} refused, keeping the running configuration: {Error}", _path, ex.Message);
                return new ReloadReport { Applied = false, Errors = [new ReloadError(_path, ex.Message)] };
            }
            return await _apply(next).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (_stacks.IsFirst(ex)) _logger.LogError(ex, "reload of {Path} failed: {Error}", _path, ex.Message);
            else _logger.LogError("reload of {Path} failed: {Error}", _path, ex.Message);
            return new ReloadReport { Applied = false, Errors = [new ReloadError(_path, $"{ex.GetType().Name}: {ex.Message}")] };
        }
    }
}
