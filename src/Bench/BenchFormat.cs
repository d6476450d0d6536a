using System.Globalization;
using System.Text;

namespace StreamVision.Bench;

/// <summary>Renders bench tables as console text and Markdown, and the scaling chart as SVG.</summary>
public static class BenchFormat
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static string Number(double v, int decimals) => v.ToString("F" + decimals, Ci);

    /// <summary>A cell as text: "median [min..max]" for several runs (console) or "median (min–max)" (Markdown).</summary>
    public static string Cell(BenchCell? c, int decimals, bool markdown = false)
    {
        if (c is null) return markdown ? "–" : "-";
        if (c.Text is not null) return c.Text;
        if (c.Value is not { } v) return markdown ? "–" : "-";
        string s = Number(v, decimals);
        if (c.Min is { } lo && c.Max is { } hi)
            s += markdown ? $" ({Number(lo, decimals)}–{Number(hi, decimals)})" : $" [{Number(lo, decimals)}..{Number(hi, decimals)}]";
        return s;
    }

    private static bool IsNumeric(BenchTable t, BenchColumn col) => t.Rows.Any(r => r.TryGetValue(col.Key, out var c) && c.Text is null && c.Value is not null);

    /// <summary>The table as aligned plain text (what the console shows).</summary>
    public static string Text(BenchTable t)
    {
        var sb = new StringBuilder();
        sb.Append("== ").Append(t.Name).Append(": ").Append(t.Title).AppendLine(" ==");
        if (t.Baseline.Length > 0) sb.Append("baseline: ").AppendLine(t.Baseline);
        var cells = t.Rows.Select(r => t.Columns.Select(c => Cell(r.GetValueOrDefault(c.Key), c.Decimals)).ToArray()).ToList();
        var widths = t.Columns.Select((c, i) => Math.Max(c.Header.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToArray();
        var numeric = t.Columns.Select(c => IsNumeric(t, c)).ToArray();
        sb.AppendLine(string.Join("  ", t.Columns.Select((c, i) => numeric[i] ? c.Header.PadLeft(widths[i]) : c.Header.PadRight(widths[i]))).TrimEnd());
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in cells)
            sb.AppendLine(string.Join("  ", r.Select((v, i) => numeric[i] ? v.PadLeft(widths[i]) : v.PadRight(widths[i]))).TrimEnd());
        foreach (var n in t.Notes) sb.Append("  * ").AppendLine(n);
        foreach (var g in t.Targets)
            sb.Append("  target ").Append(g.Name).Append(' ').Append(g.Goal).Append(": ").Append(Number(g.Value, 3))
              .Append(g.Met ? "  MET" : "  MISSED").AppendLine(g.Detail.Length > 0 ? " (" + g.Detail + ")" : "");
        return sb.ToString();
    }

    private static string Md(string s) => s.Replace("|", "\\|", StringComparison.Ordinal);

    /// <summary>The table as a Markdown section.</summary>
    public static string Markdown(BenchTable t)
    {
        var sb = new StringBuilder();
        sb.Append("### ").Append(t.Name).Append(" — ").AppendLine(Md(t.Title)).AppendLine();
        if (t.Baseline.Length > 0) sb.Append("Baseline: ").AppendLine(Md(t.Baseline)).AppendLine();
        var numeric = t.Columns.Select(c => IsNumeric(t, c)).ToArray();
        sb.Append("| ").AppendJoin(" | ", t.Columns.Select(c => Md(c.Header))).AppendLine(" |");
        sb.Append('|').AppendJoin('|', numeric.Select(n => n ? "---:" : "---")).AppendLine("|");
        foreach (var r in t.Rows)
            sb.Append("| ").AppendJoin(" | ", t.Columns.Select(c => Md(Cell(r.GetValueOrDefault(c.Key), c.Decimals, markdown: true)))).AppendLine(" |");
        sb.AppendLine();
        foreach (var n in t.Notes) sb.Append("- ").AppendLine(Md(n));
        foreach (var g in t.Targets)
            sb.Append("- **target** ").Append(Md(g.Name)).Append(' ').Append(Md(g.Goal)).Append(": ").Append(Number(g.Value, 3))
              .Append(g.Met ? " — **met**" : " — **missed**").AppendLine(g.Detail.Length > 0 ? " (" + Md(g.Detail) + ")" : "");
        if (t.Notes.Count > 0 || t.Targets.Count > 0) sb.AppendLine();
        return sb.ToString();
    }

    /// <summary>bench/RESULTS.md: machine, targets, every table, the chart.</summary>
    public static string ResultsMarkdown(BenchReport r, string? svgFileName)
    {
        var m = r.Machine;
        var sb = new StringBuilder();
        sb.AppendLine("# StreamVision benchmark results").AppendLine();
        sb.AppendLine("Written by `tools/bench.sh` from `streamvision bench` (raw figures in `results.json`). Every figure is the median of the runs,")
          .AppendLine("with (min–max); every ratio divides by a baseline measured in the same invocation, runs of the two interleaved.").AppendLine();
        sb.Append("- date: ").AppendLine(r.Started.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", Ci));
        if (r.Commit.Length > 0) sb.Append("- commit: `").Append(r.Commit).AppendLine("`");
        sb.Append("- command: `").Append(r.Command).AppendLine("`");
        sb.Append("- machine: ").Append(m.Cores.ToString(Ci)).Append(" cores, ").Append(Md(m.Cpu)).Append(", ").Append(Md(m.Os)).Append(", ").AppendLine(m.Runtime);
        sb.Append("- FFmpeg ").Append(m.Ffmpeg).Append(", OpenCV ").Append(m.OpenCv).Append(", ONNX Runtime ").AppendLine(m.OnnxRuntime);
        sb.Append("- load average (1/5/15 min) at start ").Append(Load(m.LoadAtStart)).Append(", at end ").Append(Load(m.LoadAtEnd))
          .AppendLine(LoadNote(m));
        sb.Append("- runs per figure: ").Append(r.Runs.ToString(Ci)).Append(r.Quick ? " (quick smoke run: small inputs, not representative)" : $" ({Math.Max(r.Runs, 5)} for track and overhead)")
          .Append("; latency run ").Append(Number(r.LatencySeconds, 0)).Append(" s; whole bench ").Append(Number(r.ElapsedSeconds, 0)).AppendLine(" s").AppendLine();
        var targets = r.Targets.ToList();
        if (targets.Count > 0)
        {
            sb.AppendLine("## Targets").AppendLine();
            sb.AppendLine("| bench | target | goal | measured | |").AppendLine("|---|---|---|---:|---|");
            foreach (var t in r.Tables)
                foreach (var g in t.Targets)
                    sb.Append("| ").Append(t.Name).Append(" | ").Append(Md(g.Name)).Append(" | ").Append(Md(g.Goal)).Append(" | ").Append(Number(g.Value, 3))
                      .Append(" | ").Append(g.Met ? "met" : "**missed**").AppendLine(" |");
            sb.AppendLine();
        }
        if (r.Errors.Count > 0)
        {
            sb.AppendLine("## Errors").AppendLine();
            foreach (var e in r.Errors) sb.Append("- ").AppendLine(Md(e));
            sb.AppendLine();
        }
        if (svgFileName is not null && r.Tables.Any(t => t.Name == "streams"))
            sb.AppendLine("## Scaling").AppendLine().Append("![aggregate fps and peak memory vs concurrent streams](").Append(svgFileName).AppendLine(")").AppendLine();
        sb.AppendLine("## Tables").AppendLine();
        foreach (var t in r.Tables) sb.Append(Markdown(t));
        return sb.ToString();
    }

    private static string Load(double[] l) => l.Length == 0 ? "?" : string.Join(" / ", l.Select(v => Number(v, 2)));

    private static string LoadNote(MachineInfo m)
    {
        double busy = Math.Max(m.LoadAtStart.FirstOrDefault(), m.LoadAtEnd.FirstOrDefault());
        return m.Cores > 0 && busy > 0.5 * m.Cores
            ? $" — other processes were competing for the {m.Cores} cores (load above {Number(0.5 * m.Cores, 1)}), so figures are lower and noisier than on an idle machine"
            : "";
    }

    /// <summary>
    /// The scaling chart: aggregate fps (left) and peak RSS (right) against concurrent streams, one line per mode, from the
    /// rows of the <c>streams</c> table (columns mode, streams, agg_fps, rss_mb). Null when there is no such table.
    /// </summary>
    public static string? ScalingSvg(BenchReport r)
    {
        var t = r.Tables.FirstOrDefault(x => x.Name == "streams");
        if (t is null) return null;
        var points = t.Rows
            .Select(row => (Mode: row.GetValueOrDefault("mode")?.Text ?? "", N: row.GetValueOrDefault("streams")?.Value ?? 0,
                            Fps: row.GetValueOrDefault("agg_fps"), Rss: row.GetValueOrDefault("rss_mb"),
                            Target: row.GetValueOrDefault("realtime_fps")?.Value))
            .Where(p => p.N > 0)
            .ToList();
        if (points.Count == 0) return null;
        var modes = points.Select(p => p.Mode).Distinct().ToList();
        var ns = points.Select(p => p.N).Distinct().OrderBy(n => n).ToList();
        string[] colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"];
        const int w = 930, h = 380, panelW = 380, panelH = 250, top = 50, left0 = 60, gap = 80;
        var sb = new StringBuilder();
        sb.Append(Ci, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        sb.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n");
        sb.Append(Ci, $"<text x=\"{w / 2}\" y=\"20\" text-anchor=\"middle\" font-size=\"15\">StreamVision: concurrent 720p streams, decode + BlazeFace + tracking ({Esc(r.Machine.Cores.ToString(Ci))} cores{(r.Commit.Length > 0 ? ", " + Esc(r.Commit) : "")})</text>\n");
        Panel(0, "aggregate analysed frames/s (median, bar: min-max)", p => p.Fps, withTarget: true);
        Panel(1, "peak RSS (MiB)", p => p.Rss, withTarget: false);
        // Legend.
        int lx = left0, ly = h - 10;
        for (int i = 0; i < modes.Count; i++)
        {
            sb.Append(Ci, $"<line x1=\"{lx}\" y1=\"{ly - 4}\" x2=\"{lx + 24}\" y2=\"{ly - 4}\" stroke=\"{colors[i % colors.Length]}\" stroke-width=\"2.5\"/>");
            sb.Append(Ci, $"<text x=\"{lx + 30}\" y=\"{ly}\">{Esc(modes[i])}</text>\n");
            lx += 40 + 8 * modes[i].Length + 30;
        }
        if (points.Any(p => p.Target is not null))
        {
            sb.Append(Ci, $"<line x1=\"{lx}\" y1=\"{ly - 4}\" x2=\"{lx + 24}\" y2=\"{ly - 4}\" stroke=\"#888\" stroke-dasharray=\"4 3\" stroke-width=\"1.5\"/>");
            sb.Append(Ci, $"<text x=\"{lx + 30}\" y=\"{ly}\">real time (N x source fps)</text>\n");
        }
        sb.Append("</svg>\n");
        return sb.ToString();

        void Panel(int index, string title, Func<(string Mode, double N, BenchCell? Fps, BenchCell? Rss, double? Target), BenchCell?> cell, bool withTarget)
        {
            double? value((string Mode, double N, BenchCell? Fps, BenchCell? Rss, double? Target) p) => cell(p)?.Value;
            int x0 = left0 + index * (panelW + gap), y0 = top;
            var values = points.Select(p => cell(p)?.Max ?? cell(p)?.Value).Where(v => v is not null).Select(v => v!.Value).ToList();
            if (withTarget) values.AddRange(points.Where(p => p.Target is not null).Select(p => p.Target!.Value));
            var (max, intervals) = NiceAxis(values.Count == 0 ? 1 : values.Max());
            double X(double n) => x0 + (ns.Count == 1 ? panelW / 2.0 : ns.IndexOf(n) * panelW / (double)(ns.Count - 1));
            double Y(double v) => y0 + panelH - v / max * panelH;
            sb.Append(Ci, $"<text x=\"{x0 + panelW / 2}\" y=\"{y0 - 10}\" text-anchor=\"middle\" font-size=\"13\">{Esc(title)}</text>\n");
            sb.Append(Ci, $"<rect x=\"{x0}\" y=\"{y0}\" width=\"{panelW}\" height=\"{panelH}\" fill=\"none\" stroke=\"#ccc\"/>\n");
            for (int k = 0; k <= intervals; k++)
            {
                double v = max * k / intervals, y = Y(v);
                sb.Append(Ci, $"<line x1=\"{x0}\" y1=\"{y:F1}\" x2=\"{x0 + panelW}\" y2=\"{y:F1}\" stroke=\"#eee\"/>");
                sb.Append(Ci, $"<text x=\"{x0 - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Number(v, v >= 10 || v == 0 ? 0 : 1)}</text>\n");
            }
            foreach (var n in ns)
                sb.Append(Ci, $"<text x=\"{X(n):F1}\" y=\"{y0 + panelH + 16}\" text-anchor=\"middle\">{Number(n, 0)}</text>\n");
            sb.Append(Ci, $"<text x=\"{x0 + panelW / 2}\" y=\"{y0 + panelH + 32}\" text-anchor=\"middle\">concurrent streams</text>\n");
            if (withTarget)
            {
                var tp = points.Where(p => p.Target is not null).GroupBy(p => p.N).Select(g => (N: g.Key, V: g.First().Target!.Value)).OrderBy(p => p.N).ToList();
                if (tp.Count > 1)
                    sb.Append("<polyline fill=\"none\" stroke=\"#888\" stroke-dasharray=\"4 3\" stroke-width=\"1.5\" points=\"")
                      .AppendJoin(' ', tp.Select(p => string.Create(Ci, $"{X(p.N):F1},{Y(p.V):F1}"))).Append("\"/>\n");
            }
            for (int i = 0; i < modes.Count; i++)
            {
                var line = points.Where(p => p.Mode == modes[i]).Select(p => (p.N, V: value(p), C: cell(p))).Where(p => p.V is not null).OrderBy(p => p.N).ToList();
                string color = colors[i % colors.Length];
                if (line.Count > 1)
                    sb.Append(Ci, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2.5\" points=\"")
                      .AppendJoin(' ', line.Select(p => string.Create(Ci, $"{X(p.N):F1},{Y(p.V!.Value):F1}"))).Append("\"/>\n");
                foreach (var p in line)
                {
                    if (p.C?.Min is { } lo && p.C.Max is { } hi && hi > lo) // the spread of the runs
                        sb.Append(Ci, $"<line x1=\"{X(p.N):F1}\" y1=\"{Y(lo):F1}\" x2=\"{X(p.N):F1}\" y2=\"{Y(hi):F1}\" stroke=\"{color}\" stroke-width=\"1\" opacity=\"0.6\"/>");
                    sb.Append(Ci, $"<circle cx=\"{X(p.N):F1}\" cy=\"{Y(p.V!.Value):F1}\" r=\"3.5\" fill=\"{color}\"/>");
                    double labelY = Y(p.V!.Value) + (i % 2 == 0 ? -6 : 14); // second series below its points: labels do not collide
                    sb.Append(Ci, $"<text x=\"{X(p.N) + 5:F1}\" y=\"{labelY:F1}\" font-size=\"10\" fill=\"{color}\">{Number(p.V!.Value, 0)}</text>\n");
                }
            }
        }
    }

    /// <summary>A round axis maximum above <paramref name="v"/> and how many equal intervals label it with round numbers.</summary>
    private static (double Max, int Intervals) NiceAxis(double v)
    {
        if (v <= 0) return (1, 5);
        double p = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var (m, k) in new[] { (1.0, 5), (1.2, 6), (1.5, 5), (2.0, 4), (2.5, 5), (3.0, 6), (4.0, 4), (5.0, 5), (6.0, 6), (8.0, 4), (10.0, 5) })
            if (m * p >= v * 1.05) return (m * p, k);
        return (10 * p, 5);
    }

    private static string Esc(string s) => s.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
