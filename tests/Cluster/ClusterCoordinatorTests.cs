using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Cluster;
using StreamVision.Core;

namespace StreamVision.Cluster.Tests;

/// <summary>
/// Coordinators in one process against a real etcd (one member: these tests are about ownership, not etcd's own
/// fail-over), with runners that only record what runs where (<see cref="Ledger"/>): a stream starting on one instance
/// while it runs on another is recorded as a violation.
/// </summary>
public sealed class ClusterCoordinatorTests : IDisposable
{
    private const int Lease = 2;
    private readonly EtcdCluster _etcd = new(1);
    private readonly Ledger _ledger = new();
    private readonly List<ClusterCoordinator> _nodes = new();
    private readonly string _name = $"t{Guid.NewGuid():N}"[..12];

    public ClusterCoordinatorTests() => _etcd.Start();

    private ClusterCoordinator Node(string id, FakeRunner? runner = null)
    {
        var options = new ClusterOptions
        {
            Endpoints = _etcd.ClientUrls,
            Name = _name,
            InstanceId = id,
            LeaseSeconds = Lease,
            PollInterval = TimeSpan.FromMilliseconds(100),
        };
        var node = new ClusterCoordinator(options, runner ?? new FakeRunner(id, _ledger), NullLogger.Instance, new PipelineMetrics());
        _nodes.Add(node);
        node.Start($"http://{id}.invalid:8080");
        return node;
    }

    private static string Spec(string id) => $$"""{"id":"{{id}}","uri":"lavfi:testsrc2"}""";

    private static async Task AddAsync(ClusterCoordinator node, IEnumerable<string> ids)
    {
        foreach (var id in ids) Assert.True(await node.AddStreamAsync(id, Spec(id)));
    }

    /// <summary>Every listed stream runs, each on the instance rendezvous hashing picks among <paramref name="members"/>.</summary>
    private bool Settled(IReadOnlyCollection<string> streams, params string[] members)
    {
        var running = _ledger.Snapshot();
        return running.Count == streams.Count && streams.All(s => running.TryGetValue(s, out var on) && on == Rendezvous.Owner(s, members));
    }

