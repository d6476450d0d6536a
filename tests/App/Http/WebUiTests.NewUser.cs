using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;

namespace StreamVision.App.Tests.Http;

public partial class WebUiTests
{
    /// <summary>
    /// The "done when", as a new user does it: <c>streamvision run -c config/web-ui.yaml</c> (the example as it
    /// is, only its port and storage moved by environment overrides), open the page, add a camera in the form, draw a
    /// line with the mouse, save, and find the crossings with their snapshots in the review; no file edited.
    /// </summary>
    [Fact]
    public async Task ANewUserAddsACameraDrawsALineAndSeesItsCrossingsWithSnapshotsInTheReview()
    {
        string dir = TestEnvironment.NewTempDir("webui-new");
        int port = MosquittoBroker.FreePort();
        string log = Path.Combine(dir, "run.log");
        string app = Path.Combine(AppContext.BaseDirectory, "streamvision.dll");
        var psi = new ProcessStartInfo("/bin/sh", ["-c", $"exec dotnet \"{app}\" run -c \"{Path.Combine(TestEnvironment.RepoRoot, "config", "web-ui.yaml")}\" >>\"{log}\" 2>&1"])
        {
            UseShellExecute = false,
        };
        psi.WithoutDiagnosticFiles();
        psi.Environment["SV__HTTP__LISTEN"] = $"http://127.0.0.1:{port}";
        psi.Environment["SV__UI__STATE_FILE"] = Path.Combine(dir, "state.json");
        psi.Environment["SV__UI__EVENTS__PATH"] = Path.Combine(dir, "events.db");
        using var process = Process.Start(psi)!;
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            await Poll.UntilAsync(async () =>
            {
                if (process.HasExited) Assert.Fail("streamvision run exited:\n" + (File.Exists(log) ? File.ReadAllText(log) : ""));
                try
                {
                    return (await http.GetAsync("/readyz")).IsSuccessStatusCode;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "the service ready");

            await using var browser = await Browser.OpenAsync(1280, 900);
            var page = browser.Page;
            await page.GotoAsync(http.BaseAddress!.ToString());
            // An empty wall says what to do.
            await page.ClickAsync("text=Add a camera or file");
            await page.FillAsync("#f-id", "gate");
            await page.FillAsync("#f-uri", CrossingCamera);
            await page.SelectOptionAsync("#f-mode", "live");
            await page.ClickAsync("button[type=submit]");
            await page.WaitForURLAsync("**/#/stream/gate");
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('.detail .frame img'); return i && i.complete && i.naturalWidth > 0; }");

            // A line across the square's path: two clicks on a frame of the stream, then Save.
            await page.ClickAsync("text=Draw zones and lines");
            await page.WaitForURLAsync("**/#/stream/gate/draw");
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('.editor img'); return i && i.complete && i.naturalWidth > 0; }");
            var area = await page.Locator(".editor svg").BoundingBoxAsync();
            Assert.NotNull(area);
            await page.Mouse.ClickAsync(area!.X + area.Width * 0.6f, area.Y + area.Height * 0.1f);
            await page.Mouse.ClickAsync(area.X + area.Width * 0.6f, area.Y + area.Height * 0.9f);
            await page.WaitForSelectorAsync(".editor svg g[data-line='line1']", new() { State = WaitForSelectorState.Attached });
            await page.ClickAsync("text=Save");
            await page.WaitForFunctionAsync("() => document.querySelector('.toast')?.textContent.startsWith('Saved')");

            // The review: crossings of the line, each with the picture of its frame.
            await page.ClickAsync("nav >> text=Review");
            await page.WaitForURLAsync("**/#/review");
            await page.WaitForSelectorAsync("li.event[data-type='line_crossed']", new() { Timeout = 90_000 });
            var crossing = page.Locator("li.event[data-type='line_crossed']").First;
            Assert.Contains("line1", await crossing.InnerTextAsync());
            Assert.Contains("gate", await crossing.InnerTextAsync());
            await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"li.event[data-type='line_crossed'] img\"); return i && i.complete && i.naturalWidth > 0; }");
            var events = await http.GetFromJsonAsync<JsonElement>("/api/events?type=line_crossed&stream=gate");
            Assert.All(events.GetProperty("events").EnumerateArray(), e => Assert.StartsWith("/api/snapshots/", e.GetProperty("snapshot").GetString()));
            // Nothing was written beside the example: the browser's changes went to the state file.
            Assert.Contains("gate", File.ReadAllText(Path.Combine(dir, "state.json")));
        }
        finally
        {
            if (!process.HasExited)
            {
                TestEnvironment.Run("kill", $"-TERM {process.Id}");
                if (!process.WaitForExit(60_000)) process.Kill();
            }
        }
    }
}
