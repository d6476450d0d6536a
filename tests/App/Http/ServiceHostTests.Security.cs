using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.Core;

namespace StreamVision.App.Tests.Http;

/// <summary>Who gets in and what an API client may write: a real service on loopback, real files.</summary>
public class ServiceHostSecurityTests
{
    private const string Token = "test-token-0123456789abcdef";

    private static SvConfig Config(string root, string http = "", string streams = "") => ConfigLoader.LoadText($$"""
        instance: sec
        http:
          listen: http://127.0.0.1:0
          output_root: {{root}}
        {{http}}
        detector:
          model: none
        sinks:
          preview: true
        streams:
          - id: pattern
            uri: lavfi:testsrc2=size=160x120:rate=15
            mode: live
        {{streams}}
        """, "security.yaml", new Dictionary<string, string>());

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    [Fact]
    public async Task ANonLoopbackAddressWithoutATokenIsRefusedAtLoad()
    {
        var ex = Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("http:\n  listen: http://0.0.0.0:8080\n", "open.yaml", new Dictionary<string, string>()));
        var error = Assert.Single(ex.Errors);
        Assert.Equal("http.token", error.Path);
        Assert.Contains("not a loopback address", error.Message);
        // Said explicitly, it is allowed; a token or a token file is enough.
        Assert.True(ConfigLoader.LoadText("http:\n  listen: http://0.0.0.0:8080\n  allow_unauthenticated: true\n", "o.yaml", new Dictionary<string, string>()).Http.AllowUnauthenticated);
        ConfigLoader.LoadText($"http:\n  listen: http://[::]:8080\n  token: {Token}\n", "o.yaml", new Dictionary<string, string>());
        ConfigLoader.LoadText("http:\n  listen: http://10.0.0.5:8080\n  token_file: /run/secrets/t\n", "o.yaml", new Dictionary<string, string>());
        // Short tokens are refused; so is a service started from code around the file's checks.
        Assert.Contains(Assert.Throws<ConfigException>(() => ConfigLoader.LoadText("http:\n  token: short\n", "o.yaml", new Dictionary<string, string>())).Errors,
            e => e.Path == "http.token" && e.Message.Contains("at least 16"));
        var code = new SvConfig { Http = new HttpConfig { Listen = "http://0.0.0.0:0" } };
        Assert.Equal("http.token", (await Assert.ThrowsAsync<OptionsException>(() => ServiceHost.StartAsync(code, NullLoggerFactory.Instance))).Path);
    }

    [Fact]
    public async Task AMissingTokenFileStopsTheStartNamingTheKey()
    {
        string dir = TestEnvironment.NewTempDir();
        var cfg = Config(Path.Combine(dir, "out"), $"  token_file: {dir}/missing-token");
        var ex = await Assert.ThrowsAsync<OptionsException>(() => ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance));
        Assert.Equal("http.token_file", ex.Path);
        Assert.Contains("missing-token", ex.Message);
    }

    [Fact]
    public async Task WithATokenOnlyHealthReadinessAndTheLoginPageAreOpen()
    {
        string dir = TestEnvironment.NewTempDir();
        File.WriteAllText(Path.Combine(dir, "token"), Token + "\n");
        await using var host = await ServiceHost.StartAsync(Config(Path.Combine(dir, "out"), $"  token_file: {dir}/token"), NullLoggerFactory.Instance);
        using var anon = new HttpClient { BaseAddress = host.Address };

        Assert.Equal(HttpStatusCode.OK, (await anon.GetAsync("/healthz")).StatusCode);
        await Poll.UntilAsync(async () => (await anon.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, TimeSpan.FromSeconds(30), "ready");
        // The page and its scripts load without the token (the script asks for it and signs in with POST /api/login).
        Assert.Contains("/ui/app.js", await anon.GetStringAsync("/"));
        Assert.Contains("/api/login", await anon.GetStringAsync("/ui/app.js"));
        foreach (var (method, path) in new[]
        {
            (HttpMethod.Get, "/api/streams"), (HttpMethod.Get, "/api/streams/pattern"), (HttpMethod.Get, "/metrics"),
            (HttpMethod.Get, "/api/streams/pattern/preview.mjpeg"), (HttpMethod.Get, "/api/streams/pattern/snapshot.jpg"),
            (HttpMethod.Post, "/api/streams"), (HttpMethod.Delete, "/api/streams/pattern"), (HttpMethod.Post, "/api/reload"),
        })
        {
            var r = await anon.SendAsync(new HttpRequestMessage(method, path) { Content = method == HttpMethod.Get ? null : Json("""{"id": "x", "uri": "testsrc"}""") });
            Assert.True(r.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)r.StatusCode}");
            Assert.Equal("Bearer", r.Headers.WwwAuthenticate.Single().Scheme);
        }
        Assert.True(host.Manager.TryGet("pattern", out _)); // the DELETE above did nothing
        Assert.False(host.Manager.TryGet("x", out _));

        // A wrong token is refused like none; the right one opens everything.
        using var wrong = new HttpClient { BaseAddress = host.Address };
        wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token + "x");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/streams")).StatusCode);
        using var api = new HttpClient { BaseAddress = host.Address };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        Assert.Equal("pattern", (await api.GetFromJsonAsync<JsonElement[]>("/api/streams"))!.Single().GetProperty("id").GetString());
        Assert.Contains("sv_frames_decoded_total", await api.GetStringAsync("/metrics"));

        // The dashboard's way: POST /api/login sets an HttpOnly cookie (an HMAC, not the token), which the MJPEG <img> sends.
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = host.Address };
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsync("/api/login", Json($$"""{"token": "{{Token}}-no"}"""))).StatusCode);
        var login = await browser.PostAsync("/api/login", Json($$"""{"token": "{{Token}}"}"""));
        Assert.Equal(HttpStatusCode.NoContent, login.StatusCode);
        string setCookie = login.Headers.GetValues("Set-Cookie").Single();
        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Token, setCookie);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/streams")).StatusCode);
        using var mjpeg = await browser.GetAsync("/api/streams/pattern/preview.mjpeg", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, mjpeg.StatusCode);
        Assert.StartsWith("multipart/x-mixed-replace", mjpeg.Content.Headers.ContentType!.ToString());
    }

    [Fact]
    public async Task MetricsCanBeLeftOpenForAScraperWithoutTheToken()
    {
        string dir = TestEnvironment.NewTempDir();
        await using var host = await ServiceHost.StartAsync(Config(Path.Combine(dir, "out"), $"  token: {Token}\n  metrics_public: true"), NullLoggerFactory.Instance);
        using var anon = new HttpClient { BaseAddress = host.Address };
        Assert.Contains("sv_instance_info", await anon.GetStringAsync("/metrics"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anon.GetAsync("/api/streams")).StatusCode);
    }

    [Fact]
    public async Task ApiStreamsWriteOnlyUnderTheRootAndNeverOverAFileTheServiceDidNotCreate()
    {
        string dir = TestEnvironment.NewTempDir();
        string root = Path.Combine(dir, "out"), outside = Path.Combine(dir, "outside");
        Directory.CreateDirectory(root);
        Directory.CreateDirectory(outside);
        string victim = Path.Combine(outside, "victim.txt"), inRoot = Path.Combine(root, "operator.txt");
        File.WriteAllText(victim, "precious");
        File.WriteAllText(inRoot, "precious too");
        Directory.CreateSymbolicLink(Path.Combine(root, "escape"), outside);
        await using var host = await ServiceHost.StartAsync(Config(root, "  allowed_targets: [\"http://127.0.0.1:9/hooks/\"]"), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = host.Address };
        async Task<(HttpStatusCode, string)> Add(string sinks, string id = "api")
        {
            var r = await http.PostAsync("/api/streams", Json($$"""{"id": "{{id}}", "uri": "lavfi:testsrc2=size=160x120:rate=15", "mode": "live", "sinks": {{sinks}}}"""));
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }

        // The attacks: an existing file as the track file, a video over an existing file, .., /proc/self/mem, a link out.
        foreach (var (sinks, key) in new[]
        {
            ($$"""{"tracks": "{{victim}}"}""", "sinks.tracks"),
            ("""{"tracks": "operator.txt"}""", "sinks.tracks"),
            ("""{"video": {"path": "operator.txt", "format": "mp4", "preset": "ultrafast"}}""", "sinks.video.path"),
            ("""{"events": "../outside/victim.txt"}""", "sinks.events.path"),
            ("""{"tracks": "/proc/self/mem"}""", "sinks.tracks"),
            ("""{"tracks": "escape/victim.txt"}""", "sinks.tracks"),
            ("""{"snapshots": "escape"}""", "sinks.snapshots.directory"),
            ("""{"webhook": {"url": "http://169.254.169.254/latest"}}""", "sinks.webhook.url"),
            ("""{"mqtt": {"host": "127.0.0.1", "port": 1883}}""", "sinks.mqtt.host"),
            ("""{"kafka": {"brokers": "127.0.0.1:9092"}}""", "sinks.kafka.brokers"),
        })
        {
            var (status, body) = await Add(sinks);
            Assert.True(status == HttpStatusCode.BadRequest, $"{sinks}: {(int)status} {body}");
            Assert.Contains(key, body);
        }
        var (idStatus, idBody) = await Add("{}", "..");
        Assert.Equal(HttpStatusCode.BadRequest, idStatus);
        Assert.Contains("id", idBody);
        Assert.Equal("precious", File.ReadAllText(victim));
        Assert.Equal("precious too", File.ReadAllText(inRoot));
        Assert.Equal(["victim.txt"], Directory.GetFiles(outside).Select(Path.GetFileName));
        Assert.False(host.Manager.TryGet("api", out _));

        // What is allowed: relative paths under the root, files of its own; removed and added again, it writes them again.
        string sinksOk = """{"tracks": "{stream}/tracks.txt", "events": "{stream}/events.jsonl", "video": {"path": "{stream}/video.mkv", "preset": "ultrafast"}, "webhook": {"url": "http://127.0.0.1:9/hooks/a"}}""";
        var (created, createdBody) = await Add(sinksOk);
        Assert.True(created == HttpStatusCode.Created, createdBody);
        await Poll.UntilAsync(() => Task.FromResult(host.Manager.TryGet("api", out var h) && h.Stats.Frames > 5), TimeSpan.FromSeconds(30), "the API stream runs");
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/streams/api")).StatusCode);
        Assert.True(new FileInfo(Path.Combine(root, "api", "video.mkv")).Length > 0);
        Assert.True(File.Exists(Path.Combine(root, "api", "tracks.txt")));
        (created, createdBody) = await Add(sinksOk);
        Assert.True(created == HttpStatusCode.Created, createdBody);
    }

    [Fact]
    public async Task TheDashboardAsksForTheTokenAndThenShowsStreamsAndPreview()
    {
        const string chromium = "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"{chromium} is missing: ./streamvision setup installs Debian's chromium");
        string dir = TestEnvironment.NewTempDir();
        await using var host = await ServiceHost.StartAsync(Config(Path.Combine(dir, "out"), $"  token: {Token}"), NullLoggerFactory.Instance);
        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new Microsoft.Playwright.BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
        });
        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.Address!.ToString());
        await page.WaitForSelectorAsync("#login");
        Assert.Equal(0, await page.Locator("article.card").CountAsync());
        await page.FillAsync("#token", "not-the-token-at-all");
        await page.ClickAsync("#login button");
        await page.WaitForFunctionAsync("() => document.getElementById('login-error').textContent === 'Wrong token.'");
        await page.FillAsync("#token", Token);
        await page.ClickAsync("#login button");
        await page.WaitForSelectorAsync("article.card[data-stream='pattern']");
        Assert.Equal(0, await page.Locator("#login").CountAsync());
        // The MJPEG <img> carries the session cookie: it paints.
        await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"article[data-stream='pattern'] img\"); return i.complete && i.naturalWidth > 0; }");
    }
}
