using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace StreamVision.Testing;

/// <summary>One logged line: its level, category, text and the exception it carried (null when logged as text only).</summary>
internal sealed record LogEntry(LogLevel Level, string Category, string Message, Exception? Exception);

/// <summary>
/// Keeps every line logged through it or the loggers it creates, exceptions included, for asserting what a component
/// reported (and whether a failure carried its stack trace).
/// </summary>
internal sealed class CapturingLogger : ILogger, ILoggerFactory, ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries;
    private readonly string _category;

    public CapturingLogger() : this(new ConcurrentQueue<LogEntry>(), "")
    {
    }

    private CapturingLogger(ConcurrentQueue<LogEntry> entries, string category)
    {
        _entries = entries;
        _category = category;
    }

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public List<LogEntry> At(LogLevel level) => _entries.Where(e => e.Level == level).ToList();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        _entries.Enqueue(new LogEntry(logLevel, _category, formatter(state, exception), exception));

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(_entries, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    public override string ToString() => string.Join("\n", _entries.Select(e => $"{e.Level} [{e.Category}] {e.Message}{(e.Exception is null ? "" : " +exception")}"));
}
