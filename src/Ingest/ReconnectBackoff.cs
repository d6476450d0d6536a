namespace StreamVision.Ingest;

/// <summary>
/// Delays between reconnect attempts: <c>initial * 2^(attempt-1)</c>, capped at <c>max</c>, times a random factor in
/// [1 - jitter, 1 + jitter] (never above <c>max</c>). Stateless apart from its random source.
/// </summary>
internal sealed class ReconnectBackoff
{
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;
    private readonly double _jitter;
    private readonly Random _random;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max, double jitter, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, initial);
        if (!double.IsFinite(jitter) || jitter is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(jitter), jitter, "must be 0..1");
        _initial = initial;
        _max = max;
        _jitter = jitter;
        _random = random ?? Random.Shared;
    }

    /// <summary>The wait before attempt number <paramref name="attempt"/> (1 = the first retry).</summary>
    public TimeSpan Delay(int attempt)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(attempt, 1);
        double ms = _initial.TotalMilliseconds * Math.Pow(2, Math.Min(attempt - 1, 40));
        ms = Math.Min(ms, _max.TotalMilliseconds);
        if (_jitter > 0) ms *= 1 + _jitter * (2 * _random.NextDouble() - 1);
        return TimeSpan.FromMilliseconds(Math.Clamp(ms, 1, _max.TotalMilliseconds));
    }
}
