using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

/// <summary>The dashboard in a real browser: Debian's chromium, headless, driven by Playwright.</summary>
public class DashboardTests
{
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task PageListsStreamsAndThePreviewImageUpdates()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: ./streamvision setup installs Debian's chromium");
        var cfg = ConfigLoader.LoadText("""
            http:
              listen: http://127.0.0.1:0
            detector:
              model: blazeface
            streams:
              - id: pattern
                uri: lavfi:testsrc2=size=320x240:rate=15
                mode: live
              - id: second
                uri: lavfi:smptebars=size=320x240:rate=15
                mode: live
            """, "dash.yaml", new Dictionary<string, string>());
        await using var host = await ServiceHost.StartAsync(cfg, NullLoggerFactory.Instance);
        string userData = TestEnvironment.NewTempDir("chromium");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 390, Height = 844 } });
        await page.GotoAsync(host.Address!.ToString());
        await page.WaitForSelectorAsync("section.card[data-stream='pattern']");
        await page.WaitForSelectorAsync("section.card[data-stream='second']");
        Assert.Equal(2, await page.Locator("section.card").CountAsync());
        // Live stats arrive.
        await page.WaitForFunctionAsync("() => Number(document.querySelector(\"section[data-stream='pattern'] [data-key='frames'] dd\").textContent) > 10");
        // The MJPEG preview really paints and changes: two screenshots of the image differ.
        var img = page.Locator("section[data-stream='pattern'] img");
        await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"section[data-stream='pattern'] img\"); return i.complete && i.naturalWidth > 0; }");
        var first = await img.ScreenshotAsync();
        await Task.Delay(700);
        var second = await img.ScreenshotAsync();
        Assert.False(first.AsSpan().SequenceEqual(second), "the preview image did not change");
    }
}