    [Fact]
    public async Task EveryStreamRunsOnExactlyOneInstanceAndFollowsTheList()
    {
        var a = Node("a");
        var b = Node("b");
        await Poll.UntilAsync(() => Task.FromResult(a.IsMember && b.IsMember), TimeSpan.FromSeconds(20), "both joined");
        var streams = Enumerable.Range(0, 12).Select(i => $"cam{i}").ToList();
        await AddAsync(a, streams);
        Assert.False(await b.AddStreamAsync("cam0", Spec("cam0"))); // one list for the cluster: the id is taken
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "b")), TimeSpan.FromSeconds(20), "streams spread over a and b");
        Assert.NotEmpty(_ledger.On("a"));
        Assert.NotEmpty(_ledger.On("b"));

        // Both instances see the same list with the same owners, and the owners are what runs.
        var view = await b.ReadAsync();
        Assert.Equal(["a", "b"], view.Members.Select(m => m.Id));
        Assert.Equal("http://a.invalid:8080", view.Members[0].ApiUrl);
        Assert.All(view.Streams, s => Assert.Equal(_ledger.Snapshot()[s.Id], s.Owner));

        // Removing streams on either instance stops them where they run.
        Assert.True(await b.RemoveStreamAsync("cam0"));
        Assert.True(await a.RemoveStreamAsync("cam1"));
        Assert.False(await a.RemoveStreamAsync("cam1"));
        streams.RemoveRange(0, 2);
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "b")), TimeSpan.FromSeconds(20), "removed streams stopped");
        Assert.Empty(_ledger.Violations);
    }

    [Fact]
    public async Task AKilledInstancesStreamsMoveOnceItsLeaseExpiresAndALeavingOnesAtOnce()
    {
        var a = Node("a");
        var b = Node("b");
        var c = Node("c");
        var streams = Enumerable.Range(0, 12).Select(i => $"door-{i}").ToList();
        await Poll.UntilAsync(() => Task.FromResult(a.IsMember && b.IsMember && c.IsMember), TimeSpan.FromSeconds(20), "all joined");
        await AddAsync(a, streams);
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "b", "c")), TimeSpan.FromSeconds(20), "streams spread over a, b and c");
        var orphans = _ledger.On("b");
        Assert.NotEmpty(orphans);

        // b dies: nothing stops, nothing is released; its lease runs out in etcd.
        var killed = Stopwatch.StartNew();
        await b.DangerousAbandonAsync();
        _ledger.Crash("b");
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "c")), TimeSpan.FromSeconds(Lease + 5), "b's streams moved within lease + 5 s");
        Assert.True(killed.Elapsed >= TimeSpan.FromSeconds(Lease) * 0.5, $"moved after {killed.Elapsed.TotalSeconds:0.0} s: before b's lease could expire");

        // c leaves gracefully: its lease is revoked and its keys go at once, so a takes everything without waiting for expiry.
        await c.DisposeAsync();
        Assert.DoesNotContain("/members/c", _etcd.Ctl($"get --prefix --keys-only /streamvision/{_name}/"));
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a")), TimeSpan.FromSeconds(Lease + 5), "c's streams moved to a");
        Assert.Empty(_ledger.Violations);
    }

    [Fact]
    public async Task AJoiningInstanceTakesItsShareWithoutAStreamEverRunningTwice()
    {
        var a = Node("a");
        var streams = Enumerable.Range(0, 16).Select(i => $"lane{i}").ToList();
        await Poll.UntilAsync(() => Task.FromResult(a.IsMember), TimeSpan.FromSeconds(20), "a joined");
        await AddAsync(a, streams);
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a")), TimeSpan.FromSeconds(20), "all on a");
        long startsBefore = _ledger.Starts;
        Node("b");
        Node("c");
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "b", "c")), TimeSpan.FromSeconds(20), "rebalanced over a, b and c");
        // Only the streams b and c win moved (rendezvous hashing), each started once more.
        int moved = streams.Count(s => Rendezvous.Owner(s, ["a", "b", "c"]) != "a");
        Assert.Equal(startsBefore + moved, _ledger.Starts);
        Assert.Empty(_ledger.Violations);
    }

    [Fact]
    public async Task LosingEtcdStopsTheStreamsBeforeTheLeaseEndsAndTheyComeBackWithEtcd()
    {
        var a = Node("a");
        var b = Node("b");
        var streams = Enumerable.Range(0, 6).Select(i => $"gate{i}").ToList();
        await Poll.UntilAsync(() => Task.FromResult(a.IsMember && b.IsMember), TimeSpan.FromSeconds(20), "both joined");
        await AddAsync(a, streams);
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "b")), TimeSpan.FromSeconds(20), "streams running");

        var lost = Stopwatch.StartNew();
        _etcd.Kill(0);
        // The streams stop before the lease could end: within a lease of the last renewal, which was at most a third of a lease ago.
        await Poll.UntilAsync(() => Task.FromResult(_ledger.Snapshot().Count == 0), TimeSpan.FromSeconds(Lease + 5), "streams stopped without etcd");
        Assert.False(a.IsMember);
        Assert.False(b.IsMember);
        Assert.True(lost.Elapsed >= TimeSpan.FromSeconds(Lease / 3.0), $"stopped after {lost.Elapsed.TotalSeconds:0.0} s: sooner than a renewal could have failed");

        _etcd.StartMember(0);
        await Poll.UntilAsync(() => Task.FromResult(Settled(streams, "a", "b")), TimeSpan.FromSeconds(30), "streams back with etcd");
        Assert.Empty(_ledger.Violations);
    }

    [Fact]
    public async Task AStreamThatCannotStartStaysOwnedAndSaysWhy()
    {
        var runner = new FakeRunner("a", _ledger) { Refuse = "broken" };
        var a = Node("a", runner);
        await Poll.UntilAsync(() => Task.FromResult(a.IsMember), TimeSpan.FromSeconds(20), "a joined");
        await AddAsync(a, ["fine", "broken"]);
        await Poll.UntilAsync(() => Task.FromResult(a.StartError("broken") is not null && _ledger.On("a").Contains("fine")), TimeSpan.FromSeconds(20), "start error reported");
        Assert.Contains("cannot open", a.StartError("broken"));
        Assert.Equal(["broken", "fine"], a.Owned);
        int attempts = runner.Attempts("broken");
        await Task.Delay(500); // several reconcile rounds: a stream that failed is not retried in a loop
        Assert.Equal(attempts, runner.Attempts("broken"));
    }

    [Fact]
    public async Task ZonesStoredInTheDefinitionByItsOwnerRestartNothingAndAChangeFromElsewhereRestartsOnce()
    {
        var runner = new FakeRunner("a", _ledger);
        var a = Node("a", runner);
        await Poll.UntilAsync(() => Task.FromResult(a.IsMember), TimeSpan.FromSeconds(20), "a joined");
        await AddAsync(a, ["cam"]);
        await Poll.UntilAsync(() => Task.FromResult(_ledger.On("a").Contains("cam")), TimeSpan.FromSeconds(20), "cam running");
        var failSafe = TimeSpan.FromSeconds(30); // against a hang, not a speed bound
        int passes = 0, holdNext = 0;
        var read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.DangerousAfterRead = async () =>
        {
            Interlocked.Increment(ref passes);
            if (Interlocked.Exchange(ref holdNext, 0) == 1)
            {
                read.TrySetResult();
                await go.Task;
            }
        };
        async Task TwoMorePasses()
        {
            int from = Volatile.Read(ref passes);
            await Poll.UntilAsync(() => Task.FromResult(Volatile.Read(ref passes) >= from + 2), failSafe, "two more reconcile passes");
        }

        // The owner stores zones drawn on it (it applied them live) while a reconcile pass has read the old definition
        // and not acted on it yet: neither that pass nor the later ones restart the stream.
        Volatile.Write(ref holdNext, 1);
        await read.Task.WaitAsync(failSafe);
        string zoned = """{"id":"cam","uri":"lavfi:testsrc2","zones":[{"name":"door","polygon":[[0,0],[1,0],[1,1]]}]}""";
        Assert.True(await a.UpdateStreamAsync("cam", _ => zoned));
        go.SetResult();
        await TwoMorePasses();
        Assert.Equal(1, runner.Attempts("cam"));
        Assert.Equal(zoned, await a.ReadStreamAsync("cam"));

        // A definition changed by anyone else (etcdctl here; a user re-adding the stream) is a change: one restart, with it.
        string moved = Spec("cam").Replace("testsrc2", "testsrc2=size=320x240", StringComparison.Ordinal);
        _etcd.Ctl($"put /streamvision/{_name}/streams/cam \"{moved.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        await Poll.UntilAsync(() => Task.FromResult(runner.Attempts("cam") == 2), failSafe, "cam restarted with the new definition");
        await TwoMorePasses();
        Assert.Equal(2, runner.Attempts("cam"));
        Assert.Equal(moved, runner.LastSpec("cam"));

        // A definition written elsewhere, then zones stored by the owner before any pass acted on that write: the owner
        // did not run what it replaced, so the stream still restarts once, with the other write and the zones.
        read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref holdNext, 1); // after the new signals: a pass between would find the old ones set and not hold
        await read.Task.WaitAsync(failSafe);
        static string WithDoor(string spec) => spec.TrimEnd('}') + ""","zones":[{"name":"door","polygon":[[0,0],[1,0],[1,1]]}]}""";
        void PutElsewhere(string spec) => _etcd.Ctl($"put /streamvision/{_name}/streams/cam \"{spec.Replace("\"", "\\\"", StringComparison.Ordinal)}\"");
        string elsewhere = Spec("cam").Replace("testsrc2", "testsrc2=size=160x120", StringComparison.Ordinal);
        PutElsewhere(elsewhere);
        Assert.True(await a.UpdateStreamAsync("cam", WithDoor));
        go.SetResult();
        await Poll.UntilAsync(() => Task.FromResult(runner.Attempts("cam") == 3), failSafe, "cam restarted with the definition written elsewhere");
        await TwoMorePasses();
        Assert.Equal(3, runner.Attempts("cam"));
        Assert.Equal(WithDoor(elsewhere), runner.LastSpec("cam"));

        // A definition written elsewhere that a pass has read (and not acted on yet) when the owner stores zones on top of
        // it: that pass does not restart the stream with the definition without the zones; the next one restarts it once,
        // with both. (Seen on a loaded machine: the stale pass restarted it first without the zones, then again with them.)
        read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstGo = go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref holdNext, 1);
        await read.Task.WaitAsync(failSafe); // a pass that read before the write below: held, then let go with nothing to do
        string stale = Spec("cam").Replace("testsrc2", "testsrc2=size=128x96", StringComparison.Ordinal);
        PutElsewhere(stale);
        read = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref holdNext, 1);
        firstGo.SetResult();
        await read.Task.WaitAsync(failSafe); // the next pass began its read after the write: it holds the stale definition
        Assert.True(await a.UpdateStreamAsync("cam", WithDoor));
        go.SetResult();
        await Poll.UntilAsync(() => Task.FromResult(runner.Attempts("cam") == 4), failSafe, "cam restarted with the other write and the zones");
        await TwoMorePasses();
        Assert.Equal(4, runner.Attempts("cam"));
        Assert.Equal(WithDoor(stale), runner.LastSpec("cam"));

        // A write elsewhere between the owner's read and its write: the owner's write does not go through over it; it
        // reads again and adds its zones to that definition (the other write's uri is kept), and the stream restarts with it
        // once (a pass that read the other write in between does not restart it without the zones first).
        string racing = Spec("cam").Replace("testsrc2", "testsrc2=size=96x64", StringComparison.Ordinal);
        int calls = 0;
        Assert.True(await a.UpdateStreamAsync("cam", spec =>
        {
            if (calls++ == 0) PutElsewhere(racing);
            return WithDoor(spec);
        }));
        Assert.Equal(2, calls);
        Assert.Equal(WithDoor(racing), await a.ReadStreamAsync("cam"));
        await Poll.UntilAsync(() => Task.FromResult(runner.Attempts("cam") == 5), failSafe, "cam restarted with the racing write and the zones");
        await TwoMorePasses();
        Assert.Equal(5, runner.Attempts("cam"));
        Assert.Equal(WithDoor(racing), runner.LastSpec("cam"));
        Assert.Empty(_ledger.Violations);
    }

    public void Dispose()
    {
        foreach (var n in _nodes) n.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(15));
        _etcd.Dispose();
    }
}

