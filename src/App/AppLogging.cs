using Microsoft.Extensions.Logging;

namespace StreamVision.App;

/// <summary>Console logging for the command line: warnings and errors by default, more with SV_LOG_LEVEL=Information|Debug.</summary>
public static class AppLogging
{
    public static ILoggerFactory CreateFactory(LogLevel fallback = LogLevel.Warning)
    {
        var level = Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("SV_LOG_LEVEL"), true, out var l) ? l : fallback;
        return LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddFilter("Microsoft", LogLevel.Warning)
            // "Hosting failed to start" with the whole stack: the command itself prints the reason, naming http.listen.
            .AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "HH:mm:ss ";
            }));
    }
}
