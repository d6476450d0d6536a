using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;

namespace StreamVision.Testing;

/// <summary>
/// A real etcd cluster (Debian's etcd-server 3.4) of one or more members on free loopback ports, each with its own temp
/// data folder, started and stopped by the test. Members can be stopped (SIGTERM), killed (SIGKILL) and started again
/// with their data, one by one or all together. Every member logs to <c>member-N.log</c> in <see cref="Directory"/>.
/// </summary>
internal sealed class EtcdCluster : IDisposable
{
    private readonly Process?[] _processes;
    private readonly int[] _clientPorts;
    private readonly int[] _peerPorts;
    private readonly string _token = $"sv-{Guid.NewGuid():N}";

    public EtcdCluster(int members = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(members, 1);
        Directory = TestEnvironment.NewTempDir("svetcd");
        _processes = new Process?[members];
        _clientPorts = Enumerable.Range(0, members).Select(_ => MosquittoBroker.FreePort()).ToArray();
        _peerPorts = Enumerable.Range(0, members).Select(_ => MosquittoBroker.FreePort()).ToArray();
    }

    public string Directory { get; }
    public int Count => _processes.Length;
    /// <summary>Each member's client URL, by member index.</summary>
    public IReadOnlyList<string> ClientUrls => _clientPorts.Select(p => $"http://127.0.0.1:{p}").ToList();
    /// <summary>The client URLs as a YAML flow list, for a <c>cluster.endpoints</c> key.</summary>
    public string EndpointsYaml => $"[{string.Join(", ", ClientUrls)}]";
    public bool IsRunning(int member) => _processes[member] is { HasExited: false };

    public static string Executable => File.Exists("/usr/bin/etcd") ? "/usr/bin/etcd" : "etcd";

    /// <summary>Starts every member and waits until the cluster has a leader and commits writes.</summary>
    public void Start()
    {
        for (int i = 0; i < Count; i++) StartMember(i, wait: false);
        WaitHealthy(Enumerable.Range(0, Count));
    }

