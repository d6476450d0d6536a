using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.App.Commands;
using StreamVision.Core;
using StreamVision.Pipeline;
using Xunit.Abstractions;

namespace StreamVision.App.Tests.Commands;

/// <summary>
/// The short fault suite: a service killed with SIGKILL mid-write, hostile media through probe and annotate, a file with no
/// decodable frame. (SIGTERM: <see cref="RunCommandTests"/>; broker outages: the Sinks tests; full disks: CrashSafeOutputTests.)
/// </summary>
public class FaultTests(ITestOutputHelper output)
{
    private static int DecodedFrames(string path)
    {
        string csv = TestEnvironment.Ffprobe($"-count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 \"{path}\"").Trim().TrimEnd(',');
        return int.Parse(csv, CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task SigkillMidWriteLeavesAPlayableVideoUpToTheLastSecondsAndWholeEventAndTrackLines()
    {
        string dir = TestEnvironment.NewTempDir();
        int port = MosquittoBroker.FreePort();
        string config = Path.Combine(dir, "run.yaml");
        File.WriteAllText(config, $$"""
            instance: sigkill
            http:
              listen: http://127.0.0.1:{{port}}
            detector:
              model: motion
            sinks:
              video:
                path: {{dir}}/{stream}.mp4
                preset: ultrafast
              events: {{dir}}/{stream}.jsonl
              tracks: {{dir}}/{stream}.txt
            streams:
              - id: cam
                uri: "lavfi:testsrc2=size=320x240:rate=25"
                mode: live
            """);
        using var run = RunProcess.Start(config);
        var (p, stderr) = (run.Process, run.Stderr);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        long written = 0, events = 0;
        JsonElement stream = default;
        try
        {
            await Poll.UntilAsync(async () =>
            {
                Assert.False(p.HasExited, $"the service exited: {(p.HasExited ? await stderr : "")}");
                try
                {
                    var s = await http.GetFromJsonAsync<JsonElement[]>("/api/streams");
                    if (s is not { Length: > 0 }) return false;
                    stream = s[0];
                    written = stream.GetProperty("sinks").EnumerateArray().First(k => k.GetProperty("name").GetString() == "video").GetProperty("written").GetInt64();
                    events = stream.GetProperty("events").GetInt64();
                    long delivered = stream.GetProperty("sinks").EnumerateArray().First(k => k.GetProperty("name").GetString() == "events").GetProperty("events_delivered").GetInt64();
                    return written >= 150 && events > 0 && delivered > 0;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(90), "150 frames written and an event");
        }
        catch
        {
            if (!p.HasExited) p.Kill();
            throw;
        }
        // Every sink says how it is doing.
        Assert.Equal("running", stream.GetProperty("status").GetString());
        Assert.All(stream.GetProperty("sinks").EnumerateArray(), k => Assert.Equal("connected", k.GetProperty("state").GetString()));
        // Event sinks count events (their runner counts frames); other sinks have no event counts.
        var sinks = stream.GetProperty("sinks").EnumerateArray().ToDictionary(k => k.GetProperty("name").GetString()!);
        Assert.True(sinks["events"].GetProperty("events_delivered").GetInt64() > 0);
        Assert.Equal(0, sinks["events"].GetProperty("events_dropped").GetInt64());
        Assert.Equal(JsonValueKind.Null, sinks["video"].GetProperty("events_delivered").ValueKind);

        TestEnvironment.Run("kill", $"-KILL {p.Id}");
        Assert.True(p.WaitForExit(30_000));
        Assert.Equal(137, p.ExitCode); // killed: nothing was finalised

        // The video plays up to within a few seconds (a fragment, the encoder's look-ahead) of what was written.
        int decoded = DecodedFrames(Path.Combine(dir, "cam.mp4"));
        output.WriteLine($"SIGKILL: {written} frames written (API, just before the kill), {decoded} decode from the killed file");
        Assert.True(decoded >= written - 3 * 25, $"{decoded} frames decode of {written} written before the kill");
        // Events and tracks: whole lines only, each one complete.
        var lines = File.ReadAllLines(Path.Combine(dir, "cam.jsonl"));
        Assert.NotEmpty(lines);
        foreach (var line in lines) JsonDocument.Parse(line).Dispose();
        Assert.EndsWith("\n", File.ReadAllText(Path.Combine(dir, "cam.jsonl")), StringComparison.Ordinal);
        string tracks = File.ReadAllText(Path.Combine(dir, "cam.txt"));
        Assert.NotEmpty(tracks);
        Assert.EndsWith("\n", tracks, StringComparison.Ordinal);
        Assert.All(tracks.TrimEnd('\n').Split('\n'), r => Assert.Equal(10, r.Split(',').Length));
    }

    /// <summary>Hostile media made at test time: each one a clean error or a partial decode through probe and annotate, never a crash or a hang.</summary>
    [Fact]
    public async Task HostileMediaGiveCleanErrorsOrPartialDecodesNeverACrashOrAHang()
    {
        string dir = TestEnvironment.NewTempDir();
        string good = TestMedia.H264(320, 240, 50);
        byte[] bytes = File.ReadAllBytes(good);
        var rng = new Random(14);
        var corpus = new Dictionary<string, string>();
        string Put(string name, byte[] data)
        {
            string path = Path.Combine(dir, name);
            File.WriteAllBytes(path, data);
            corpus[name] = path;
            return path;
        }
        Put("truncated.mp4", bytes[..(bytes.Length * 2 / 5)]);
        byte[] faststart = File.ReadAllBytes(FastStart());
        Put("truncated-tail.mp4", faststart[..(faststart.Length * 2 / 3)]); // index first, media cut: the first part plays
        var flipped = (byte[])bytes.Clone();
        for (int i = 0; i < 300; i++) flipped[bytes.Length / 10 + rng.Next(bytes.Length * 8 / 10)] ^= (byte)(1 << rng.Next(8));
        Put("bitflipped.mp4", flipped);
        var random = new byte[64 * 1024];
        rng.NextBytes(random);
        Put("random.mp4", random);
        Put("zero-length.mp4", []);
        Put("hevc-named.mp4", File.ReadAllBytes(TestMedia.Hevc()));
        Put("png-named.mp4", File.ReadAllBytes(TestMedia.Make("one.png", "-f lavfi -i testsrc2=size=64x48 -frames:v 1")));
        Put("text-named.mkv", Encoding.UTF8.GetBytes("this is not a video\n"));
        // A raw-video header that claims 30000x30000 pixels, followed by a few bytes.
        Put("huge-dimensions.y4m", [.. Encoding.ASCII.GetBytes("YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n"), .. new byte[4096]]);
        // An H.264 stream whose every SPS says 16384x16384 is harder to make; a plain one cut mid-slice covers the decoder side.
        Put("cut-annexb.h264", File.ReadAllBytes(TestMedia.Make("annexb.h264", "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 10 -c:v libx264 -preset ultrafast -bsf:v h264_mp4toannexb -f h264"))[..2000]);

        var outcomes = new List<string>();
        foreach (var (name, path) in corpus)
        {
            var outText = new StringWriter();
            var errText = new StringWriter();
            int probe = await Task.Run(() => ProbeCommand.Run(path, null, TimeSpan.FromSeconds(10), outText, errText)).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(probe is ExitCodes.Ok or ExitCodes.Failed, $"{name}: probe exit {probe}");
            if (probe != ExitCodes.Ok) Assert.False(string.IsNullOrWhiteSpace(errText.ToString() + outText.ToString()), $"{name}: probe failed without a word");

            var o = new AnnotateOptions { Input = path, Output = Path.Combine(dir, name + ".out.mp4"), Model = "motion", Preset = "ultrafast" };
            string outcome;
            try
            {
                var s = await AnnotateJob.RunAsync(o, NullLogger.Instance, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(120));
                Assert.True(s.Frames > 0);
                Assert.True(DecodedFrames(o.Output) > 0, $"{name}: {s.Frames} frames reported, none in the output");
                outcome = $"partial decode, {s.Frames} frames";
            }
            catch (StreamVisionException ex)
            {
                // A clean error names the input and says what is wrong; no output is claimed.
                Assert.Contains(name, ex.Message, StringComparison.Ordinal);
                outcome = $"error: {ex.Message}";
            }
            outcomes.Add($"{name}: probe {probe}, annotate {outcome}");
        }
        Assert.Equal(corpus.Count, outcomes.Count);
        foreach (var l in outcomes) output.WriteLine(l);
        // The healthy part of a truncated-at-the-tail file still decodes.
        Assert.True(outcomes.Any(l => l.StartsWith("truncated-tail.mp4: probe 0, annotate partial decode", StringComparison.Ordinal)), string.Join("\n", outcomes));
    }

    [Fact]
    public async Task AnnotateOfAFileWithNoDecodableFrameExitsOneAndSaysSo()
    {
        string dir = TestEnvironment.NewTempDir();
        // A valid container holding no video frame: an audio-only file, and a video stream with its frames cut off.
        string audio = TestMedia.Make("audio-only.mp4", "-f lavfi -i sine=frequency=440:duration=1 -c:a aac");
        var o = new AnnotateOptions { Input = audio, Output = Path.Combine(dir, "out.mp4"), Model = "none", Preset = "ultrafast" };
        var ex = await Assert.ThrowsAnyAsync<StreamVisionException>(() => AnnotateJob.RunAsync(o, NullLogger.Instance, null, CancellationToken.None));
        Assert.Contains("audio-only.mp4", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(o.Output));

        string app = Path.Combine(AppContext.BaseDirectory, "streamvision.dll");
        // Index first (faststart), then cut just after the start of the media data: it opens, and no frame decodes.
        byte[] mp4 = File.ReadAllBytes(FastStart());
        string header = Path.Combine(dir, "index-only.mp4");
        File.WriteAllBytes(header, mp4[..(MdatOffset(mp4) + 16)]);
        var (code, stdout, stderr) = RunCli($"\"{app}\" annotate \"{header}\" -o \"{Path.Combine(dir, "h.mp4")}\" -m none");
        Assert.True(code == ExitCodes.Failed, $"exit {code}: {stdout} {stderr}");
        Assert.Contains("index-only.mp4", stderr, StringComparison.Ordinal);
        Assert.Contains("no decodable video frame", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("->", stdout, StringComparison.Ordinal); // no success summary
        Assert.False(File.Exists(Path.Combine(dir, "h.mp4")));
    }

    private static string FastStart() =>
        TestMedia.Make("faststart.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25 -frames:v 30 -c:v libx264 -preset ultrafast -movflags +faststart");

    /// <summary>Where the top-level mdat box starts (boxes: 32-bit big-endian size, 4-byte type).</summary>
    private static int MdatOffset(byte[] mp4)
    {
        int at = 0;
        while (at + 8 <= mp4.Length)
        {
            int size = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(mp4.AsSpan(at));
            if (Encoding.ASCII.GetString(mp4, at + 4, 4) == "mdat") return at;
            if (size < 8) break;
            at += size;
        }
        throw new InvalidOperationException("no mdat box");
    }

    private static (int Code, string Stdout, string Stderr) RunCli(string args)
    {
        var psi = new ProcessStartInfo("dotnet", args) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi.WithoutDiagnosticFiles())!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            throw new TimeoutException($"streamvision {args} did not finish");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
