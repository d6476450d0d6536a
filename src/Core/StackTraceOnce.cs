namespace StreamVision.Core;

/// <summary>
/// Failures log their stack trace once: the first exception of a type seen by one owner (a sink, a stream manager, an
/// HTTP server) is logged with its stack, repeats of the same type as one line. Thread-safe.
/// </summary>
public sealed class StackTraceOnce
{
    private readonly HashSet<Type> _seen = new();

    /// <summary>True the first time an exception of <paramref name="ex"/>'s type is seen here: log it with its stack.</summary>
    public bool IsFirst(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        lock (_seen) return _seen.Add(ex.GetType());
    }
}
