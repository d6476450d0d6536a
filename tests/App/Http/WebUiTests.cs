using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deque.AxeCore.Playwright;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

/// <summary>
/// The web interface in a real browser (Debian's chromium, headless, driven by Playwright): the wall, a stream full size,
/// the stream form, the zone and line editor, the review and the charts, and an accessibility scan of each page (axe).
/// Screenshots of each screen go to out/ui-screenshots (the README's come from there).
/// </summary>
public partial class WebUiTests
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>A headless chromium with a phone-sized or desktop-sized page.</summary>
    internal sealed class Browser : IAsyncDisposable
    {
        private IPlaywright? _playwright;
        private IBrowser? _browser;

        public IPage Page { get; private set; } = null!;

        public static async Task<Browser> OpenAsync(int width = 1280, int height = 900)
        {
            Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./streamvision setup installs Debian's chromium");
            var b = new Browser { _playwright = await Playwright.CreateAsync() };
            b._browser = await b._playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = Chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
            });
            b.Page = await b._browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
            b.Page.SetDefaultTimeout(30_000);
            return b;
        }

        public async ValueTask DisposeAsync()
        {
            if (_browser is not null) await _browser.DisposeAsync();
            _playwright?.Dispose();
        }
    }

    internal static string ScreenshotDir
    {
        get
        {
            var dir = Path.Combine(TestEnvironment.RepoRoot, "out", "ui-screenshots");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    /// <summary>No violation of impact serious or critical on the page as it is now (axe-core's rules: contrast, labels, names, landmarks...).</summary>
    internal static async Task AssertAccessibleAsync(IPage page, string what)
    {
        var result = await page.RunAxe();
        var bad = result.Violations.Where(v => v.Impact is "serious" or "critical").ToList();
        Assert.True(bad.Count == 0, $"{what}: " + string.Join("\n", bad.Select(v =>
            $"{v.Impact} {v.Id}: {v.Help} at {string.Join(", ", v.Nodes.Select(n => n.Html).Take(3))}")));
    }

    [Fact]
    public async Task WallShowsEveryStreamItsStateAndPreviewsAndAStreamOpensFullSizeWithItsZones()
    {
        // A camera nobody answers for (the discard port on loopback): refused at once, retried with backoff.
        const string missing = "rtsp://127.0.0.1:9/no-such-camera";
        var cfg = ConfigLoader.LoadText($$"""
            http:
              listen: http://127.0.0.1:0
            ui:
              charts:
                sample_seconds: 0.5
            detector:
              model: blazeface
            streams:
              - id: pattern
                uri: lavfi:testsrc2=size=320x240:rate=15
                mode: live
                zones:
                  - name: door
                    units: fraction
                    polygon: [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6], [0.1, 0.6]]
                lines:
                  - name: gate
                    units: fraction
                    points: [[0.7, 0.1], [0.7, 0.9]]
              - id: bars
                uri: lavfi:smptebars=size=320x240:rate=15
                mode: live
              - id: broken
                uri: {{missing}}
                mode: live
            """, "wall.yaml", new Dictionary<string, string>());
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        await using var browser = await Browser.OpenAsync(390, 844);
        var page = browser.Page;
        await page.GotoAsync(host.Address!.ToString());
        foreach (var id in new[] { "pattern", "bars", "broken" }) await page.WaitForSelectorAsync($"article.card[data-stream='{id}']");
        Assert.Equal(3, await page.Locator("article.card").CountAsync());
        await page.WaitForFunctionAsync("() => Number(document.querySelector(\"article[data-stream='pattern'] [data-key='frames'] dd\").textContent) > 10");

        // The MJPEG preview paints and changes.
        var img = page.Locator("article[data-stream='pattern'] img");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"article[data-stream='pattern'] img\"); return i && i.complete && i.naturalWidth > 0; }");
        var first = await img.ScreenshotAsync();
        await Poll.UntilAsync(async () =>
        {
            var next = await img.ScreenshotAsync();
            return !first.AsSpan().SequenceEqual(next);
        }, TimeSpan.FromSeconds(10), "the preview image changing");

        // The failed stream: a placeholder with its state, its reason (once on the card), since when, no picture; no NaN anywhere.
        var broken = page.Locator("article[data-stream='broken']");
        await page.WaitForFunctionAsync("() => document.querySelector(\"article[data-stream='broken'] .reason\").textContent.length > 0");
        Assert.Equal(0, await broken.Locator("img").CountAsync());
        string placeholder = await broken.Locator(".placeholder").InnerTextAsync();
        Assert.Matches("reconnecting|failed|connecting", placeholder);
        Assert.Contains("no-such-camera", await broken.Locator(".reason").InnerTextAsync());
        Assert.Single(Regex.Matches(await broken.InnerTextAsync(), "no-such-camera"));
        Assert.Contains(" for ", await broken.Locator(".since").InnerTextAsync());
        Assert.Equal("–", await broken.Locator("[data-key='fps'] dd").InnerTextAsync());
        string header = await page.Locator("#summary").InnerTextAsync();
        Assert.DoesNotContain("NaN", header);
        Assert.Contains("3 streams", header);
        Assert.DoesNotContain("NaN", await page.Locator("main").InnerTextAsync());
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "wall-phone.png") });
        await AssertAccessibleAsync(page, "wall");

        // Desktop width, then the stream full size: its zone and line drawn over the picture.
        await page.SetViewportSizeAsync(1280, 800);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "wall.png") });
        await page.Locator("article[data-stream='pattern'] a").First.ClickAsync();
        await page.WaitForURLAsync("**/#/stream/pattern");
        await page.WaitForSelectorAsync(".detail .frame svg polygon[data-zone='door']", new() { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync(".detail .frame svg g[data-line='gate']", new() { State = WaitForSelectorState.Attached });
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('.detail .frame img'); return i && i.complete && i.naturalWidth > 0; }");
        // The polygon sits where the configuration put it (normalised to the 1000x1000 overlay).
        Assert.Equal("100,100 500,100 500,600 100,600", await page.Locator("polygon[data-zone='door']").GetAttributeAsync("points"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "stream.png") });
        await AssertAccessibleAsync(page, "stream view");

        // Keyboard: the wall's cards are links reached with Tab, opened with Enter.
        await page.GotoAsync(host.Address + "#/");
        await page.WaitForSelectorAsync("article.card[data-stream='bars']");
        bool reached = false;
        for (int i = 0; i < 20 && !reached; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("() => document.activeElement?.getAttribute('href') === '#/stream/bars'");
        }
        Assert.True(reached, "the card of 'bars' is not reachable with Tab");
        await page.Keyboard.PressAsync("Enter");
        await page.WaitForURLAsync("**/#/stream/bars");

        // The failed stream full size: its reason once, beside the state, and a placeholder without it.
        await page.GotoAsync(host.Address + "#/stream/broken");
        await page.WaitForFunctionAsync("() => (document.querySelector('.detail .reason')?.textContent || '').includes('no-such-camera')");
        await page.WaitForSelectorAsync(".detail .frame .placeholder");
        // The error names the camera's URI, which the figures list once more as the source: the error itself once.
        string reason = (await page.Locator(".detail .reason").InnerTextAsync()).Trim();
        Assert.Contains("no-such-camera", reason);
        Assert.Single(Regex.Matches(await page.Locator("main").InnerTextAsync(), Regex.Escape(reason)));

        // Charts: the instance and a stream, drawn from the in-process samples.
        await page.GotoAsync(host.Address + "#/charts");
        await page.WaitForSelectorAsync("figure[data-chart='fps'] polyline", new() { State = WaitForSelectorState.Attached });
        await page.WaitForSelectorAsync("figure[data-chart='latency_p50_ms'] polyline", new() { State = WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#c-stream", "pattern");
        await Poll.UntilAsync(async () => (await page.Locator("figure[data-chart='fps'] polyline").GetAttributeAsync("points"))?.Split(' ').Length >= 2,
            TimeSpan.FromSeconds(20), "two fps samples of 'pattern'");
        using var http = new HttpClient { BaseAddress = host.Address };
        var charts = await http.GetFromJsonAsync<JsonElement>("/api/charts?stream=pattern&minutes=5");
        Assert.Contains(charts.GetProperty("samples").EnumerateArray(), s => s.GetProperty("fps").GetDouble() > 5);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "charts.png") });
        await AssertAccessibleAsync(page, "charts");
    }
}
