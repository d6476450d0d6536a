using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace StreamVision.Testing;

/// <summary>A logger that keeps every line (level and formatted message), for asserting what a stage reported.</summary>
internal sealed class ListLogger : ILogger
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _lines = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Lines => _lines.ToArray();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _lines.Enqueue((logLevel, formatter(state, exception)));

    public List<string> At(LogLevel level) => _lines.Where(l => l.Level == level).Select(l => l.Message).ToList();

    public bool Contains(string text) => _lines.Any(l => l.Message.Contains(text, StringComparison.Ordinal));

    public override string ToString() => string.Join("\n", _lines.Select(l => $"{l.Level}: {l.Message}"));
}
