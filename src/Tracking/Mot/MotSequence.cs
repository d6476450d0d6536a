using System.Globalization;

namespace StreamVision.Tracking.Mot;

/// <summary>
/// One sequence folder in the MOTChallenge layout: <c>SEQ/gt/gt.txt</c>, <c>SEQ/det/*.txt</c> and, when present,
/// <c>SEQ/seqinfo.ini</c> (its <c>frameRate</c>). Tracker results for a set of sequences live in one folder as
/// <c>SEQ.txt</c>, as the MOTChallenge devkit expects.
/// </summary>
/// <param name="Name">Sequence name: the folder's name.</param>
/// <param name="Folder">The sequence folder.</param>
public sealed record MotSequence(string Name, string Folder)
{
    /// <summary>The ground truth, <c>gt/gt.txt</c>.</summary>
    public string GroundTruthPath => Path.Combine(Folder, "gt", "gt.txt");

    /// <summary>A detection file, <c>det/<paramref name="fileName"/></c> (the devkit's is <c>det.txt</c>).</summary>
    public string DetectionsPath(string fileName = "det.txt") => Path.Combine(Folder, "det", fileName);

    /// <summary>The tracks file of this sequence in a results folder: <c><paramref name="resultsFolder"/>/NAME.txt</c>.</summary>
    public string TracksPath(string resultsFolder) => Path.Combine(resultsFolder, Name + ".txt");

    /// <summary><c>frameRate</c> from <c>seqinfo.ini</c>, or null when the file or the key is missing.</summary>
    public double? FrameRate
    {
        get
        {
            string ini = Path.Combine(Folder, "seqinfo.ini");
            if (!File.Exists(ini)) return null;
            foreach (string line in File.ReadLines(ini))
            {
                int eq = line.IndexOf('=');
                if (eq < 0 || !line[..eq].Trim().Equals("frameRate", StringComparison.OrdinalIgnoreCase)) continue;
                return double.TryParse(line[(eq + 1)..].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double fps) && fps > 0
                    ? fps
                    : null;
            }
            return null;
        }
    }

    /// <summary>True when <paramref name="folder"/> looks like a sequence: it has a <c>gt</c> or <c>det</c> folder.</summary>
    public static bool IsSequenceFolder(string folder) =>
        Directory.Exists(Path.Combine(folder, "gt")) || Directory.Exists(Path.Combine(folder, "det"));

    /// <summary>
    /// The sequences under <paramref name="folder"/>: the folder itself when it is a sequence, otherwise each of its
    /// sub-folders that is one, in ordinal name order.
    /// </summary>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">It holds no sequence.</exception>
    public static IReadOnlyList<MotSequence> Discover(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"no such folder: {folder}");
        string full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        if (IsSequenceFolder(full)) return [new MotSequence(Path.GetFileName(full), full)];
        var found = Directory.GetDirectories(full)
            .Where(IsSequenceFolder)
            .Order(StringComparer.Ordinal)
            .Select(d => new MotSequence(Path.GetFileName(d), d))
            .ToArray();
        if (found.Length == 0)
            throw new FileNotFoundException($"{folder} holds no MOTChallenge sequence (a folder with gt/ or det/ inside)", folder);
        return found;
    }
}
