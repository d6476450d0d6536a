using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using StreamVision.Cluster;
using Xunit.Abstractions;

namespace StreamVision.App.Tests.Commands;

/// <summary>
/// Three <c>streamvision run</c> processes clustered on a three-member etcd, all on loopback, with nine live test
/// patterns: every stream runs on exactly one instance, <c>kill -9</c> of one moves its streams within lease + 5 s,
/// stopping one etcd member changes nothing, the killed instance coming back takes its share again, and without etcd
/// the streams stop until it returns. A background sampler asks every instance what it runs four times a second: a
/// stream seen running on two instances in two samples in a row fails the test.
/// </summary>
public partial class RunCommandTests(ITestOutputHelper output)
{
    private const int ClusterLease = 4;

    [Fact]
    public async Task AClusterOfThreeRunsEachStreamOnceMovesAKilledInstancesStreamsAndRidesOutEtcdFailures()
    {
        using var etcd = new EtcdCluster(3);
        etcd.Start();
        string dir = TestEnvironment.NewTempDir();
        string name = $"t{Guid.NewGuid():N}"[..10];
        var nodes = new[] { "a", "b", "c" }.Select(id => new ClusterNode(id, dir, etcd, name, ClusterLease)).ToList();
        var streams = Enumerable.Range(1, 9).Select(i => $"cam{i}").ToList();
        var sampler = new DuplicateSampler(nodes);
        try
        {
            foreach (var n in nodes) n.Start();
            await Poll.UntilAsync(async () => (await Task.WhenAll(nodes.Select(n => n.ReadyAsync()))).All(r => r), TimeSpan.FromSeconds(90), "three instances joined");

            // Nine live test patterns, added through all three instances: one list for the cluster.
            for (int i = 0; i < streams.Count; i++)
            {
                var add = await nodes[i % 3].Http.PostAsync("/api/streams", Json($$"""{"id":"{{streams[i]}}","uri":"lavfi:testsrc2=size=160x120:rate=10","mode":"live"}"""));
                Assert.Equal(HttpStatusCode.Created, add.StatusCode);
            }
            Assert.Equal(HttpStatusCode.Conflict, (await nodes[2].Http.PostAsync("/api/streams", Json("""{"id":"cam1","uri":"lavfi:testsrc2"}"""))).StatusCode);
            // The API's fence holds in a cluster: a path outside the output root never reaches the cluster's list.
            var outside = await nodes[1].Http.PostAsync("/api/streams", Json("""{"id":"outside","uri":"lavfi:testsrc2","sinks":{"tracks":"/etc/passwd"}}"""));
            Assert.Equal(HttpStatusCode.BadRequest, outside.StatusCode);
            Assert.Contains("sinks.tracks", await outside.Content.ReadAsStringAsync());
            sampler.Start();

            // Every stream runs on exactly the instance rendezvous hashing picks, and analyses frames there.
            string[] all = ["a", "b", "c"];
            await Poll.UntilAsync(async () => Placed(await ClusterNode.SampleAsync(nodes), streams, all), TimeSpan.FromSeconds(60), "nine streams on their owners");
            var placement = await ClusterNode.SampleAsync(nodes);
            output.WriteLine("placement: " + string.Join(", ", streams.Select(s => $"{s}@{placement[s].Single().Node}")));
            Assert.All(nodes, n => Assert.Contains(placement.Values, v => v.Single().Node == n.Id));

            // The fleet view on any instance shows every stream with its owner, described by the owner.
            var fleet = (await nodes[1].Http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!;
            Assert.Equal(streams, fleet.Select(s => s.GetProperty("id").GetString()!));
            Assert.All(fleet, s => Assert.Equal(placement[s.GetProperty("id").GetString()!].Single().Node, s.GetProperty("owner").GetString()));
            Assert.All(fleet, s => Assert.Equal("running", s.GetProperty("status").GetString()));
            var view = (await nodes[0].Http.GetFromJsonAsync<JsonElement>("/api/cluster"));
            Assert.Equal(3, view.GetProperty("members").GetArrayLength());

            // kill -9 the instance that runs the most: its streams resume on the others within lease + 5 s.
            var victim = nodes.OrderByDescending(n => placement.Values.Count(v => v.Single().Node == n.Id)).First();
            var survivors = nodes.Where(n => n != victim).ToList();
            var moved = streams.Where(s => placement[s].Single().Node == victim.Id).ToList();
            var resumed = new Dictionary<string, TimeSpan>();
            var sw = Stopwatch.StartNew();
            victim.Kill();
            await Poll.UntilAsync(async () =>
            {
                var now = await ClusterNode.SampleAsync(survivors);
                foreach (var s in moved)
                {
                    if (!resumed.ContainsKey(s) && now.TryGetValue(s, out var on) && on.Any(r => r.Frames > 0)) resumed[s] = sw.Elapsed;
                }
                return resumed.Count == moved.Count;
            }, TimeSpan.FromSeconds(ClusterLease + 5), $"{victim.Id}'s streams resumed on the others");
            output.WriteLine($"kill -9 {victim.Id} (lease {ClusterLease} s): frames resumed after " +
                string.Join(", ", resumed.OrderBy(r => r.Value).Select(r => $"{r.Key} {r.Value.TotalSeconds:0.0} s")));
            string[] two = survivors.Select(n => n.Id).ToArray();
            await Poll.UntilAsync(async () => Placed(await ClusterNode.SampleAsync(survivors), streams, two), TimeSpan.FromSeconds(30), "nine streams on the two survivors");

            // Stopping one etcd member (the leader: the hardest one) changes nothing: same owners, frames go on, no fence.
            var before = await ClusterNode.SampleAsync(survivors);
            var fencesBefore = await Task.WhenAll(survivors.Select(n => n.FencesAsync()));
            int leader = etcd.LeaderIndex();
            Assert.True(leader >= 0, "etcd has a leader");
            etcd.Stop(leader);
            await Poll.UntilAsync(async () =>
            {
                var now = await ClusterNode.SampleAsync(survivors);
                // 1.5 leases of frames at 10 fps on every stream: long enough for a lost renewal to have fenced.
                return streams.All(s => now.TryGetValue(s, out var on) && on.Count == 1 && on[0].Frames >= before[s].Single().Frames + 15 * ClusterLease);
            }, TimeSpan.FromSeconds(60), "streams ran on while an etcd member was down");
            var after = await ClusterNode.SampleAsync(survivors);
            Assert.All(streams, s => Assert.Equal(before[s].Single().Node, after[s].Single().Node));
            Assert.Equal(fencesBefore, await Task.WhenAll(survivors.Select(n => n.FencesAsync())));
            etcd.StartMember(leader);

            // The killed instance comes back: it takes its share again, each stream stopped before it starts elsewhere.
            victim.Start();
            await Poll.UntilAsync(async () => Placed(await ClusterNode.SampleAsync(nodes), streams, all), TimeSpan.FromSeconds(60), "rebalanced over three");

            // Without etcd the streams stop before the lease could expire; they come back with etcd.
            sw.Restart();
            etcd.KillAll();
            await Poll.UntilAsync(async () => (await ClusterNode.SampleAsync(nodes)).Count == 0, TimeSpan.FromSeconds(ClusterLease + 5), "streams stopped without etcd");
            output.WriteLine($"all etcd members killed: every stream stopped after {sw.Elapsed.TotalSeconds:0.0} s");
            etcd.StartAll();
            await Poll.UntilAsync(async () => Placed(await ClusterNode.SampleAsync(nodes), streams, all), TimeSpan.FromSeconds(60), "streams back with etcd");

            await sampler.StopAsync();
            Assert.True(sampler.Samples > 20, $"only {sampler.Samples} samples");
            Assert.Empty(sampler.Twice);
        }
        catch
        {
            foreach (var n in nodes) output.WriteLine($"---- {n.Id}\n{n.Log}");
            throw;
        }
        finally
        {
            await sampler.StopAsync();
            foreach (var n in nodes) n.Dispose();
        }
    }

    private static StringContent Json(string s) => new(s, Encoding.UTF8, "application/json");

    /// <summary>Every stream runs with frames, on one instance only: the one rendezvous hashing picks among <paramref name="members"/>.</summary>
    private static bool Placed(Dictionary<string, List<(string Node, long Frames)>> running, IReadOnlyList<string> streams, string[] members) =>
        running.Count == streams.Count && streams.All(s => running.TryGetValue(s, out var on) && on.Count == 1 && on[0].Frames > 0
            && on[0].Node == Rendezvous.Owner(s, members));

    /// <summary>One <c>streamvision run</c> process of the cluster, logging to a file.</summary>
    private sealed class ClusterNode : IDisposable
    {
        private readonly string _config;
        private readonly string _log;
        private Process? _process;

        /// <param name="stages">YAML of the detector and sinks (default: no detector, no preview).</param>
        public ClusterNode(string id, string dir, EtcdCluster etcd, string cluster, int lease, string? stages = null)
        {
            stages ??= """
                detector:
                  model: none
                sinks:
                  preview: false
                """;
            Id = id;
            int port = MosquittoBroker.FreePort();
            _config = Path.Combine(dir, $"{id}.yaml");
            _log = Path.Combine(dir, $"{id}.log");
            File.WriteAllText(_config, $"""
                instance: {id}
                http:
                  listen: http://127.0.0.1:{port}
                  token: {ClusterToken}
                {stages}
                cluster:
                  endpoints: {etcd.EndpointsYaml}
                  name: {cluster}
                  lease_seconds: {lease}
                """);
            Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            Http.DefaultRequestHeaders.Authorization = new("Bearer", ClusterToken);
        }

        /// <summary>The instances' shared API token: they send it to each other when they gather the fleet's streams.</summary>
        public const string ClusterToken = "cluster-test-token-0123456789";

        public string Id { get; }
        public HttpClient Http { get; }
        public bool IsRunning => _process is { HasExited: false };
        public string Log => File.Exists(_log) ? File.ReadAllText(_log) : "";

        public void Start()
        {
            string app = Path.Combine(AppContext.BaseDirectory, "streamvision.dll");
            // exec: the shell becomes the service, so kill -9 hits the service itself.
            var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec dotnet \"{app}\" run -c \"{_config}\" >>\"{_log}\" 2>&1"]) { UseShellExecute = false };
            _process?.Dispose();
            _process = Process.Start(psi.WithoutDiagnosticFiles()) ?? throw new InvalidOperationException("cannot start streamvision");
        }