/// <summary>Which instance runs which stream, as the fake runners report it; a start where the stream already runs elsewhere is a violation.</summary>
internal sealed class Ledger
{
    private readonly object _gate = new();
    private readonly Dictionary<string, string> _running = new(StringComparer.Ordinal);
    private long _starts;

    public List<string> Violations { get; } = new();
    public long Starts => Interlocked.Read(ref _starts);

    public void Start(string instance, string stream)
    {
        lock (_gate)
        {
            if (_running.TryGetValue(stream, out var other) && other != instance) Violations.Add($"{stream} started on {instance} while running on {other}");
            _running[stream] = instance;
        }
        Interlocked.Increment(ref _starts);
    }

    public void Stop(string instance, string stream)
    {
        lock (_gate)
        {
            if (_running.TryGetValue(stream, out var on) && on == instance) _running.Remove(stream);
        }
    }

    /// <summary>The instance's process died: its streams stop with it.</summary>
    public void Crash(string instance)
    {
        lock (_gate)
        {
            foreach (var s in _running.Where(kv => kv.Value == instance).Select(kv => kv.Key).ToList()) _running.Remove(s);
        }
    }

    public Dictionary<string, string> Snapshot()
    {
        lock (_gate) return new Dictionary<string, string>(_running, StringComparer.Ordinal);
    }

