using System.Globalization;
using System.Text;
using System.Text.Json;

namespace StreamVision.Tracking.Mot;

/// <summary>
/// Tracking metrics of one sequence (from <see cref="MotEvaluation"/>) or of several (<see cref="Combine"/>). Ratios are
/// fractions (0..1, MOTA may be negative); <see cref="ToText()"/> prints them as percentages.
/// MOTP comes in both conventions: <see cref="MotpIoU"/> (mean IoU of matches, MOTChallenge devkit, higher is better) and
/// <see cref="MotpDistance"/> (mean 1 - IoU, what py-motmetrics reports as "motp", lower is better).
/// </summary>
public sealed class MotMetrics
{
    private readonly double[] _hotaTp, _hotaFn, _hotaFp, _assA, _assRe, _assPr, _locA;

    internal MotMetrics(string name, int frames, int groundTruthIds, int trackIds, long groundTruthBoxes, long trackBoxes,
        long matches, long falsePositives, long misses, long idSwitches, long fragmentations,
        int mostlyTracked, int partiallyTracked, int mostlyLost, double distanceSum, long idTruePositives,
        double[] hotaTp, double[] hotaFn, double[] hotaFp, double[] assA, double[] assRe, double[] assPr, double[] locA)
    {
        Name = name;
        Frames = frames;
        GroundTruthIds = groundTruthIds;
        TrackIds = trackIds;
        GroundTruthBoxes = groundTruthBoxes;
        TrackBoxes = trackBoxes;
        Matches = matches;
        FalsePositives = falsePositives;
        Misses = misses;
        IdSwitches = idSwitches;
        Fragmentations = fragmentations;
        MostlyTracked = mostlyTracked;
        PartiallyTracked = partiallyTracked;
        MostlyLost = mostlyLost;
        DistanceSum = distanceSum;
        IdTruePositives = idTruePositives;
        _hotaTp = hotaTp;
        _hotaFn = hotaFn;
        _hotaFp = hotaFp;
        _assA = assA;
        _assRe = assRe;
        _assPr = assPr;
        _locA = locA;
    }

    /// <summary>Sequence name (or the name given to <see cref="Combine"/>).</summary>
    public string Name { get; }

    /// <summary>Frames that had a ground-truth or a track box.</summary>
    public int Frames { get; }

    /// <summary>Distinct ground-truth objects ("GT").</summary>
    public int GroundTruthIds { get; }

    /// <summary>Distinct track ids.</summary>
    public int TrackIds { get; }

    /// <summary>Ground-truth boxes over all frames.</summary>
    public long GroundTruthBoxes { get; }

    /// <summary>Track boxes over all frames.</summary>
    public long TrackBoxes { get; }

    // CLEAR-MOT

    /// <summary>Matched ground-truth boxes, id switches included (CLEAR true positives).</summary>
    public long Matches { get; }

    /// <summary>Track boxes matched to no ground truth ("FP").</summary>
    public long FalsePositives { get; }

    /// <summary>Ground-truth boxes matched to no track ("FN").</summary>
    public long Misses { get; }

    /// <summary>Matches whose object was last matched to a different track ("IDSW").</summary>
    public long IdSwitches { get; }

    /// <summary>Interruptions of an object's tracking: runs of misses between two matched frames ("Frag"/"FM").</summary>
    public long Fragmentations { get; }

    /// <summary>Objects matched in at least 80% of their frames ("MT").</summary>
    public int MostlyTracked { get; }

    /// <summary>Objects that are neither mostly tracked nor mostly lost ("PT").</summary>
    public int PartiallyTracked { get; }

    /// <summary>Objects matched in less than 20% of their frames ("ML").</summary>
    public int MostlyLost { get; }

    /// <summary>Sum of 1 - IoU over the matches.</summary>
    public double DistanceSum { get; }

    /// <summary>1 - (FN + FP + IDSW) / ground-truth boxes.</summary>
    public double Mota => 1 - Div(Misses + FalsePositives + IdSwitches, GroundTruthBoxes);

    /// <summary>Mean IoU of the matches (MOTChallenge devkit convention; higher is better).</summary>
    public double MotpIoU => 1 - MotpDistance;

    /// <summary>Mean 1 - IoU of the matches (py-motmetrics' "motp"; lower is better).</summary>
    public double MotpDistance => Div(DistanceSum, Matches);

