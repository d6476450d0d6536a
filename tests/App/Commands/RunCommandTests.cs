using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace StreamVision.App.Tests.Commands;

public partial class RunCommandTests
{
    [Fact]
    public async Task SigtermDrainsFinalisesAndExitsZero()
    {
        string dir = TestEnvironment.NewTempDir();
        int port = MosquittoBroker.FreePort();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, $$"""
            instance: sigterm
            http:
              listen: http://127.0.0.1:{{port}}
            detector:
              model: blazeface
            sinks:
              video:
                path: {{dir}}/{stream}.mp4
                preset: ultrafast
              events: {{dir}}/{stream}.jsonl
            streams:
              - id: movie
                uri: /usr/share/doc/opencv-doc/examples/data/Megamind.avi
                mode: file
            """);
        using var run = RunProcess.Start(config);
        var (p, stdout, stderr) = (run.Process, run.Stdout, run.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var until = DateTime.UtcNow.AddSeconds(120); // a fail-safe against a hang, not a speed bound
        long frames = 0;
        try
        {
            while (frames < 40)
            {
                Assert.True(DateTime.UtcNow < until && !p.HasExited, $"service did not process frames: {(p.HasExited ? await stderr : "")}");
                await Task.Delay(200);
                try
                {
                    var s = await http.GetFromJsonAsync<JsonElement[]>("/api/streams");
                    if (s is { Length: > 0 }) frames = s[0].GetProperty("frames").GetInt64();
                }
                catch (HttpRequestException)
                {
                }
            }
        }
        catch
        {
            if (!p.HasExited) p.Kill(); // never leave a service behind when the test fails
            throw;
        }
        TestEnvironment.Run("kill", $"-TERM {p.Id}");
        Assert.True(p.WaitForExit(120_000), "service did not stop within 120 s of SIGTERM");
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {await stderr}");
        Assert.Contains("stopped cleanly", await stdout);

        var probe = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{Path.Combine(dir, "movie.mp4")}\"").Trim();
        Assert.True(int.Parse(probe, System.Globalization.CultureInfo.InvariantCulture) >= 40, $"{probe} frames in the MP4");
        var lines = File.ReadAllLines(Path.Combine(dir, "movie.jsonl"));
        Assert.NotEmpty(lines);
        foreach (var line in lines) JsonDocument.Parse(line).Dispose(); // every line, the last included, is complete JSON
        Assert.Contains(lines, l => l.Contains("\"track_ended\"", StringComparison.Ordinal));
    }

    [Fact]
    public async Task APortInUseFailsNamingHttpListenWithoutAStack()
    {
        string dir = TestEnvironment.NewTempDir();
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, $"http:\n  listen: http://127.0.0.1:{port}\ndetector:\n  model: none\nstreams: []\n");
        using var run = RunProcess.Start(config);
        if (!run.Process.WaitForExit(120_000)) // a fail-safe against a hang, not a speed bound
        {
            run.Process.Kill();
            Assert.Fail("the service did not stop on a port in use");
        }
        string stdout = await run.Stdout, stderr = await run.Stderr;
        Assert.Equal(1, run.Process.ExitCode);
        Assert.Contains($"run: http.listen: Failed to bind to address http://127.0.0.1:{port}: address already in use", stderr);
        Assert.DoesNotContain("   at ", stdout + stderr);
    }

    [Fact]
    public async Task SighupReloadsTheConfigurationFile()
    {
        string dir = TestEnvironment.NewTempDir();
        int port = MosquittoBroker.FreePort();
        string config = Path.Combine(dir, "run.yaml");
        string Yaml(params string[] ids) => $"http:\n  listen: http://127.0.0.1:{port}\ndetector:\n  model: none\nstreams:\n" +
            string.Concat(ids.Select(id => $"  - id: {id}\n    uri: \"lavfi:testsrc2=size=160x120:rate=10\"\n    mode: live\n"));
        File.WriteAllText(config, Yaml("first"));
        using var run = RunProcess.Start(config);
        var (p, stderr) = (run.Process, run.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        async Task<string[]> Ids()
        {
            try
            {
                var s = await http.GetFromJsonAsync<JsonElement[]>("/api/streams");
                return s!.Select(e => e.GetProperty("id").GetString()!).Order().ToArray();
            }
            catch (HttpRequestException)
            {
                return [];
            }
        }
        try
        {
            await Poll.UntilAsync(async () => (await Ids()).SequenceEqual(["first"]), TimeSpan.FromSeconds(30), "service start");
            File.WriteAllText(config, Yaml("second", "third"));
            TestEnvironment.Run("kill", $"-HUP {p.Id}");
            await Poll.UntilAsync(async () => (await Ids()).SequenceEqual(["second", "third"]), TimeSpan.FromSeconds(30), "reload on SIGHUP");
            Assert.False(p.HasExited);
        }
        finally
        {
            if (!p.HasExited) TestEnvironment.Run("kill", $"-TERM {p.Id}");
            Assert.True(p.WaitForExit(30_000));
        }
        Assert.True(p.ExitCode == 0, await stderr);
    }

    [Fact]
    public async Task AVideoOutputOnAFullDiskMakesRunExitOneNamingItWhileTheOtherOutputsFinalise()
    {
        string dir = TestEnvironment.NewTempDir();
        using var disk = new SmallDisk(1024);
        disk.Fill(leaveBytes: 96 * 1024); // room for a second or two of noise, then the disk is full
        int port = MosquittoBroker.FreePort();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, $$"""
            http:
              listen: http://127.0.0.1:{{port}}
            detector:
              model: none
            sinks:
              video:
                path: {{disk.Root}}/{stream}.mp4
                preset: ultrafast
              events: {{dir}}/{stream}.jsonl
            streams:
              - id: cam
                uri: "lavfi:testsrc2=size=320x240:rate=25,noise=alls=100:allf=t"
                mode: live
            """);
        using var run = RunProcess.Start(config);
        var (p, stdout, stderr) = (run.Process, run.Stdout, run.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        async Task<string?> VideoState()
        {
            try
            {
                var s = await http.GetFromJsonAsync<JsonElement[]>("/api/streams");
                if (s is not { Length: > 0 }) return null;
                foreach (var sink in s[0].GetProperty("sinks").EnumerateArray())
                    if (sink.GetProperty("name").GetString()!.Contains("video", StringComparison.OrdinalIgnoreCase)) return sink.GetProperty("state").GetString();
                return null;
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }
        try
        {
            await Poll.UntilAsync(async () => await VideoState() == "faulted", TimeSpan.FromSeconds(90), "the video output faulting on the full disk");
        }
        catch
        {
            if (!p.HasExited) p.Kill();
            throw;
        }
        TestEnvironment.Run("kill", $"-TERM {p.Id}");
        Assert.True(p.WaitForExit(120_000), "service did not stop within 120 s of SIGTERM");
        string err = await stderr;
        Assert.True(p.ExitCode == 1, $"exit {p.ExitCode}: {err}");
        Assert.Contains("were not finalised", err);
        Assert.Contains("stream cam: video: faulted", err);
        Assert.DoesNotContain("stopped cleanly", await stdout);
        // The events output on the other disk finalised: every line complete JSON.
        foreach (var line in File.ReadAllLines(Path.Combine(dir, "cam.jsonl"))) JsonDocument.Parse(line).Dispose();
        Assert.Contains("No space left on device", err); // the reason, as the OS said it
    }
}