    public List<string> On(string instance)
    {
        lock (_gate) return _running.Where(kv => kv.Value == instance).Select(kv => kv.Key).Order(StringComparer.Ordinal).ToList();
    }
}

internal sealed class FakeRunner(string instance, Ledger ledger) : IStreamRunner
{
    private readonly HashSet<string> _mine = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _specs = new(StringComparer.Ordinal);

    /// <summary>A stream id whose start fails.</summary>
    public string? Refuse { get; init; }

    public int Attempts(string id)
    {
        lock (_mine) return _attempts.GetValueOrDefault(id);
    }

    /// <summary>The definition stream <paramref name="id"/> was last started with.</summary>
    public string? LastSpec(string id)
    {
        lock (_mine) return _specs.GetValueOrDefault(id);
    }

    public Task StartAsync(string id, string spec, CancellationToken ct)
    {
        lock (_mine)
        {
            _attempts[id] = _attempts.GetValueOrDefault(id) + 1;
            _specs[id] = spec;
            if (id == Refuse) throw new InvalidOperationException($"{id}: cannot open the source");
            _mine.Add(id);
        }
        ledger.Start(instance, id);
        return Task.CompletedTask;
    }

    public Task StopAsync(string id)
    {
        lock (_mine) _mine.Remove(id);
        ledger.Stop(instance, id);
        return Task.CompletedTask;
    }

    public Task StopAllAsync()
    {
        List<string> all;
        lock (_mine) all = _mine.ToList();
        foreach (var id in all) ledger.Stop(instance, id);
        return Task.CompletedTask;
    }
}