    /// <summary>Matches / ground-truth boxes ("Rcll").</summary>
    public double Recall => Div(Matches, GroundTruthBoxes);

    /// <summary>Matches / (matches + false positives) ("Prcn").</summary>
    public double Precision => Div(Matches, Matches + FalsePositives);

    // Identity

    /// <summary>Boxes whose ground-truth id and track id are paired by the global id matching and overlap enough.</summary>
    public long IdTruePositives { get; }

    /// <summary>Track boxes not counted in <see cref="IdTruePositives"/>.</summary>
    public long IdFalsePositives => TrackBoxes - IdTruePositives;

    /// <summary>Ground-truth boxes not counted in <see cref="IdTruePositives"/>.</summary>
    public long IdFalseNegatives => GroundTruthBoxes - IdTruePositives;

    /// <summary>2 IDTP / (ground-truth boxes + track boxes).</summary>
    public double Idf1 => Div(2 * IdTruePositives, GroundTruthBoxes + TrackBoxes);

    /// <summary>IDTP / track boxes.</summary>
    public double Idp => Div(IdTruePositives, TrackBoxes);

    /// <summary>IDTP / ground-truth boxes.</summary>
    public double Idr => Div(IdTruePositives, GroundTruthBoxes);

    // HOTA: each value is the mean over the IoU thresholds of MotEvaluation.HotaAlphas.

    /// <summary>Higher-order tracking accuracy: mean over alpha of sqrt(DetA x AssA).</summary>
    public double Hota => Mean(HotaPerAlpha);

    /// <summary>Detection accuracy: mean over alpha of TP / (TP + FN + FP).</summary>
    public double DetA => Mean(DetAPerAlpha);

    /// <summary>Association accuracy: mean over alpha of the mean, over true positives, of their ids' association IoU.</summary>
    public double AssA => Mean(_assA);

    /// <summary>Localisation accuracy: mean over alpha of the mean IoU of true positives.</summary>
    public double LocA => Mean(_locA);

    /// <summary>Detection recall: mean over alpha of TP / (TP + FN).</summary>
    public double DetRe => Mean(Enumerable.Range(0, _hotaTp.Length).Select(a => _hotaTp[a] / Math.Max(1, _hotaTp[a] + _hotaFn[a])));

    /// <summary>Detection precision: mean over alpha of TP / (TP + FP).</summary>
    public double DetPr => Mean(Enumerable.Range(0, _hotaTp.Length).Select(a => _hotaTp[a] / Math.Max(1, _hotaTp[a] + _hotaFp[a])));

    /// <summary>Association recall, mean over alpha.</summary>
    public double AssRe => Mean(_assRe);

    /// <summary>Association precision, mean over alpha.</summary>
    public double AssPr => Mean(_assPr);

    /// <summary>HOTA at each alpha of <see cref="MotEvaluation.HotaAlphas"/>.</summary>
    public IReadOnlyList<double> HotaPerAlpha => Enumerable.Range(0, _hotaTp.Length).Select(a => Math.Sqrt(DetAAt(a) * _assA[a])).ToArray();

    /// <summary>DetA at each alpha.</summary>
    public IReadOnlyList<double> DetAPerAlpha => Enumerable.Range(0, _hotaTp.Length).Select(DetAAt).ToArray();

    /// <summary>AssA at each alpha.</summary>
    public IReadOnlyList<double> AssAPerAlpha => _assA;

    /// <summary>LocA at each alpha.</summary>
    public IReadOnlyList<double> LocAPerAlpha => _locA;