    /// <summary>Starts member <paramref name="i"/> again (with its data) and, unless told otherwise, waits until it answers.</summary>
    public void StartMember(int i, bool wait = true)
    {
        if (IsRunning(i)) throw new InvalidOperationException($"etcd member {i} is already running");
        string initial = string.Join(",", Enumerable.Range(0, Count).Select(j => $"m{j}=http://127.0.0.1:{_peerPorts[j]}"));
        string args = $"--name m{i} --data-dir \"{Path.Combine(Directory, $"m{i}")}\" " +
            $"--listen-client-urls http://127.0.0.1:{_clientPorts[i]} --advertise-client-urls http://127.0.0.1:{_clientPorts[i]} " +
            $"--listen-peer-urls http://127.0.0.1:{_peerPorts[i]} --initial-advertise-peer-urls http://127.0.0.1:{_peerPorts[i]} " +
            $"--initial-cluster {initial} --initial-cluster-state new --initial-cluster-token {_token} " +
            "--heartbeat-interval 100 --election-timeout 1000 --logger zap --log-outputs stderr";
        string log = Path.Combine(Directory, $"member-{i}.log");
        // exec: the shell becomes etcd, so the process id is etcd's own (kill -9 hits etcd itself).
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec {Executable} {args} >>\"{log}\" 2>&1"]) { UseShellExecute = false };
        _processes[i]?.Dispose();
        _processes[i] = Process.Start(psi) ?? throw new InvalidOperationException("cannot start etcd");
        if (wait) WaitHealthy([i]);
    }

    /// <summary>Graceful stop (SIGTERM) of member <paramref name="i"/>.</summary>
    public void Stop(int i) => Signal(i, "TERM");

    /// <summary>SIGKILL of member <paramref name="i"/>.</summary>
    public void Kill(int i) => Signal(i, "KILL");

    public void StopAll()
    {
        for (int i = 0; i < Count; i++) Signal(i, "TERM", wait: false);
        for (int i = 0; i < Count; i++) WaitExit(i);
    }

    /// <summary>SIGKILL of every member at once: etcd is gone in an instant.</summary>
    public void KillAll()
    {
        for (int i = 0; i < Count; i++) Signal(i, "KILL", wait: false);
        for (int i = 0; i < Count; i++) WaitExit(i);
    }

    public void StartAll()
    {
        for (int i = 0; i < Count; i++)
        {
            if (!IsRunning(i)) StartMember(i, wait: false);
        }
        WaitHealthy(Enumerable.Range(0, Count));
    }

    /// <summary>The index of the current leader (etcdctl endpoint status), or -1 when none answers as leader.</summary>
    public int LeaderIndex()
    {
        for (int i = 0; i < Count; i++)
        {
            if (!IsRunning(i)) continue;
            try
            {
                var (json, _) = TestEnvironment.Run("etcdctl", $"--endpoints={ClientUrls[i]} endpoint status -w json", 10_000);
                using var doc = JsonDocument.Parse(json);
                var status = doc.RootElement[0].GetProperty("Status");
                if (status.GetProperty("leader").GetUInt64() == status.GetProperty("header").GetProperty("member_id").GetUInt64()) return i;
            }
            catch (InvalidOperationException)
            {
            }
        }
        return -1;
    }

    /// <summary>etcdctl against every running member, e.g. <c>get --prefix /streamvision/</c>.</summary>
    public string Ctl(string args)
    {
        var endpoints = string.Join(",", Enumerable.Range(0, Count).Where(IsRunning).Select(i => ClientUrls[i]));
        return TestEnvironment.Run("etcdctl", $"--endpoints={endpoints} {args}", 20_000).Stdout;
    }

    public string Log(int i)
    {
        var p = Path.Combine(Directory, $"member-{i}.log");
        return File.Exists(p) ? File.ReadAllText(p) : "";
    }

    private void WaitHealthy(IEnumerable<int> members)
    {
        var sw = Stopwatch.StartNew();
        foreach (int i in members)
        {
            while (true)
            {
                if (!IsRunning(i)) throw new InvalidOperationException($"etcd member {i} exited: {Tail(Log(i))}");
                try
                {
                    // A committed proposal: the member is up and the cluster has a leader.
                    TestEnvironment.Run("etcdctl", $"--endpoints={ClientUrls[i]} --command-timeout=2s endpoint health", 10_000);
                    break;
                }
                catch (InvalidOperationException) when (sw.Elapsed < TimeSpan.FromSeconds(60))
                {
                    Thread.Sleep(100);
                }
            }
        }
    }

    private static string Tail(string s) => s.Length > 2000 ? s[^2000..] : s;

    private void Signal(int i, string signal, bool wait = true)
    {
        if (!IsRunning(i)) return;
        using (var kill = Process.Start(new ProcessStartInfo("kill", $"-{signal} {_processes[i]!.Id}") { UseShellExecute = false })) kill?.WaitForExit();
        if (wait) WaitExit(i);
    }

    private void WaitExit(int i)
    {
        if (_processes[i] is not { } p) return;
        if (!p.WaitForExit(15_000)) p.Kill();
        p.WaitForExit();
    }

    /// <summary>True when something accepts TCP connections on member <paramref name="i"/>'s client port.</summary>
    public bool Accepts(int i)
    {
        try
        {
            using var c = new TcpClient();
            c.Connect("127.0.0.1", _clientPorts[i]);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        for (int i = 0; i < Count; i++)
        {
            try
            {
                if (IsRunning(i)) _processes[i]!.Kill();
                _processes[i]?.WaitForExit(5_000);
            }
            catch (InvalidOperationException)
            {
            }
            _processes[i]?.Dispose();
        }
        // Each member's write-ahead log preallocates 61 MB segments: 370 MB per three-member cluster, not left behind.
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
