using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace StreamVision.Testing;

/// <summary>
/// A real mosquitto broker on a free loopback port, started and stopped by the test. With persistence on, a graceful
/// <see cref="Stop"/> (SIGTERM) saves subscriptions and queued messages of persistent sessions, so an observer that
/// subscribed before sees what was published while it was reconnecting.
/// Optionally a second, TLS listener (<see cref="TlsPort"/>, certificates of a <see cref="TestPki"/>, client certificates
/// required or not) and user names with passwords (a mosquitto_passwd file; anonymous clients are then refused on both
/// listeners; observers pass <see cref="ClientArgs"/>).
/// </summary>
internal sealed class MosquittoBroker : IDisposable
{
    private readonly string _dir;
    private readonly string _config;
    private Process? _process;

    /// <param name="tls">Adds a TLS listener with this authority's server certificate.</param>
    /// <param name="requireClientCertificate">The TLS listener refuses clients without a certificate signed by the authority.</param>
    /// <param name="users">User names and passwords; null = anonymous clients allowed.</param>
    public MosquittoBroker(TestPki? tls = null, bool requireClientCertificate = false, IReadOnlyDictionary<string, string>? users = null)
    {
        Port = FreePort();
        _dir = TestEnvironment.NewTempDir("svmqtt");
        _config = Path.Combine(_dir, "mosquitto.conf");
        var lines = new List<string> { $"listener {Port} 127.0.0.1" };
        if (tls is not null)
        {
            TlsPort = FreePort();
            lines.AddRange([$"listener {TlsPort} 127.0.0.1", $"cafile {tls.CaFile}", $"certfile {tls.ServerCert}", $"keyfile {tls.ServerKey}",
                $"require_certificate {(requireClientCertificate ? "true" : "false")}"]);
        }
        if (users is { Count: > 0 })
        {
            string passwords = Path.Combine(_dir, "passwords");
            bool first = true;
            foreach (var (user, password) in users)
            {
                TestEnvironment.Run("mosquitto_passwd", $"-b {(first ? "-c " : "")}\"{passwords}\" {user} {password}");
                first = false;
            }
            lines.AddRange(["allow_anonymous false", $"password_file {passwords}"]);
            var (u, p) = users.First();
            ClientArgs = $"-u {u} -P {p}";
        }
        else
        {
            lines.Add("allow_anonymous true");
        }
        lines.AddRange(["persistence true", $"persistence_location {_dir}/", "user root", $"log_dest file {_dir}/broker.log", "log_type all", ""]);
        File.WriteAllText(_config, string.Join('\n', lines));
    }

    public int Port { get; }
    /// <summary>The TLS listener's port, or 0.</summary>
    public int TlsPort { get; }
    /// <summary>Credentials for mosquitto_sub/mosquitto_pub (the first user), or "".</summary>
    public string ClientArgs { get; } = "";

    /// <summary>Connections the broker accepted from <paramref name="clientId"/> so far (its log).</summary>
    public int ConnectionsOf(string clientId) =>
        Regex.Matches(Log, $@"New client connected from \S+ as {Regex.Escape(clientId)} \(").Count;

    /// <summary>The protocol levels <paramref name="clientId"/> connected with: "p2" is MQTT 3.1.1, "p5" MQTT 5.</summary>
    public List<string> ProtocolsOf(string clientId) =>
        Regex.Matches(Log, $@"New client connected from \S+ as {Regex.Escape(clientId)} \((p\d)").Select(m => m.Groups[1].Value).ToList();

    /// <summary>PUBLISH packets the broker received on <paramref name="topic"/>, as "qN, rN" (QoS, retain flag).</summary>
    public List<string> PublishesOn(string topic) =>
        Regex.Matches(Log, $@"Received PUBLISH from \S+ \(d\d, (q\d, r\d), m\d+, '{Regex.Escape(topic)}'").Select(m => m.Groups[1].Value).ToList();
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

    private readonly string _auth;

    /// <param name="auth">Credentials for mosquitto_sub and its probes, e.g. the broker's <see cref="MosquittoBroker.ClientArgs"/>.</param>
    /// <param name="format">Other output than "topic payload": mosquitto_sub arguments such as <c>-V 5 -F "%t %C|%p"</c> (the topic first).</param>
    public MqttObserver(int port, string filter, string auth = "", string? format = null)
    {
        _auth = auth;
        var psi = new ProcessStartInfo("mosquitto_sub",
            $"-h 127.0.0.1 -p {port} {auth} -t \"{filter}\" -t \"probe/#\" {format ?? "-v"} -q 1 -c -i obs-{Guid.NewGuid():N}")
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
            TestEnvironment.Run("mosquitto_pub", $"-h 127.0.0.1 -p {port} {_auth} -t {probe} -m x -q 1", 5000);
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

/// <summary>
/// A certificate authority made at test time with openssl (EC P-256), with a server certificate for 127.0.0.1 and
/// localhost and a client certificate, all PEM. Nothing is kept beyond the test run.
/// </summary>
internal sealed class TestPki
{
    private TestPki(string dir)
    {
        Dir = dir;
    }

    public string Dir { get; }
    public string CaFile => Path.Combine(Dir, "ca.crt");
    public string ServerCert => Path.Combine(Dir, "server.crt");
    public string ServerKey => Path.Combine(Dir, "server.key");
    public string ClientCert => Path.Combine(Dir, "client.crt");
    public string ClientKey => Path.Combine(Dir, "client.key");

    public static TestPki Create(string name)
    {
        var pki = new TestPki(TestEnvironment.NewTempDir("svpki"));
        string d = pki.Dir;
        const string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
        Openssl($"req -x509 {ec} -keyout \"{d}/ca.key\" -out \"{d}/ca.crt\" -days 2 -subj \"/CN={name}\" " +
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
        pki.Issue("server", "/CN=localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
        pki.Issue("client", "/CN=streamvision-test-client", "extendedKeyUsage=clientAuth");
        return pki;
    }

    private void Issue(string who, string subject, string extensions)
    {
        string d = Dir;
        File.WriteAllText(Path.Combine(d, $"{who}.ext"), $"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n{extensions}\n");
        Openssl($"req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout \"{d}/{who}.key\" -out \"{d}/{who}.csr\" -subj \"{subject}\"");
        Openssl($"x509 -req -in \"{d}/{who}.csr\" -CA \"{d}/ca.crt\" -CAkey \"{d}/ca.key\" -CAcreateserial -days 2 " +
            $"-extfile \"{d}/{who}.ext\" -out \"{d}/{who}.crt\"");
    }

    private static void Openssl(string args) => TestEnvironment.Run("openssl", args, 30_000);
}
