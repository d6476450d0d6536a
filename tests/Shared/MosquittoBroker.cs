using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace StreamVision.Testing;

/// <summary>
/// A real mosquitto broker on a free loopback port, started and stopped by the test. With persistence on, a graceful
/// <see cref="Stop"/> (SIGTERM) saves subscriptions and queued messages of persistent sessions, so an observer that
/// subscribed before sees what was published while it was reconnecting.
/// </summary>
internal sealed class MosquittoBroker : IDisposable
{
    private readonly string _dir;
    private readonly string _config;
    private Process? _process;

    public MosquittoBroker()
    {
        Port = FreePort();
        _dir = TestEnvironment.NewTempDir("svmqtt");
        _config = Path.Combine(_dir, "mosquitto.conf");
        File.WriteAllText(_config, string.Join('\n',
            $"listener {Port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            $"persistence_location {_dir}/",
            "user root",
            $"log_dest file {_dir}/broker.log",
            "log_type all",
            ""));
    }

    public int Port { get; }
    public string Log => File.Exists(Path.Combine(_dir, "broker.log")) ? File.ReadAllText(Path.Combine(_dir, "broker.log")) : "";
    public bool IsRunning => _process is { HasExited: false };

    public static string Executable => File.Exists("/usr/sbin/mosquitto") ? "/usr/sbin/mosquitto" : "mosquitto";

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>Starts the broker and waits until it accepts connections.</summary>
    public void Start()
    {
        if (IsRunning) throw new InvalidOperationException("broker already running");
        var psi = new ProcessStartInfo(Executable, $"-c \"{_config}\"") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start mosquitto");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var c = new TcpClient();
                c.Connect(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (sw.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
            {
                Thread.Sleep(20);
            }
            catch (SocketException)
            {
                throw new InvalidOperationException($"mosquitto did not start on port {Port}: {Log}");
            }
        }
    }

    /// <summary>Graceful stop (SIGTERM): clients lose their connection; persistent sessions are saved.</summary>
    public void Stop()
    {
        if (!IsRunning) return;
        using (var kill = Process.Start(new ProcessStartInfo("kill", $"-TERM {_process!.Id}") { UseShellExecute = false })) kill?.WaitForExit();
        if (!_process.WaitForExit(10_000)) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    /// <summary>SIGKILL: the broker vanishes without a word and without saving anything.</summary>
    public void Kill()
    {
        if (_process is null) return;
        _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
    }

    public void Dispose()
    {
        if (_process is not null)
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
            _process = null;
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}

/// <summary>
/// <c>mosquitto_sub</c> as an independent observer with a persistent session (<c>-c -i</c>, QoS 1): it reconnects by
/// itself after a broker restart and receives what was queued for it meanwhile. Collects "topic payload" lines.
/// </summary>
internal sealed class MqttObserver : IDisposable
{
    private readonly Process _process;
    private readonly List<(string Topic, string Payload)> _messages = new();

    public MqttObserver(int port, string filter)
    {
        var psi = new ProcessStartInfo("mosquitto_sub",
            $"-h 127.0.0.1 -p {port} -t \"{filter}\" -t \"probe/#\" -v -q 1 -c -i obs-{Guid.NewGuid():N}")
        { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start mosquitto_sub");
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            int sp = e.Data.IndexOf(' ');
            lock (_messages) _messages.Add(sp < 0 ? (e.Data, "") : (e.Data[..sp], e.Data[(sp + 1)..]));
        };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public List<string> Payloads(string topic)
    {
        lock (_messages) return _messages.Where(m => m.Topic == topic).Select(m => m.Payload).ToList();
    }

    /// <summary>Waits until the observer's subscription is live (a probe it publishes comes back).</summary>
    public void WaitSubscribed(int port)
    {
        var sw = Stopwatch.StartNew();
        string probe = "probe/" + Guid.NewGuid().ToString("N");
        while (sw.Elapsed < TimeSpan.FromSeconds(15))
        {
            TestEnvironment.Run("mosquitto_pub", $"-h 127.0.0.1 -p {port} -t {probe} -m x -q 1", 5000);
            if (Poll.Until(() => Payloads(probe).Count > 0, TimeSpan.FromMilliseconds(300))) return;
        }
        throw new TimeoutException("mosquitto_sub never received its probe");
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit();
        _process.Dispose();
    }
}
