using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;

namespace StreamVision.Testing;

/// <summary>
/// A real Prometheus (Debian's <c>prometheus</c> package) on a free loopback port, with its configuration and its TSDB in a
/// temp folder, scraping the given targets' <c>/metrics</c> every <c>scrapeInterval</c>. Queried through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IDisposable
{
    public const string Job = "streamvision";

    private readonly string _dir;
    private readonly string _config;
    private readonly HttpClient _http;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _log = new();
    private Process? _process;

    /// <param name="targets">host:port of each service to scrape (path /metrics).</param>
    public PrometheusServer(IEnumerable<string> targets, TimeSpan scrapeInterval)
    {
        Port = MosquittoBroker.FreePort();
        _dir = TestEnvironment.NewTempDir("svprom");
        _config = Path.Combine(_dir, "prometheus.yml");
        string interval = $"{(int)Math.Max(1, scrapeInterval.TotalMilliseconds)}ms";
        File.WriteAllText(_config, string.Join('\n',
            "global:",
            $"  scrape_interval: {interval}",
            $"  scrape_timeout: {interval}",
            $"  evaluation_interval: {interval}",
            "scrape_configs:",
            $"  - job_name: {Job}",
            "    metrics_path: /metrics",
            "    static_configs:",
            $"      - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]",
            ""));
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public int Port { get; }
    /// <summary>What Prometheus printed (warnings and errors).</summary>
    public string Log => string.Join('\n', _log);

    public static string Executable => File.Exists("/usr/bin/prometheus") ? "/usr/bin/prometheus" : "prometheus";

    /// <summary>Starts Prometheus and waits until it is ready to answer queries.</summary>
    public async Task StartAsync()
    {
        if (_process is not null) throw new InvalidOperationException("prometheus already running");
        string args = string.Join(' ',
            $"--config.file=\"{_config}\"",
            $"--storage.tsdb.path=\"{Path.Combine(_dir, "data")}\"",
            $"--web.listen-address=127.0.0.1:{Port}",
            "--log.level=warn");
        var psi = new ProcessStartInfo(Executable, args) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start prometheus");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _log.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await Poll.UntilAsync(async () =>
        {
            if (_process.HasExited) throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}: {Log}");
            try
            {
                using var r = await _http.GetAsync("/-/ready");
                return r.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "prometheus ready");
    }

    /// <summary>Waits until every target of the job was scraped successfully (<c>up == 1</c>).</summary>
    public Task WaitForTargetsUpAsync(int targets, TimeSpan timeout) =>
        Poll.UntilAsync(async () =>
        {
            var up = await QueryAsync($"up{{job=\"{Job}\"}} == 1");
            return up.Count >= targets;
        }, timeout, "prometheus targets up");

    /// <summary>An instant query (<c>/api/v1/query</c>); returns the result vector (fails on a query error).</summary>
    public async Task<List<Sample>> QueryAsync(string expr)
    {
        using var response = await _http.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(expr));
        string body = await response.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        if (root.GetProperty("status").GetString() != "success")
            throw new InvalidOperationException($"query '{expr}' failed: {body}");
        var data = root.GetProperty("data");
        if (data.GetProperty("resultType").GetString() != "vector")
            throw new InvalidOperationException($"query '{expr}' returned a {data.GetProperty("resultType").GetString()}, not a vector");
        var samples = new List<Sample>();
        foreach (var r in data.GetProperty("result").EnumerateArray())
        {
            var labels = r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            string v = r.GetProperty("value")[1].GetString()!;
            samples.Add(new Sample(labels, double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)));
        }
        return samples;
    }

    /// <summary>Series names and labels matching <paramref name="match"/> (<c>/api/v1/series</c>).</summary>
    public async Task<int> SeriesCountAsync(string match)
    {
        using var response = await _http.GetAsync("/api/v1/series?match[]=" + Uri.EscapeDataString(match));
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.GetProperty("data").GetArrayLength();
    }

    public readonly record struct Sample(Dictionary<string, string> Labels, double Value);

    public void Dispose()
    {
        if (_process is not null)
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit();
            _process.Dispose();
            _process = null;
        }
        _http.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
