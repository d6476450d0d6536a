using System.Text.Json;
using System.Text.Json.Serialization;

namespace StreamVision.Bench;

/// <summary>Median, minimum and maximum of the runs of one measurement.</summary>
public sealed record Summary(double Median, double Min, double Max, int Runs)
{
    public static Summary Of(IEnumerable<double> samples)
    {
        var s = samples.Where(double.IsFinite).OrderBy(v => v).ToArray();
        if (s.Length == 0) return new Summary(double.NaN, double.NaN, double.NaN, 0);
        return new Summary(Percentile(s, 0.5), s[0], s[^1], s.Length);
    }

    /// <summary>Linear interpolation between the closest ranks of an ascending array; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> ascending, double p)
    {
        if (ascending.Count == 0) return double.NaN;
        double rank = p * (ascending.Count - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return ascending[lo] + (ascending[hi] - ascending[lo]) * (rank - lo);
    }
}

/// <summary>
/// One cell: text, a single number, or a number measured over several runs (median with min and max).
/// </summary>
public sealed record BenchCell
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public string? Text { get; init; }
    /// <summary>The number (the median when measured over several runs).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Value { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Min { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public double? Max { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] public int? Runs { get; init; }

    public static implicit operator BenchCell(string text) => new() { Text = text };
    public static implicit operator BenchCell(double value) => new() { Value = double.IsFinite(value) ? value : null };
    public static implicit operator BenchCell(Summary s) => s.Runs == 0
        ? new BenchCell()
        : new BenchCell { Value = s.Median, Min = s.Runs > 1 ? s.Min : null, Max = s.Runs > 1 ? s.Max : null, Runs = s.Runs };
}

/// <summary>A column: its key in the rows, its header and how many decimals its numbers get.</summary>
public sealed record BenchColumn(string Key, string Header, int Decimals = 1);

/// <summary>A goal from an issue, checked against a figure of this run.</summary>
public sealed record BenchTarget(string Name, string Goal, double Value, bool Met, string Detail = "");

/// <summary>One benchmark's table: rows of cells keyed by column, with the baseline it is compared with.</summary>
public sealed class BenchTable
{
    public required string Name { get; init; }
    public required string Title { get; init; }
    /// <summary>What the ratio column divides by (measured in the same invocation).</summary>
    public string Baseline { get; init; } = "";
    public List<BenchColumn> Columns { get; init; } = new();
    public List<Dictionary<string, BenchCell>> Rows { get; init; } = new();
    public List<string> Notes { get; init; } = new();
    public List<BenchTarget> Targets { get; init; } = new();

    public BenchTable Column(string key, string header, int decimals = 1)
    {
        Columns.Add(new BenchColumn(key, header, decimals));
        return this;
    }

    public void Row(params (string Key, BenchCell Cell)[] cells) => Rows.Add(cells.ToDictionary(c => c.Key, c => c.Cell));
}

/// <summary>The machine a run happened on, and how busy it was.</summary>
public sealed record MachineInfo
{
    public int Cores { get; init; }
    public string Cpu { get; init; } = "";
    public string Os { get; init; } = "";
    public string Runtime { get; init; } = "";
    public string Ffmpeg { get; init; } = "";
    public string OpenCv { get; init; } = "";
    public string OnnxRuntime { get; init; } = "";
    /// <summary>1-, 5- and 15-minute load averages when the bench started and ended (other processes compete for the cores).</summary>
    public double[] LoadAtStart { get; init; } = [];
    public double[] LoadAtEnd { get; set; } = [];
}

/// <summary>Everything a bench run produced: the <c>--json</c> file, and what RESULTS.md and the chart are made from.</summary>
public sealed class BenchReport
{
    public const string SchemaId = "streamvision.bench/1";

    public string Schema { get; init; } = SchemaId;
    public DateTimeOffset Started { get; init; } = DateTimeOffset.UtcNow;
    public double ElapsedSeconds { get; set; }
    /// <summary>Git commit of the checkout (with "+dirty" when it has changes), or empty when unknown.</summary>
    public string Commit { get; init; } = "";
    public string Command { get; init; } = "";
    public MachineInfo Machine { get; init; } = new();
    public bool Quick { get; init; }
    public int Runs { get; init; }
    public double LatencySeconds { get; init; }
    public List<BenchTable> Tables { get; init; } = new();
    public List<string> Errors { get; init; } = new();

    public IEnumerable<BenchTarget> Targets => Tables.SelectMany(t => t.Targets);

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static BenchReport FromJson(string json)
    {
        var report = JsonSerializer.Deserialize<BenchReport>(json, JsonOptions) ?? throw new InvalidDataException("empty bench report");
        if (report.Schema != SchemaId) throw new InvalidDataException($"not a bench report of schema {SchemaId} (found '{report.Schema}')");
        return report;
    }
}