    /// <summary>
    /// Metrics over several sequences: counts are summed, ratios recomputed from the sums (as py-motmetrics' and
    /// TrackEval's overall rows); HOTA's association and localisation terms are weighted by each sequence's true positives.
    /// </summary>
    public static MotMetrics Combine(string name, IEnumerable<MotMetrics> parts)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(parts);
        var all = parts.ToList();
        int na = MotEvaluation.HotaAlphas.Count;
        double[] tp = new double[na], fn = new double[na], fp = new double[na];
        double[] assA = new double[na], assRe = new double[na], assPr = new double[na], locA = new double[na];
        foreach (MotMetrics m in all)
            for (int a = 0; a < na; a++)
            {
                tp[a] += m._hotaTp[a];
                fn[a] += m._hotaFn[a];
                fp[a] += m._hotaFp[a];
                assA[a] += m._assA[a] * m._hotaTp[a];
                assRe[a] += m._assRe[a] * m._hotaTp[a];
                assPr[a] += m._assPr[a] * m._hotaTp[a];
                locA[a] += m._locA[a] * m._hotaTp[a];
            }
        for (int a = 0; a < na; a++)
        {
            assA[a] /= Math.Max(1, tp[a]);
            assRe[a] /= Math.Max(1, tp[a]);
            assPr[a] /= Math.Max(1, tp[a]);
            locA[a] = Math.Max(1e-10, locA[a]) / Math.Max(1e-10, tp[a]);
        }
        return new MotMetrics(name, all.Sum(m => m.Frames), all.Sum(m => m.GroundTruthIds), all.Sum(m => m.TrackIds),
            all.Sum(m => m.GroundTruthBoxes), all.Sum(m => m.TrackBoxes), all.Sum(m => m.Matches), all.Sum(m => m.FalsePositives),
            all.Sum(m => m.Misses), all.Sum(m => m.IdSwitches), all.Sum(m => m.Fragmentations), all.Sum(m => m.MostlyTracked),
            all.Sum(m => m.PartiallyTracked), all.Sum(m => m.MostlyLost), all.Sum(m => m.DistanceSum), all.Sum(m => m.IdTruePositives),
            tp, fn, fp, assA, assRe, assPr, locA);
    }

    /// <summary>A one-row table of these metrics (see <see cref="ToText(IEnumerable{MotMetrics})"/>).</summary>
    public string ToText() => ToText([this]);

    /// <summary>
    /// A fixed-width table, one row per entry, ratios in percent; MOTP is the mean IoU of matches. Ends with a line
    /// explaining the conventions.
    /// </summary>
    public static string ToText(IEnumerable<MotMetrics> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var rows = metrics.ToList();
        int nameWidth = Math.Max(8, rows.Count == 0 ? 0 : rows.Max(m => m.Name.Length));
        var sb = new StringBuilder();
        sb.Append("Sequence".PadRight(nameWidth));
        foreach (string h in (string[])["IDF1", "IDP", "IDR", "Rcll", "Prcn"]) sb.Append(h.PadLeft(7));
        foreach (string h in (string[])["GT", "MT", "PT", "ML"]) sb.Append(h.PadLeft(5));
        foreach (string h in (string[])["FP", "FN", "IDSW", "FM"]) sb.Append(h.PadLeft(7));
        foreach (string h in (string[])["MOTA", "MOTP", "HOTA", "DetA", "AssA", "LocA"]) sb.Append(h.PadLeft(7));
        sb.Append('\n');
        foreach (MotMetrics m in rows)
        {
            sb.Append(m.Name.PadRight(nameWidth));
            foreach (double v in (double[])[m.Idf1, m.Idp, m.Idr, m.Recall, m.Precision]) sb.Append(Percent(v).PadLeft(7));
            foreach (long v in (long[])[m.GroundTruthIds, m.MostlyTracked, m.PartiallyTracked, m.MostlyLost])
                sb.Append(v.ToString(CultureInfo.InvariantCulture).PadLeft(5));
            foreach (long v in (long[])[m.FalsePositives, m.Misses, m.IdSwitches, m.Fragmentations])
                sb.Append(v.ToString(CultureInfo.InvariantCulture).PadLeft(7));
            foreach (double v in (double[])[m.Mota, m.MotpIoU, m.Hota, m.DetA, m.AssA, m.LocA]) sb.Append(Percent(v).PadLeft(7));
            sb.Append('\n');
        }
        sb.Append("Ratios in %. MOTP = mean IoU of matches (py-motmetrics reports 1 - MOTP). HOTA, DetA, AssA, LocA: means over IoU 0.05..0.95.\n");
        return sb.ToString();
    }

    /// <summary>These metrics as an indented JSON object (fractions, not percent; null where a ratio is undefined).</summary>
    public string ToJson() => WriteJson(w => WriteObject(w, this));

    /// <summary>Several metrics as an indented JSON array of objects like <see cref="ToJson()"/>.</summary>
    public static string ToJson(IEnumerable<MotMetrics> metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        return WriteJson(w =>
        {
            w.WriteStartArray();
            foreach (MotMetrics m in metrics) WriteObject(w, m);
            w.WriteEndArray();
        });
    }

    /// <summary>
    /// Several sequences and their combination (<see cref="Combine"/>) as one indented JSON object:
    /// <c>{"sequences": [...], "overall": {...}}</c>, each entry like <see cref="ToJson()"/>.
    /// </summary>
    public static string ToJson(IEnumerable<MotMetrics> sequences, MotMetrics overall)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(overall);
        return WriteJson(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("sequences");
            foreach (MotMetrics m in sequences) WriteObject(w, m);
            w.WriteEndArray();
            w.WritePropertyName("overall");
            WriteObject(w, overall);
            w.WriteEndObject();
        });
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Name}: MOTA {Mota:P1} IDF1 {Idf1:P1} HOTA {Hota:P1} IDSW {IdSwitches}");

    private double DetAAt(int a) => _hotaTp[a] / Math.Max(1, _hotaTp[a] + _hotaFn[a] + _hotaFp[a]);

    private static double Div(double a, double b) => b == 0 ? double.NaN : a / b;

    private static double Mean(IEnumerable<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (double v in values)
        {
            sum += v;
            n++;
        }
        return n == 0 ? double.NaN : sum / n;
    }

    private static string Percent(double v) =>
        double.IsFinite(v) ? (100 * v).ToString("0.0", CultureInfo.InvariantCulture) : "-";

    private static string WriteJson(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
            write(writer);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void WriteObject(Utf8JsonWriter w, MotMetrics m)
    {
        w.WriteStartObject();
        w.WriteString("name", m.Name);
        w.WriteNumber("frames", m.Frames);
        w.WriteNumber("gtIds", m.GroundTruthIds);
        w.WriteNumber("trackIds", m.TrackIds);
        w.WriteNumber("gtBoxes", m.GroundTruthBoxes);
        w.WriteNumber("trackBoxes", m.TrackBoxes);
        Number(w, "idf1", m.Idf1);
        Number(w, "idp", m.Idp);
        Number(w, "idr", m.Idr);
        w.WriteNumber("idtp", m.IdTruePositives);
        w.WriteNumber("idfp", m.IdFalsePositives);
        w.WriteNumber("idfn", m.IdFalseNegatives);
        Number(w, "recall", m.Recall);
        Number(w, "precision", m.Precision);
        w.WriteNumber("mostlyTracked", m.MostlyTracked);
        w.WriteNumber("partiallyTracked", m.PartiallyTracked);
        w.WriteNumber("mostlyLost", m.MostlyLost);
        w.WriteNumber("matches", m.Matches);
        w.WriteNumber("falsePositives", m.FalsePositives);
        w.WriteNumber("misses", m.Misses);
        w.WriteNumber("idSwitches", m.IdSwitches);
        w.WriteNumber("fragmentations", m.Fragmentations);
        Number(w, "mota", m.Mota);
        Number(w, "motpIoU", m.MotpIoU);
        Number(w, "motpDistance", m.MotpDistance);
        Number(w, "hota", m.Hota);
        Number(w, "detA", m.DetA);
        Number(w, "assA", m.AssA);
        Number(w, "locA", m.LocA);
        Number(w, "detRe", m.DetRe);
        Number(w, "detPr", m.DetPr);
        Number(w, "assRe", m.AssRe);
        Number(w, "assPr", m.AssPr);
        w.WriteStartObject("perAlpha");
        Array(w, "alpha", MotEvaluation.HotaAlphas);
        Array(w, "hota", m.HotaPerAlpha);
        Array(w, "detA", m.DetAPerAlpha);
        Array(w, "assA", m.AssAPerAlpha);
        Array(w, "locA", m.LocAPerAlpha);
        w.WriteEndObject();
        w.WriteEndObject();

        static void Number(Utf8JsonWriter w, string key, double v)
        {
            if (double.IsFinite(v)) w.WriteNumber(key, Math.Round(v, 9));
            else w.WriteNull(key);
        }

        static void Array(Utf8JsonWriter w, string key, IReadOnlyList<double> values)
        {
            w.WriteStartArray(key);
            foreach (double v in values)
            {
                if (double.IsFinite(v)) w.WriteNumberValue(Math.Round(v, 9));
                else w.WriteNullValue();
            }
            w.WriteEndArray();
        }
    }
}
