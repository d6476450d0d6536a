using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using StreamVision.App.Config;
using StreamVision.App.Http;

namespace StreamVision.App.Tests.Http;

public partial class WebUiTests
{
    /// <summary>A live camera stand-in: a grey scene where a white square crosses from left to right every 1.8 s, forever (paced in real time).</summary>
    private const string CrossingCamera = "lavfi:color=c=gray:s=320x240:r=25[bg];color=c=white:s=40x40:r=25[fg];[bg][fg]overlay=x='mod(t*200\\,360)-40':y=100";

    private static string WriteConfig(string dir, string clip)
    {
        string path = Path.Combine(dir, "ui.yaml");
        File.WriteAllText(path, $$"""
            instance: ui
            http:
              listen: http://127.0.0.1:0
            ui:
              state_file: state.json
              events:
                path: events.db
            detector:
              model: motion
              motion:
                learning_rate: 0.01
                min_area: 200
                downscale: 1
            streams:
              - id: square
                uri: {{clip}}
                mode: live
            """);
        return path;
    }

    [Fact]
    public async Task LineDrawnWithTheMouseIsSavedAppliedLiveAndItsCrossingsAppearInTheReviewWithSnapshotsAfterARestart()
    {
        string dir = TestEnvironment.NewTempDir("webui");
        string configPath = WriteConfig(dir, CrossingCamera);
        await using var browser = await Browser.OpenAsync(1280, 900);
        var page = browser.Page;
        long framesBeforeSave;
        await using (var host = await ServiceHost.StartAsync(ConfigLoader.LoadFile(configPath), NullLoggerFactory.Instance, configPath: configPath))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            await page.GotoAsync(host.Address + "#/stream/square/draw");
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('.editor img'); return i && i.complete && i.naturalWidth > 0; }");
            await AssertAccessibleAsync(page, "zone editor");
            // A vertical line in the middle, drawn with the mouse: two clicks on the picture.
            var area = await page.Locator(".editor svg").BoundingBoxAsync();
            Assert.NotNull(area);
            await page.Mouse.ClickAsync(area!.X + area.Width * 0.5f, area.Y + area.Height * 0.05f);
            await page.Mouse.ClickAsync(area.X + area.Width * 0.5f, area.Y + area.Height * 0.95f);
            await page.WaitForSelectorAsync(".editor svg g[data-line='line1']", new() { State = WaitForSelectorState.Attached });
            // A zone too, then an invalid name: the error is shown next to the field and nothing is saved.
            await page.ClickAsync("text=Zone (click corners, then Finish)");
            foreach (var (x, y) in new[] { (0.05f, 0.1f), (0.3f, 0.1f), (0.3f, 0.9f), (0.05f, 0.9f) })
                await page.Mouse.ClickAsync(area.X + area.Width * x, area.Y + area.Height * y);
            await page.ClickAsync("text=Finish zone");
            await page.FillAsync("#r-zones-0--name", "");
            await page.ClickAsync("text=Save");
            await page.WaitForFunctionAsync("() => document.querySelector(\"[data-error='zones[0].name']\").textContent.includes('required')");
            Assert.Equal("true", await page.GetAttributeAsync("#r-zones-0--name", "aria-invalid"));
            var unsaved = await http.GetFromJsonAsync<JsonElement>("/api/streams/square/regions");
            Assert.Equal(0, unsaved.GetProperty("lines").GetArrayLength());

