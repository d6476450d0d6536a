using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>Checks shared by the sinks' options records.</summary>
internal static class OptionChecks
{
    /// <summary>A duration in seconds within [min, max] (NaN fails).</summary>
    public static void Seconds(double value, string path, double min, double max)
    {
        if (!(value >= min && value <= max))
            throw new OptionsException(path, string.Create(CultureInfo.InvariantCulture, $"must be {min}..{max} seconds, got {value}"));
    }
}
