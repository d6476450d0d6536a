using StreamVision.Core;

namespace StreamVision.Tracking.Mot;

/// <summary>A MOTChallenge text file has a line that cannot be read; the message names the file and line.</summary>
public sealed class MotFormatException : StreamVisionException
{
    public MotFormatException(string source, int line, string message)
        : base($"{source}:{line}: {message}")
    {
        FileName = source;
        Line = line;
    }

    /// <summary>File name (or another name given for the reader).</summary>
    public string FileName { get; }

    /// <summary>1-based line number.</summary>
    public int Line { get; }
}