            await page.FillAsync("#r-zones-0--name", "left");
            var stream = await http.GetFromJsonAsync<JsonElement>("/api/streams/square");
            framesBeforeSave = stream.GetProperty("frames").GetInt64();
            string streamingSince = (await http.GetFromJsonAsync<JsonElement[]>("/api/ui/streams"))![0].GetProperty("since").GetString()!;
            await page.ClickAsync("text=Save");
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/streams/square/regions")).GetProperty("lines").GetArrayLength() == 1,
                TimeSpan.FromSeconds(10), "the line saved");
            var regions = await http.GetFromJsonAsync<JsonElement>("/api/streams/square/regions");
            var line = regions.GetProperty("lines")[0];
            Assert.Equal("line1", line.GetProperty("name").GetString());
            Assert.Equal("fraction", line.GetProperty("units").GetString());
            Assert.InRange(line.GetProperty("points")[0][0].GetDouble(), 0.48, 0.52);
            Assert.Equal("left", regions.GetProperty("zones")[0].GetProperty("name").GetString());
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "draw.png") });

            // Applied without restarting the source: the frame count goes on, and crossings of the new line arrive.
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/events?type=line_crossed&stream=square")).GetProperty("events").GetArrayLength() >= 2,
                TimeSpan.FromSeconds(60), "two line_crossed events");
            var after = await http.GetFromJsonAsync<JsonElement>("/api/streams/square");
            Assert.True(after.GetProperty("frames").GetInt64() > framesBeforeSave, "the stream restarted: its frame count began again");
            Assert.Equal(0, after.GetProperty("reconnects").GetInt32());
            // The same source, streaming since before the save.
            Assert.Equal(streamingSince, (await http.GetFromJsonAsync<JsonElement[]>("/api/ui/streams"))![0].GetProperty("since").GetString());
            var crossed = (await http.GetFromJsonAsync<JsonElement>("/api/events?type=line_crossed")).GetProperty("events")[0];
            Assert.Equal("line1", crossed.GetProperty("region").GetString());
            Assert.Contains(crossed.GetProperty("direction").GetString(), new[] { "in", "out" });
            string snapshot = crossed.GetProperty("snapshot").GetString()!;
            using (var jpeg = await http.GetAsync(snapshot))
            {
                Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType!.MediaType);
                var bytes = await jpeg.Content.ReadAsByteArrayAsync();
                Assert.True(bytes.Length > 500 && bytes[0] == 0xFF && bytes[1] == 0xD8, "not a JPEG");
            }
            // The zone produces its events too.
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/events?type=zone_enter")).GetProperty("events").GetArrayLength() >= 1,
                TimeSpan.FromSeconds(30), "a zone_enter event");
            // Bad filters are refused with the parameter named.
            using (var bad = await http.GetAsync("/api/events?since=yesterday"))
            {
                Assert.Equal(400, (int)bad.StatusCode);
                Assert.Contains("since", await bad.Content.ReadAsStringAsync());
            }
        }

        // After a restart: the line is still there (state file), and the review lists the crossings with their snapshots.
        // The operator has added a webhook nobody listens to (the discard port): the dashboard says it cannot deliver.
        File.WriteAllText(configPath, File.ReadAllText(configPath).Replace("streams:", """
            sinks:
              webhook:
                url: http://127.0.0.1:9/hooks
                initial_backoff_seconds: 0.2
                max_backoff_seconds: 1
            streams:
            """, StringComparison.Ordinal));
        await using (var host = await ServiceHost.StartAsync(ConfigLoader.LoadFile(configPath), NullLoggerFactory.Instance, configPath: configPath))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            var regions = await http.GetFromJsonAsync<JsonElement>("/api/streams/square/regions");
            Assert.Equal("line1", regions.GetProperty("lines")[0].GetProperty("name").GetString());
            await page.GotoAsync(host.Address + "#/review?type=line_crossed&since=-1h");
            await page.WaitForSelectorAsync("li.event[data-type='line_crossed']");
            await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"li.event[data-type='line_crossed'] img\"); return i && i.complete && i.naturalWidth > 0; }");
            Assert.Contains("line1", await page.Locator("li.event[data-type='line_crossed']").First.InnerTextAsync());
            Assert.True(await page.Locator("svg.timeline rect").CountAsync() >= 2, "the timeline shows no events");
            Assert.Equal("line_crossed", await page.InputValueAsync("#q-type"));
            await AssertAccessibleAsync(page, "review");
            // Every type again: track events are listed too.
            await page.SelectOptionAsync("#q-type", "");
            await page.ClickAsync("text=Apply");
            await page.WaitForSelectorAsync("li.event[data-type='track_started']");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "review.png") });

            // The webhook's state on the stream's card (buffering or faulted, since when and why), the picture still shown,
            // and every output listed with its state in the stream's view.
            await page.GotoAsync(host.Address + "#/");
            await page.WaitForSelectorAsync("article[data-stream='square'] .sinks .sink-line[data-sink='webhook']");
            Assert.Matches("^webhook (buffering|faulted) for .*: .+", await page.Locator("article[data-stream='square'] .sink-line[data-sink='webhook']").InnerTextAsync());
            await page.WaitForFunctionAsync("() => { const i = document.querySelector(\"article[data-stream='square'] img\"); return i && i.complete && i.naturalWidth > 0; }");
            await page.GotoAsync(host.Address + "#/stream/square");
            await page.WaitForSelectorAsync("ul.outputs li[data-sink='webhook']");
            Assert.Matches("^(buffering|faulted)$", await page.Locator("ul.outputs li[data-sink='webhook'] .badge").InnerTextAsync());
            Assert.Contains("127.0.0.1:9", await page.Locator("ul.outputs li[data-sink='webhook']").InnerTextAsync());
            await AssertAccessibleAsync(page, "stream view with an output that cannot deliver");
        }
    }

    [Fact]
    public async Task StreamAddedInTheFormStartsShowsValidationErrorsByTheFieldAndCanBeRemoved()
    {
        string dir = TestEnvironment.NewTempDir("webui");
        string configPath = Path.Combine(dir, "add.yaml");
        File.WriteAllText(configPath, """
            http:
              listen: http://127.0.0.1:0
            detector:
              model: blazeface
            streams: []
            """);
        await using var browser = await Browser.OpenAsync(390, 844);
        var page = browser.Page;
        await using (var host = await ServiceHost.StartAsync(ConfigLoader.LoadFile(configPath), NullLoggerFactory.Instance, configPath: configPath))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            await page.GotoAsync(host.Address!.ToString());
            await page.ClickAsync("text=Add a camera or file");
            await page.WaitForURLAsync("**/#/add");
            await AssertAccessibleAsync(page, "add form");
            // The configuration's own rules: a bad id and a bad frame rate are shown next to their fields.
            await page.FillAsync("#f-id", "front door!");
            await page.FillAsync("#f-uri", "lavfi:testsrc2=size=320x240:rate=10");
            await page.FillAsync("#f-max_fps", "5000");
            await page.ClickAsync("button[type=submit]");
            await page.WaitForFunctionAsync("() => document.querySelector('#e-id').textContent.length > 0 || document.querySelector('#e-max_fps').textContent.length > 0");
            string idError = await page.InnerTextAsync("#e-id"), fpsError = await page.InnerTextAsync("#e-max_fps");
            Assert.True(idError.Length > 0 || fpsError.Length > 0, "no error next to a field");
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "add-errors.png") });
            Assert.Empty(await http.GetFromJsonAsync<JsonElement[]>("/api/streams") ?? []);
            // Corrected: the stream starts and the page opens it.
            await page.FillAsync("#f-id", "front-door");
            await page.FillAsync("#f-max_fps", "0");
            await page.SelectOptionAsync("#f-mode", "live");
            await page.ClickAsync("button[type=submit]");
            await page.WaitForURLAsync("**/#/stream/front-door");
            await page.WaitForFunctionAsync("() => [...document.querySelectorAll('.badge')].some(b => b.textContent === 'streaming')");
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('.detail .frame img'); return i && i.complete && i.naturalWidth > 0; }");
            var s = await http.GetFromJsonAsync<JsonElement>("/api/streams/front-door");
            Assert.Equal("running", s.GetProperty("status").GetString());
        }
        // Kept across a restart (state file beside the configuration), then removed in the form: gone after a restart too.
        Assert.True(File.Exists(Path.Combine(dir, "streamvision-state.json")));
        await using (var host = await ServiceHost.StartAsync(ConfigLoader.LoadFile(configPath), NullLoggerFactory.Instance, configPath: configPath))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/streams/front-door")).GetProperty("status").GetString() == "running",
                TimeSpan.FromSeconds(20), "the added stream running after a restart");
            page.Dialog += (_, d) => d.AcceptAsync();
            await page.GotoAsync(host.Address + "#/stream/front-door/edit");
            await page.WaitForFunctionAsync("() => document.querySelector('#f-uri').value.startsWith('lavfi:')");
            await page.ClickAsync("text=Remove stream");
            await page.WaitForURLAsync("**/#/");
            await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement[]>("/api/streams"))!.Length == 0, TimeSpan.FromSeconds(20), "the stream removed");
        }
        await using (var host = await ServiceHost.StartAsync(ConfigLoader.LoadFile(configPath), NullLoggerFactory.Instance, configPath: configPath))
        {
            using var http = new HttpClient { BaseAddress = host.Address };
            Assert.Empty(await http.GetFromJsonAsync<JsonElement[]>("/api/streams") ?? []);
        }
    }
}
