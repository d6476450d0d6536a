using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Cluster;

/// <summary>
/// Membership and stream ownership of one instance in a cluster coordinated through etcd.
/// <list type="bullet">
/// <item>The instance holds a lease (<see cref="ClusterOptions.LeaseSeconds"/>) renewed every third of it, and registers
/// under it (<c>members/{instance}</c>). A dead instance's lease expires and with it every key it held.</item>
/// <item>The camera list is <c>streams/{id}</c> (the API's JSON for one stream). A stream is owned by whoever holds
/// <c>owners/{id}</c>, created in a transaction only while it does not exist and bound to the owner's lease; the
/// owner runs the stream. Rendezvous hashing over the live members says who should claim it (<see cref="Rendezvous"/>);
/// the next in the ranking takes over when the first choice leaves it unclaimed for a lease per rank.</item>
/// <item>When a member joins, an owner that is no longer a stream's first choice stops the stream and then releases it,
/// so a stream never runs on two instances at once.</item>
/// <item>An instance that cannot renew its lease stops all its streams shortly before the lease can expire (a lease
/// runs from when a renewal was sent, so etcd expires it no sooner) and re-joins with a new lease once etcd answers.</item>
/// </list>
/// Two loops: the lease loop (renewals and that deadline, never held up by streams starting or stopping) and the
/// reconcile loop (reads the prefix every <see cref="ClusterOptions.PollInterval"/>, claims, starts, stops, releases).
/// </summary>
public sealed class ClusterCoordinator : IAsyncDisposable
{
    /// <summary>Wait between attempts while etcd does not answer.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly ClusterOptions _options;
    private readonly IStreamRunner _runner;
    private readonly ILogger _logger;
    private readonly ClusterMetrics _metrics;
    private readonly ClusterKeys _keys;
    private readonly EtcdStore _store;
    private readonly object _leaseLock = new();
    private readonly SemaphoreSlim _gate = new(1, 1);           // local starts and stops
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, Running> _owned = new(StringComparer.Ordinal);  // id -> definition it runs with
    private readonly ConcurrentDictionary<string, string> _errors = new(StringComparer.Ordinal);  // id -> why it did not start
    private readonly Dictionary<string, long> _unownedSince = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Member, long Since)> _fallbackFor = new(StringComparer.Ordinal); // id -> first choice that left it
    // id -> revision of a definition this instance stored (UpdateStreamAsync) on top of one it does not run; under _gate
    private readonly Dictionary<string, long> _storedHere = new(StringComparer.Ordinal);
    private readonly List<(string Id, string Spec)> _seeds = new();
    private long _lease, _oldLease, _validUntil, _nextKeepAlive, _lastReconcile;
    private string? _apiUrl;
    private Task? _leaseLoop, _reconcileLoop;
    private volatile ClusterView _view = ClusterView.Empty;
    private int _disposed;

    /// <summary>The definition a stream runs with here and the etcd revision it was written at: only a definition written later restarts the stream.</summary>
    private readonly record struct Running(string Spec, long Revision);

    /// <param name="options">etcd endpoints, cluster name, lease (validated here).</param>
    /// <param name="runner">Starts and stops this instance's streams.</param>
    /// <param name="logger">Joins, claims, hand-offs, lost leases, etcd outages (once per outage).</param>
    /// <param name="metrics">Where <c>sv_cluster_*</c> series go; null = <see cref="PipelineMetrics.Default"/>.</param>
    public ClusterCoordinator(ClusterOptions options, IStreamRunner runner, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(runner);
        options.Validate();
        _options = options;
        _runner = runner;
        _logger = logger ?? NullLogger.Instance;
        _metrics = new ClusterMetrics(metrics);
        _keys = new ClusterKeys(options.Prefix);
        _store = new EtcdStore(options.Endpoints, options.RequestTimeout);
    }

    public string InstanceId => _options.InstanceId;
    public ClusterOptions Options => _options;
    /// <summary>True while this instance holds a lease that etcd cannot have expired yet (it may run streams).</summary>
    public bool IsMember => ValidLease() != 0;
    /// <summary>The current lease id (0 = none).</summary>
    public long LeaseId => Interlocked.Read(ref _lease);
    /// <summary>How long the lease stays valid without another renewal (zero when there is none).</summary>
    public TimeSpan LeaseRemaining
    {
        get
        {
            lock (_leaseLock)
            {
                if (_lease == 0) return TimeSpan.Zero;
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _validUntil);
                return left > TimeSpan.Zero ? left : TimeSpan.Zero;
            }
        }
    }
    /// <summary>Streams this instance owns and runs (or tried to start), by id.</summary>
    public IReadOnlyCollection<string> Owned => _owned.Keys.Order(StringComparer.Ordinal).ToList();
    /// <summary>Why an owned stream could not start, or null.</summary>
    public string? StartError(string id) => _errors.TryGetValue(id, out var e) ? e : null;
    /// <summary>The cluster as the last reconcile read it.</summary>
    public ClusterView LastView => _view;

    /// <summary>Test hook: awaited by each reconcile pass after it read the cluster and before it acts on what it read.</summary>
    internal Func<Task>? DangerousAfterRead { get; set; }

    /// <summary>Streams to put in the cluster's list when missing (the configuration file's <c>streams:</c>), once this instance has joined.</summary>
    public void Seed(IEnumerable<(string Id, string Spec)> streams)
    {
        lock (_seeds) _seeds.AddRange(streams);
    }

    /// <summary>Starts the loops; <paramref name="apiUrl"/> is where the other instances reach this one's API (null = none). Joining happens in the background.</summary>
    public void Start(string? apiUrl)
    {
        if (_leaseLoop is not null) throw new InvalidOperationException("the coordinator is already started");
        _apiUrl = _options.AdvertiseUrl ?? apiUrl;
        _leaseLoop = Task.Run(() => LeaseLoopAsync(_stop.Token));
        _reconcileLoop = Task.Run(() => ReconcileLoopAsync(_stop.Token));
    }

    /// <summary>Reads the whole cluster from etcd now.</summary>
    /// <exception cref="ClusterException">etcd did not answer.</exception>
    public async Task<ClusterView> ReadAsync(CancellationToken ct = default)
    {
        var snap = _keys.Parse(await _store.RangeAsync(_keys.Prefix, ct).ConfigureAwait(false));
        return snap.ToView();
    }

    /// <summary>Adds a stream to the cluster's list; false when the id is taken. Some instance starts it within a poll interval.</summary>
    /// <exception cref="ClusterException">etcd did not answer.</exception>
    public async Task<bool> AddStreamAsync(string id, string spec, CancellationToken ct = default)
    {
        bool created = await _store.CreateAsync(_keys.Stream(id), spec, 0, ct).ConfigureAwait(false);
        if (created) Wake();
        return created;
    }

    /// <summary>A stream's definition in the cluster's list, or null when there is none.</summary>
    /// <exception cref="ClusterException">etcd did not answer.</exception>
    public async Task<string?> ReadStreamAsync(string id, CancellationToken ct = default) =>
        (await ReadStreamEntryAsync(id, ct).ConfigureAwait(false))?.Value;

    /// <summary>The stream's key in the cluster's list with its value and revisions; null when there is none.</summary>
    private async Task<EtcdEntry?> ReadStreamEntryAsync(string id, CancellationToken ct)
    {
        string key = _keys.Stream(id);
        var entries = await _store.RangeAsync(key, ct).ConfigureAwait(false);
        return entries.FirstOrDefault(e => e.Key == key);
    }

    /// <summary>
    /// Changes a stream's definition in the cluster's list in a way its owner already runs (zones and lines changed live
    /// there): <paramref name="change"/> gets the stored definition and returns the new one, written only if nobody wrote
    /// in between (else read and changed again), so a definition written elsewhere at the same time is kept, not
    /// overwritten. The owner keeps the stream running, and whichever instance runs it next starts from this definition.
    /// The owner records the revision of this write, so a reconcile pass that read the list before it (and sees the old
    /// definition) does not take that for a change either; but when what it changed is not what the owner runs (a
    /// definition written elsewhere since it started), the next pass restarts the stream with the result, and a pass that
    /// read the other write before this one does not restart it with that first.
    /// False when the stream is not in the list.
    /// </summary>
    /// <exception cref="ClusterException">etcd did not answer, or the definition kept changing under it.</exception>
    public async Task<bool> UpdateStreamAsync(string id, Func<string, string> change, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(change);
        // Under the gate of local starts and stops, so a reconcile pass does not take the new definition for a changed
        // stream and restart it.
        await _gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            for (int attempt = 0; attempt < 5; attempt++)
            {
                var stored = await ReadStreamEntryAsync(id, ct).ConfigureAwait(false);
                if (stored is null) return false;
                string spec = change(stored.Value);
                var (written, revision) = await _store.PutIfUnchangedAsync(stored.Key, spec, stored.ModRevision, ct).ConfigureAwait(false);
                if (!written) continue; // written elsewhere since the read: change that instead
                if (_owned.TryGetValue(id, out var running) && stored.ModRevision == running.Revision) _owned[id] = new Running(spec, revision);
                else _storedHere[id] = revision;
                return true;
            }
            throw new ClusterException($"stream '{id}': its definition kept changing while this instance stored its change; try again");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Removes a stream from the cluster's list; false when there was none. Its owner stops it within a poll interval.</summary>
    /// <exception cref="ClusterException">etcd did not answer.</exception>
    public async Task<bool> RemoveStreamAsync(string id, CancellationToken ct = default)
    {
        bool deleted = await _store.DeleteAsync(_keys.Stream(id), ct).ConfigureAwait(false);
        if (deleted) Wake();
        return deleted;
    }

    private void Wake()
    {
        try
        {
            if (_wake.CurrentCount == 0) _wake.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>Renewals stop this long before the lease could expire in etcd: the time a stop needs to halt the sources.</summary>
    private TimeSpan FenceMargin => TimeSpan.FromSeconds(Math.Min(1.0, _options.LeaseSeconds / 4.0));
    private TimeSpan KeepAliveInterval => TimeSpan.FromSeconds(_options.LeaseSeconds / 3.0);
    /// <summary>A stream taken over from a first choice that left it unclaimed goes back to it only after this long (no flapping with a member that cannot claim).</summary>
    private TimeSpan FallbackHold => TimeSpan.FromSeconds(5.0 * _options.LeaseSeconds);

    /// <summary>The lease while it is valid with the fence margin to spare, else 0.</summary>
    private long ValidLease()
    {
        lock (_leaseLock)
        {
            if (_lease == 0) return 0;
            return Stopwatch.GetTimestamp() < FenceAt() ? _lease : 0;
        }
    }

    private long FenceAt() => _validUntil - (long)(FenceMargin.TotalSeconds * Stopwatch.Frequency);

    private static long After(long timestamp, TimeSpan span) => timestamp + (long)(span.TotalSeconds * Stopwatch.Frequency);

    private static TimeSpan Until(long timestamp) => Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);

    // ---- lease loop -------------------------------------------------------------------------------

    private async Task LeaseLoopAsync(CancellationToken ct)
    {
        bool down = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                long lease = Interlocked.Read(ref _lease);
                if (lease == 0)
                {
                    await JoinAsync(ct).ConfigureAwait(false);
                    if (down) _logger.LogInformation("cluster {Cluster}: etcd answers again", _options.Name);
                    down = false;
                    continue;
                }
                long fenceAt;
                lock (_leaseLock) fenceAt = FenceAt();
                var wait = TimeSpan.FromTicks(Math.Min(Until(_nextKeepAlive).Ticks, Until(fenceAt).Ticks));
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
                if (Stopwatch.GetTimestamp() >= fenceAt)
                {
                    await FenceAsync(lease, $"no renewal answered for {_options.LeaseSeconds - FenceMargin.TotalSeconds:0.#} s").ConfigureAwait(false);
                    continue;
                }
                if (Stopwatch.GetTimestamp() < _nextKeepAlive) continue;
                long sent = Stopwatch.GetTimestamp();
                var timeout = Until(fenceAt);
                if (timeout > _options.RequestTimeout) timeout = _options.RequestTimeout;
                if (timeout < TimeSpan.FromMilliseconds(50)) timeout = TimeSpan.FromMilliseconds(50);
                long ttl = await _store.KeepAliveAsync(lease, timeout, ct).ConfigureAwait(false);
                if (ttl <= 0)
                {
                    await FenceAsync(lease, "etcd says it expired").ConfigureAwait(false);
                    continue;
                }
                lock (_leaseLock)
                {
                    if (_lease == lease) _validUntil = Math.Max(_validUntil, After(sent, TimeSpan.FromSeconds(ttl)));
                }
                _nextKeepAlive = After(sent, KeepAliveInterval);
                if (down) _logger.LogInformation("cluster {Cluster}: etcd answers again; the lease held", _options.Name);
                down = false;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ClusterException ex)
            {
                _metrics.EtcdErrors.Inc();
                if (!down) _logger.LogWarning("cluster {Cluster}: {Error}; retrying{Deadline}", _options.Name, ex.Message,
                    IsMember ? $" (the streams here stop in {LeaseRemaining.TotalSeconds - FenceMargin.TotalSeconds:0.#} s unless etcd answers)" : "");
                down = true;
                _nextKeepAlive = After(Stopwatch.GetTimestamp(), RetryDelay);
                if (Interlocked.Read(ref _lease) == 0)
                {
                    try
                    {
                        await Task.Delay(RetryDelay, ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "cluster {Cluster}: lease loop failed; retrying", _options.Name);
                try
                {
                    await Task.Delay(RetryDelay, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Revokes what is left of an earlier lease (its keys go), takes a new one and registers under it.</summary>
    private async Task JoinAsync(CancellationToken ct)
    {
        long old = Interlocked.Read(ref _oldLease);
        if (old != 0)
        {
            await _store.RevokeAsync(old, ct).ConfigureAwait(false);
            Interlocked.Exchange(ref _oldLease, 0);
        }
        long sent = Stopwatch.GetTimestamp();
        var (id, ttl) = await _store.GrantAsync(_options.LeaseSeconds, ct).ConfigureAwait(false);
        try
        {
            await _store.PutAsync(_keys.Member(InstanceId), MemberInfo.Json(InstanceId, _apiUrl), id, ct).ConfigureAwait(false);
        }
        catch
        {
            Interlocked.Exchange(ref _oldLease, id); // revoked on the next attempt
            throw;
        }
        lock (_leaseLock)
        {
            _validUntil = After(sent, TimeSpan.FromSeconds(ttl));
            _lease = id;
        }
        _nextKeepAlive = After(sent, KeepAliveInterval);
        _metrics.Member.Set(1);
        _logger.LogInformation("cluster {Cluster}: joined as {Instance} (lease {Lease:x}, {Ttl} s)", _options.Name, InstanceId, id, ttl);
        Wake();
    }

    /// <summary>
    /// The lease can no longer be trusted: stop every stream now (sources first, all at once), forget what was owned and
    /// re-join later. The keys of the old lease are revoked on re-joining (or expired by etcd meanwhile).
    /// </summary>
    private async Task FenceAsync(long lease, string why)
    {
        lock (_leaseLock)
        {
            if (_lease != lease) return;
            _lease = 0;
            _validUntil = 0;
        }
        Interlocked.Exchange(ref _oldLease, lease);
        _metrics.Member.Set(0);
        int n = _owned.Count;
        if (n > 0)
        {
            _metrics.Fences.Inc();
            _logger.LogWarning("cluster {Cluster}: lease {Lease:x} lost ({Why}); stopping {Count} stream(s) here so that no stream runs twice; re-joining when etcd answers",
                _options.Name, lease, why, n);
        }
        else
        {
            _logger.LogInformation("cluster {Cluster}: lease {Lease:x} lost ({Why}) while no stream ran here; re-joining when etcd answers", _options.Name, lease, why);
        }
        try
        {
            await _runner.StopAllAsync().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "cluster {Cluster}: stopping the streams failed", _options.Name);
        }
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var id in _owned.Keys.ToList()) await StopLocalAsync(id).ConfigureAwait(false);
            _fallbackFor.Clear();
            _unownedSince.Clear();
            _metrics.Owned.Set(0);
        }
        finally
        {
            _gate.Release();
        }
    }

    // ---- reconcile loop ---------------------------------------------------------------------------

    private async Task ReconcileLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_options.PollInterval, ct).ConfigureAwait(false);
                long lease = ValidLease();
                if (lease == 0) continue;
                var snap = _keys.Parse(await _store.RangeAsync(_keys.Prefix, ct).ConfigureAwait(false));
                _view = snap.ToView();
                if (DangerousAfterRead is { } afterRead) await afterRead().ConfigureAwait(false);
                await _gate.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await ReconcileAsync(snap, lease, ct).ConfigureAwait(false);
                }
                finally
                {
                    _gate.Release();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (ClusterException ex)
            {
                _metrics.EtcdErrors.Inc();
                _logger.LogDebug("cluster {Cluster}: {Error}", _options.Name, ex.Message);
            }
            catch (Exception ex)
            {
                _logger.LogError(ex, "cluster {Cluster}: reconcile failed; retrying", _options.Name);
            }
        }
    }

    private async Task ReconcileAsync(ClusterKeys.Snapshot snap, long lease, CancellationToken ct)
    {
        string me = InstanceId;
        long now = Stopwatch.GetTimestamp();
        // How long a stream has been unclaimed counts only over rounds seen one after the other: after a pause (no lease,
        // etcd away) nothing has been watched, and an old first sighting would take streams from members that just came back.
        if (_lastReconcile == 0 || Stopwatch.GetElapsedTime(_lastReconcile, now) > TimeSpan.FromSeconds(_options.LeaseSeconds / 2.0)) _unownedSince.Clear();
        _lastReconcile = now;
        await SeedAsync(snap, lease, ct).ConfigureAwait(false);
        if (!snap.Members.ContainsKey(me))
            await _store.PutAsync(_keys.Member(me), MemberInfo.Json(me, _apiUrl), lease, ct).ConfigureAwait(false);
        var live = snap.Members.Keys.Append(me).Distinct(StringComparer.Ordinal).ToList();
        foreach (var (id, spec) in snap.Streams)
        {
            if (ValidLease() != lease) return; // the lease loop fenced meanwhile
            long revision = snap.StreamRevisions.GetValueOrDefault(id);
            var ranked = Rendezvous.Rank(id, live);
            if (!snap.Owners.TryGetValue(id, out var owner))
            {
                if (!_unownedSince.TryGetValue(id, out long since)) _unownedSince[id] = since = now;
                int rank = ranked.ToList().IndexOf(me);
                bool mine = rank == 0;
                bool takeOver = rank > 0 && Stopwatch.GetElapsedTime(since, now) >= TimeSpan.FromSeconds((double)rank * _options.LeaseSeconds);
                if ((mine || takeOver) && await _store.CreateAsync(_keys.Owner(id), me, lease, ct).ConfigureAwait(false))
                {
                    _metrics.Claims.Inc();
                    _unownedSince.Remove(id);
                    if (takeOver)
                    {
                        _fallbackFor[id] = (ranked[0], now);
                        _logger.LogWarning("cluster {Cluster}: took stream {Stream} over: its first choice {Member} left it unclaimed", _options.Name, id, ranked[0]);
                    }
                    await StartLocalAsync(id, spec, revision, ct).ConfigureAwait(false);
                }
                continue;
            }
            _unownedSince.Remove(id);
            if (owner.Instance == me && owner.Lease == lease)
            {
                if (!_owned.TryGetValue(id, out var running))
                {
                    await StartLocalAsync(id, spec, revision, ct).ConfigureAwait(false);
                }
                else if (running.Spec != spec && revision > running.Revision && !(_storedHere.TryGetValue(id, out long storedHere) && revision < storedHere))
                {
                    // (A pass that read the list before a definition this instance stored since sees an older one: it waits for
                    // the next pass, which restarts the stream once, with what was stored, not twice, first without it.)
                    // Changed after what runs here (not a read that predates a change made here): restart with it.
                    await StopLocalAsync(id).ConfigureAwait(false);
                    await StartLocalAsync(id, spec, revision, ct).ConfigureAwait(false);
                }
                else if (ranked[0] != me && !(_fallbackFor.TryGetValue(id, out var skipped) && skipped.Member == ranked[0]
                    && Stopwatch.GetElapsedTime(skipped.Since, now) < FallbackHold))
                {
                    // A member joined that should own this stream: stop here first, then release, so it never runs twice.
                    await StopLocalAsync(id).ConfigureAwait(false);
                    if (await _store.DeleteIfAsync(_keys.Owner(id), me, lease, ct).ConfigureAwait(false))
                    {
                        _metrics.Handoffs.Inc();
                        _logger.LogInformation("cluster {Cluster}: handed stream {Stream} to {Member}", _options.Name, id, ranked[0]);
                    }
                    Wake();
                }
            }
            else
            {
                if (_owned.ContainsKey(id))
                {
                    _logger.LogWarning("cluster {Cluster}: stream {Stream} is owned by {Owner} now; stopped here", _options.Name, id, owner.Instance);
                    await StopLocalAsync(id).ConfigureAwait(false);
                }
                if (owner.Instance == me) await _store.DeleteIfAsync(_keys.Owner(id), me, owner.Lease, ct).ConfigureAwait(false); // an earlier lease's claim
            }
        }
        foreach (var id in _owned.Keys.Where(id => !snap.Streams.ContainsKey(id)).ToList())
        {
            _logger.LogInformation("cluster {Cluster}: stream {Stream} was removed from the cluster", _options.Name, id);
            await StopLocalAsync(id).ConfigureAwait(false);
        }
        foreach (var (id, owner) in snap.Owners)
        {
            if (!snap.Streams.ContainsKey(id) && owner.Instance == me) await _store.DeleteIfAsync(_keys.Owner(id), me, owner.Lease, ct).ConfigureAwait(false);
        }
        foreach (var id in _unownedSince.Keys.Where(id => !snap.Streams.ContainsKey(id) || snap.Owners.ContainsKey(id)).ToList()) _unownedSince.Remove(id);
        foreach (var id in _fallbackFor.Keys.Where(id => !_owned.ContainsKey(id)).ToList()) _fallbackFor.Remove(id);
        foreach (var id in _storedHere.Keys.Where(id => !snap.Streams.ContainsKey(id) || snap.StreamRevisions.GetValueOrDefault(id) >= _storedHere[id]).ToList())
            _storedHere.Remove(id);
        _metrics.Members.Set(live.Count);
        _metrics.Streams.Set(snap.Streams.Count);
        _metrics.Owned.Set(_owned.Count);
    }

    private async Task SeedAsync(ClusterKeys.Snapshot snap, long lease, CancellationToken ct)
    {
        List<(string Id, string Spec)> seeds;
        lock (_seeds)
        {
            if (_seeds.Count == 0) return;
            seeds = _seeds.ToList();
        }
        int added = 0;
        foreach (var (id, spec) in seeds)
        {
            if (!snap.Streams.ContainsKey(id) && await _store.CreateAsync(_keys.Stream(id), spec, 0, ct).ConfigureAwait(false)) added++;
            lock (_seeds) _seeds.Remove((id, spec));
        }
        if (added > 0)
        {
            _logger.LogInformation("cluster {Cluster}: added {Count} stream(s) of the configuration file to the cluster's list", _options.Name, added);
            Wake();
        }
    }

    private async Task StartLocalAsync(string id, string spec, long revision, CancellationToken ct)
    {
        _owned[id] = new Running(spec, revision);
        try
        {
            await _runner.StartAsync(id, spec, ct).ConfigureAwait(false);
            _errors.TryRemove(id, out _);
            _logger.LogInformation("cluster {Cluster}: stream {Stream} runs here", _options.Name, id);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _errors[id] = ex.Message;
            _logger.LogError("cluster {Cluster}: stream {Stream} is owned here but did not start: {Error}", _options.Name, id, ex.Message);
        }
    }

    private async Task StopLocalAsync(string id)
    {
        _owned.TryRemove(id, out _);
        _errors.TryRemove(id, out _);
        try
        {
            await _runner.StopAsync(id).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "cluster {Cluster}: stopping stream {Stream} failed", _options.Name, id);
        }
    }

    /// <summary>
    /// Test hook: the instance vanishes as if its process had been killed: the loops stop, nothing is stopped, released
    /// or revoked; its lease runs out in etcd and its keys go with it. The runner is not called again.
    /// </summary>
    internal async Task DangerousAbandonAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopLoopsAsync().ConfigureAwait(false);
        _store.Dispose();
    }

    /// <summary>Cancels the lease and reconcile loops and waits until both have ended (the one stop path of abandon and dispose).</summary>
    private async Task StopLoopsAsync()
    {
        _stop.Cancel();
        foreach (var loop in new[] { _leaseLoop, _reconcileLoop })
        {
            if (loop is null) continue;
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// Leaves the cluster: stops the loops and this instance's streams (draining), then revokes the lease so the other
    /// instances take the streams at once instead of after the lease. Idempotent.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopLoopsAsync().ConfigureAwait(false);
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            foreach (var id in _owned.Keys.ToList()) await StopLocalAsync(id).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
        long lease = Interlocked.Exchange(ref _lease, 0);
        _metrics.Member.Set(0);
        _metrics.Owned.Set(0);
        if (lease != 0)
        {
            try
            {
                await _store.RevokeAsync(lease, CancellationToken.None).ConfigureAwait(false);
                _logger.LogInformation("cluster {Cluster}: left (lease {Lease:x} revoked)", _options.Name, lease);
            }
            catch (ClusterException ex)
            {
                _logger.LogWarning("cluster {Cluster}: could not revoke the lease on leaving ({Error}); the others take the streams when it expires", _options.Name, ex.Message);
            }
        }
        _store.Dispose();
        _stop.Dispose();
        _gate.Dispose();
        _wake.Dispose();
    }
}
