using System.CommandLine;
using System.Text.Json;
using System.Xml.Linq;
using StreamVision.Bench;

namespace StreamVision.Bench.Tests;

public class BenchCommandTests
{
    [Fact]
    public async Task QuickRunOfDecodeAndTrack_PrintsTablesAndWritesJsonAndMarkdown_WithPositiveFigures()
    {
        string dir = TestEnvironment.NewTempDir();
        var options = new BenchOptions
        {
            Only = new HashSet<string> { "decode", "track" },
            Quick = true,
            Runs = 1,
            JsonPath = Path.Combine(dir, "out", "results.json"),
            MarkdownPath = Path.Combine(dir, "out", "RESULTS.md"),
            WorkDir = Path.Combine(dir, "work"),
        };
        var output = new StringWriter();
        var log = new StringWriter();

        var report = await BenchRunner.RunAsync(options, output, log, CancellationToken.None);

        Assert.Empty(report.Errors);
        string text = output.ToString();
        Assert.Contains("== decode:", text);
        Assert.Contains("== track:", text);
        Assert.Contains("ffmpeg CLI (baseline)", text);

        // The JSON holds both tables; every frames/s and ratio figure is a positive number.
        var json = BenchReport.FromJson(File.ReadAllText(options.JsonPath));
        Assert.Equal(["decode", "track"], json.Tables.Select(t => t.Name));
        var decode = json.Tables[0];
        Assert.Equal(6, decode.Rows.Count); // 720p and 1080p: CLI, MediaReader, VideoSource
        Assert.All(decode.Rows, r => Assert.True(r["fps"].Value > 0 && r["ratio"].Value > 0, JsonSerializer.Serialize(r)));
        var track = json.Tables[1];
        Assert.Equal(TrackBenchmark.ObjectCounts.Select(n => (double)n), track.Rows.Select(r => r["objects"].Value!.Value));
        Assert.All(track.Rows, r => Assert.True(r["fps"].Value > 0 && r["us"].Value > 0, JsonSerializer.Serialize(r)));
        Assert.Contains(track.Targets, t => t.Name.Contains("50 objects") && t.Value > 0);
        Assert.True(json.Machine.Cores > 0);

        string md = File.ReadAllText(options.MarkdownPath);
        Assert.Contains("### decode", md);
        Assert.Contains("### track", md);
        Assert.Contains("| objects/frame |", md);
    }

    [Fact]
    public async Task QuickEndToEnd_TimesThePeerAnnotateAndFfmpegAsWholeProcesses_WithRatiosAndTargets()
    {
        var (_, tables, output) = await QuickBench.RunAsync("e2e");
        var table = tables.Single();
        Assert.Equal("e2e", table.Name);
        // medium (quick runs the peer's one preset): peer, annotate, ffmpeg; analytics only: the same three; start-up: launcher and app.
        Assert.Equal(8, table.Rows.Count);
        Assert.All(table.Rows, r => Assert.True(r["wall"].Value > 0 && r["cpu"].Value > 0, JsonSerializer.Serialize(r)));
        Assert.All(table.Rows.Take(6), r => Assert.True(r["fps"].Value > 0, JsonSerializer.Serialize(r)));
        // The peer and annotate saw the same 40 frames and found faces in them (same model, decoding and threshold).
        foreach (int i in new[] { 0, 1, 3, 4 }) Assert.InRange(table.Rows[i]["boxes"].Value!.Value, 30, 45);
        Assert.True(table.Rows[1]["vs_peer"].Value > 0 && table.Rows[1]["vs_ffmpeg"].Value > 0);
        Assert.Equal(4, table.Targets.Count); // writing vs peer and vs ffmpeg, analytics vs peer, start-up
        Assert.All(table.Targets, t => Assert.True(t.Value > 0, t.Name));
        Assert.Contains("== e2e:", output);
    }

    [Fact]
    public async Task UnknownBenchmarkName_IsAUsageError()
    {
        var root = new RootCommand { BenchCommand.Create() };
        int rc = await root.Parse(["bench", "--only", "decode,nosuch"]).InvokeAsync();
        Assert.Equal(StreamVision.App.ExitCodes.Usage, rc);
    }

    [Fact]
    public void StreamsTable_RendersAsScalingSvgAndMarkdown_AndSurvivesAJsonRoundTrip()
    {
        var table = new BenchTable { Name = "streams", Title = "t" };
        table.Column("mode", "mode").Column("streams", "streams", 0).Column("agg_fps", "fps").Column("rss_mb", "rss", 0).Column("realtime_fps", "rt", 0);
        foreach (var (mode, n, fps, rss) in new[] { ("live", 1, 25.0, 200.0), ("live", 2, 50.0, 260.0), ("fast", 1, 80.0, 210.0), ("fast", 2, 120.0, 250.0) })
            table.Row(("mode", mode), ("streams", n), ("agg_fps", new Summary(fps, fps - 1, fps + 1, 3)), ("rss_mb", rss), ("realtime_fps", mode == "live" ? n * 25.0 : new BenchCell()));
        var report = new BenchReport { Runs = 3, Machine = new MachineInfo { Cores = 2 } };
        report.Tables.Add(table);

        var back = BenchReport.FromJson(report.ToJson());
        string svg = BenchFormat.ScalingSvg(back)!;
        var doc = XDocument.Parse(svg);
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(5, doc.Descendants(ns + "polyline").Count()); // 2 modes x 2 panels + the real-time line
        Assert.Contains(">120<", svg);
        Assert.Contains("| live | 2 | 50.0 (49.0–51.0) | 260 | 50 |", BenchFormat.Markdown(back.Tables[0]));
    }
}