        public void Kill()
        {
            TestEnvironment.Run("kill", $"-KILL {_process!.Id}");
            _process.WaitForExit();
        }

        public async Task<bool> ReadyAsync()
        {
            if (!IsRunning) throw new InvalidOperationException($"instance {Id} exited:\n{Log}");
            try
            {
                return (await Http.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }

        /// <summary>sv_cluster_fences_total: how often the instance stopped its streams for want of a valid lease.</summary>
        public async Task<double> FencesAsync()
        {
            var m = System.Text.RegularExpressions.Regex.Match(await Http.GetStringAsync("/metrics"), @"\nsv_cluster_fences_total (\S+)\n");
            Assert.True(m.Success, "sv_cluster_fences_total missing");
            return double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        /// <summary>What this instance runs (status running): stream id and frames analysed; empty when it does not answer.</summary>
        public async Task<List<(string Stream, long Frames)>> RunningAsync()
        {
            if (!IsRunning) return [];
            try
            {
                var list = await Http.GetFromJsonAsync<JsonElement[]>("/api/streams?scope=local");
                return list!.Where(s => s.GetProperty("status").GetString() == "running")
                    .Select(s => (s.GetProperty("id").GetString()!, s.GetProperty("frames").GetInt64())).ToList();
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
            {
                return [];
            }
        }

        /// <summary>Every running stream of <paramref name="nodes"/> (asked in parallel) with the instances that run it.</summary>
        public static async Task<Dictionary<string, List<(string Node, long Frames)>>> SampleAsync(IEnumerable<ClusterNode> nodes)
        {
            var list = nodes.ToList();
            var answers = await Task.WhenAll(list.Select(n => n.RunningAsync()));
            var result = new Dictionary<string, List<(string, long)>>(StringComparer.Ordinal);
            for (int i = 0; i < list.Count; i++)
            {
                foreach (var (stream, frames) in answers[i])
                {
                    if (!result.TryGetValue(stream, out var on)) result[stream] = on = new();
                    on.Add((list[i].Id, frames));
                }
            }
            return result;
        }

        public void Dispose()
        {
            if (IsRunning)
            {
                TestEnvironment.Run("kill", $"-TERM {_process!.Id}");
                if (!_process.WaitForExit(20_000)) _process.Kill();
            }
            _process?.Dispose();
            Http.Dispose();
        }
    }

    /// <summary>Samples every instance in the background; a stream running on two instances in two samples in a row is recorded.</summary>
    private sealed class DuplicateSampler(IReadOnlyList<ClusterNode> nodes)
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _loop;

        public int Samples { get; private set; }
        public List<string> Twice { get; } = new();

        public void Start() => _loop = Task.Run(async () =>
        {
            var previous = new HashSet<string>();
            while (!_stop.IsCancellationRequested)
            {
                var now = await ClusterNode.SampleAsync(nodes);
                var doubled = now.Where(kv => kv.Value.Count > 1).Select(kv => kv.Key).ToHashSet();
                foreach (var s in doubled.Where(previous.Contains)) Twice.Add($"{s} on {string.Join(" and ", now[s].Select(r => r.Node))}");
                previous = doubled;
                Samples++;
                try
                {
                    await Task.Delay(250, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        public async Task StopAsync()
        {
            _stop.Cancel();
            if (_loop is not null) await _loop;
        }
    }
}
