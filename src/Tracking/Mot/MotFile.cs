using System.Globalization;
using System.Text;

namespace StreamVision.Tracking.Mot;

/// <summary>
/// Reads and writes MOTChallenge text files (<c>frame,id,x,y,w,h,conf,x,y,z</c>, one box per line). Reading accepts comma-,
/// space- or tab-separated values, 6 to 10 columns (missing ones become -1) and skips blank lines.
/// </summary>
public static class MotFile
{
    private static readonly char[] Separators = [',', ' ', '\t'];

    /// <summary>All rows of the file at <paramref name="path"/>, in file order.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="MotFormatException">A line cannot be read.</exception>
    public static List<MotRow> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var reader = new StreamReader(path, Encoding.UTF8);
        return Read(reader, path);
    }

    /// <summary>All rows from <paramref name="reader"/>; <paramref name="sourceName"/> names it in errors.</summary>
    public static List<MotRow> Read(TextReader reader, string sourceName = "<reader>")
    {
        ArgumentNullException.ThrowIfNull(reader);
        var rows = new List<MotRow>();
        int lineNumber = 0;
        Span<double> values = stackalloc double[10];
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            ReadOnlySpan<char> text = line.AsSpan().Trim();
            if (text.IsEmpty) continue;
            values.Fill(-1);
            int column = 0;
            foreach (Range range in text.SplitAny(Separators))
            {
                ReadOnlySpan<char> field = text[range].Trim();
                if (field.IsEmpty) continue; // "1, 2" or doubled spaces
                if (column == values.Length) throw new MotFormatException(sourceName, lineNumber, $"more than {values.Length} columns");
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                    throw new MotFormatException(sourceName, lineNumber, $"column {column + 1} is not a number: '{field}'");
                values[column++] = v;
            }
            if (column < 6) throw new MotFormatException(sourceName, lineNumber, $"needs at least 6 columns (frame,id,x,y,w,h), got {column}");
            if (values[0] != Math.Floor(values[0]) || values[0] < 0 || values[0] > int.MaxValue)
                throw new MotFormatException(sourceName, lineNumber, $"frame must be a whole number >= 0, got {values[0]}");
            if (values[1] != Math.Floor(values[1]) || Math.Abs(values[1]) > int.MaxValue)
                throw new MotFormatException(sourceName, lineNumber, $"id must be a whole number, got {values[1]}");
            rows.Add(new MotRow((int)values[0], (int)values[1], values[2], values[3], values[4], values[5],
                values[6], values[7], values[8], values[9]));
        }
        return rows;
    }

    /// <summary>Writes <paramref name="rows"/> to <paramref name="path"/> (created or replaced).</summary>
    public static void Write(string path, IEnumerable<MotRow> rows)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var writer = new StreamWriter(path, append: false, new UTF8Encoding(false));
        Write(writer, rows);
    }

    /// <summary>Writes <paramref name="rows"/>, one line each, <c>\n</c>-terminated.</summary>
    public static void Write(TextWriter writer, IEnumerable<MotRow> rows)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(rows);
        foreach (MotRow row in rows)
        {
            writer.Write(Format(row));
            writer.Write('\n');
        }
    }

    /// <summary>One row as a line (no newline): integers for frame and id, up to 3 decimals for the rest.</summary>
    public static string Format(in MotRow row) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{row.Frame},{row.Id},{row.X:0.###},{row.Y:0.###},{row.Width:0.###},{row.Height:0.###},{row.Confidence:0.#####},{row.WorldX:0.###},{row.WorldY:0.###},{row.WorldZ:0.###}");
}
