using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using StreamVision.App.Config;
using StreamVision.App.Http;
using StreamVision.Cluster;

namespace StreamVision.App.Tests.Http;

public partial class WebUiTests
{
    /// <summary>An instance of cluster <paramref name="name"/> on <paramref name="etcd"/>, listening on a free loopback port, no detector.</summary>
    private static SvConfig ClusterConfig(EtcdCluster etcd, string name, string instance) => ConfigLoader.LoadText($"""
        instance: {instance}
        http:
          listen: http://127.0.0.1:0
        detector:
          model: none
        cluster:
          endpoints: {etcd.EndpointsYaml}
          name: {name}
          lease_seconds: 4
        """, $"{instance}.yaml", new Dictionary<string, string>());

    /// <summary>
    /// Two clustered instances on a real etcd, each running one live pattern: the wall of either lists both streams with
    /// the instance that runs each; its own stream shows its picture, the other's says where it runs and links there.
    /// </summary>
    [Fact]
    public async Task InAClusterTheWallShowsEveryStreamWithItsOwnerAndSaysWhereAnotherInstancesStreamCanBeSeen()
    {
        using var etcd = new EtcdCluster(1);
        etcd.Start();
        string name = $"ui{Guid.NewGuid():N}"[..10];
        SvConfig Config(string instance) => ClusterConfig(etcd, name, instance);
        // One stream for each instance, as rendezvous hashing places them.
        string[] members = ["a", "b"];
        var ids = Enumerable.Range(1, 50).Select(i => $"cam{i}").ToList();
        string onA = ids.First(s => Rendezvous.Owner(s, members) == "a"), onB = ids.First(s => Rendezvous.Owner(s, members) == "b");

        await using var a = await ServiceHost.StartAsync(Config("a"), NullLoggerFactory.Instance);
        await using var b = await ServiceHost.StartAsync(Config("b"), NullLoggerFactory.Instance);
        using var http = new HttpClient { BaseAddress = a.Address };
        await Poll.UntilAsync(async () => (await http.GetFromJsonAsync<JsonElement>("/api/cluster")).GetProperty("members").GetArrayLength() == 2,
            TimeSpan.FromSeconds(30), "both instances members of the cluster");
        foreach (var id in new[] { onA, onB })
        {
            using var body = new StringContent($$"""{"id":"{{id}}","uri":"lavfi:testsrc2=size=320x240:rate=10","mode":"live"}""", Encoding.UTF8, "application/json");
            Assert.Equal(HttpStatusCode.Created, (await http.PostAsync("/api/streams", body)).StatusCode);
        }
        await Poll.UntilAsync(async () =>
        {
            var fleet = await http.GetFromJsonAsync<JsonElement[]>("/api/streams");
            return fleet!.Length == 2 && fleet.All(s => s.GetProperty("status").GetString() == "running" && s.GetProperty("frames").GetInt64() > 0);
        }, TimeSpan.FromSeconds(60), "both streams running on their owners");

        await using var browser = await Browser.OpenAsync(1280, 800);
        var page = browser.Page;
        await page.GotoAsync(a.Address!.ToString());
        await page.WaitForSelectorAsync($"article.card[data-stream='{onA}']");
        await page.WaitForSelectorAsync($"article.card[data-stream='{onB}']");
        Assert.Equal(2, await page.Locator("article.card").CountAsync());
        await page.WaitForFunctionAsync($"() => document.querySelector(\"article[data-stream='{onB}'] .owner\").textContent === 'on b'");
        Assert.Equal("on a", await page.Locator($"article[data-stream='{onA}'] .owner").InnerTextAsync());
        Assert.Contains("2 streams", await page.Locator("#summary").InnerTextAsync());

        // This instance's stream: its live picture.
        await page.WaitForFunctionAsync($"() => {{ const i = document.querySelector(\"article[data-stream='{onA}'] img\"); return i && i.complete && i.naturalWidth > 0; }}");
        // The other instance's stream: no picture here, a placeholder saying where it runs, and a link to that instance's page.
        var remote = page.Locator($"article[data-stream='{onB}']");
        Assert.Equal(0, await remote.Locator("img").CountAsync());
        Assert.Contains("runs on instance b", await remote.Locator(".placeholder").InnerTextAsync());
        Assert.Equal("streaming", await remote.Locator(".badge").InnerTextAsync());
        Assert.Contains("streaming for ", await remote.Locator(".since").InnerTextAsync());
        // The other instance's figures, as it reports them.
        await page.WaitForFunctionAsync($"() => Number(document.querySelector(\"article[data-stream='{onB}'] [data-key='frames'] dd\").textContent) > 0");
        string href = (await remote.Locator(".elsewhere a").GetAttributeAsync("href"))!;
        Assert.Equal(b.Address!.ToString().TrimEnd('/') + "/#/stream/" + onB, href);
        Assert.DoesNotContain("NaN", await page.Locator("main").InnerTextAsync());
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDir, "wall-cluster.png") });
        await AssertAccessibleAsync(page, "cluster wall");

        // Opened full size: the note and the link, no drawing or editing here.
        await page.GotoAsync(a.Address + "#/stream/" + onB);
        await page.WaitForSelectorAsync(".panel .elsewhere a");
        Assert.Contains("Another instance", await page.Locator(".panel .elsewhere").InnerTextAsync());
        Assert.False(await page.Locator("text=Draw zones and lines").IsVisibleAsync());
        await AssertAccessibleAsync(page, "another instance's stream");

        // The link leads to the owner's own page, where the picture is.
        await page.GotoAsync(href);
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('.detail .frame img'); return i && i.complete && i.naturalWidth > 0; }");
    }

    /// <summary>
    /// Zones drawn in the browser on a clustered stream live in its definition in etcd: when its instance leaves, the
    /// instance that takes the stream over runs it with them, and its page draws them.
    /// </summary>
    [Fact]
    public async Task ZonesDrawnOnAStreamFollowItWhenAnotherInstanceTakesItOver()
    {
        using var etcd = new EtcdCluster(1);
        etcd.Start();
        string name = $"uz{Guid.NewGuid():N}"[..10];
        SvConfig Config(string instance) => ClusterConfig(etcd, name, instance);
        string[] members = ["a", "b"];
        string id = Enumerable.Range(1, 50).Select(i => $"cam{i}").First(s => Rendezvous.Owner(s, members) == "a");

        var a = await ServiceHost.StartAsync(Config("a"), NullLoggerFactory.Instance);
        await using var b = await ServiceHost.StartAsync(Config("b"), NullLoggerFactory.Instance);
        try
        {
            using var httpA = new HttpClient { BaseAddress = a.Address };
            using var httpB = new HttpClient { BaseAddress = b.Address };
            await Poll.UntilAsync(async () => (await httpA.GetFromJsonAsync<JsonElement>("/api/cluster")).GetProperty("members").GetArrayLength() == 2,
                TimeSpan.FromSeconds(30), "both instances members of the cluster");
            using (var body = new StringContent($$"""{"id":"{{id}}","uri":"lavfi:testsrc2=size=320x240:rate=10","mode":"live"}""", Encoding.UTF8, "application/json"))
                Assert.Equal(HttpStatusCode.Created, (await httpA.PostAsync("/api/streams", body)).StatusCode);
            await Poll.UntilAsync(async () => (await httpA.GetAsync($"/api/streams/{id}/regions")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the stream running on a");

            // Drawn with the mouse on the instance that runs it.
            await using var browser = await Browser.OpenAsync(1280, 900);
            var page = browser.Page;
            await page.GotoAsync(a.Address + "#/stream/" + id + "/draw");
            await page.WaitForFunctionAsync("() => { const i = document.querySelector('.editor img'); return i && i.complete && i.naturalWidth > 0; }");
            var area = await page.Locator(".editor svg").BoundingBoxAsync();
            Assert.NotNull(area);
            await page.ClickAsync("text=Zone (click corners, then Finish)");
            foreach (var (x, y) in new[] { (0.1f, 0.1f), (0.5f, 0.1f), (0.5f, 0.6f), (0.1f, 0.6f) })
                await page.Mouse.ClickAsync(area!.X + area.Width * x, area.Y + area.Height * y);
            await page.ClickAsync("text=Finish zone");
            await page.FillAsync("#r-zones-0--name", "door");
            await page.ClickAsync("text=Save");
            await Poll.UntilAsync(async () => (await httpA.GetFromJsonAsync<JsonElement>($"/api/streams/{id}/regions")).GetProperty("zones").GetArrayLength() == 1,
                TimeSpan.FromSeconds(10), "the zone saved on a");
            long framesOnA = (await httpA.GetFromJsonAsync<JsonElement>($"/api/streams/{id}")).GetProperty("frames").GetInt64();

            // a leaves: b takes the stream over and runs it with the zone.
            await a.DisposeAsync();
            try
            {
                await Poll.UntilAsync(async () => (await httpB.GetAsync($"/api/streams/{id}/regions")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the stream taken over by b");
            }
            catch (TimeoutException)
            {
                Assert.Fail($"b did not take {id} over: {await httpB.GetStringAsync("/api/streams")} {await httpB.GetStringAsync("/api/cluster")}");
            }
            var regions = await httpB.GetFromJsonAsync<JsonElement>($"/api/streams/{id}/regions");
            Assert.Equal("door", Assert.Single(regions.GetProperty("zones").EnumerateArray()).GetProperty("name").GetString());
            await page.GotoAsync(b.Address + "#/stream/" + id);
            await page.WaitForSelectorAsync(".detail .frame svg polygon[data-zone='door']", new() { State = WaitForSelectorState.Attached });
            // Where it was drawn (the corners clicked at 10 % and 50 %, 10 % and 60 %, on the 1000x1000 overlay; a mouse click lands within a pixel).
            var drawn = (await page.Locator("polygon[data-zone='door']").GetAttributeAsync("points"))!
                .Split(' ', StringSplitOptions.RemoveEmptyEntries).SelectMany(p => p.Split(',')).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            double[] clicked = [100, 100, 500, 100, 500, 600, 100, 600];
            Assert.Equal(clicked.Length, drawn.Length);
            for (int i = 0; i < clicked.Length; i++) Assert.InRange(drawn[i], clicked[i] - 5, clicked[i] + 5);
            Assert.True(framesOnA > 0);
        }
        finally
        {
            await a.DisposeAsync();
        }
    }
}
