using Xunit.Abstractions;
using Xunit.Sdk;

namespace StreamVision.Testing;

/// <summary>
/// xunit's framework with one addition: when the assembly's run ends, the temp folders its tests made are deleted. The test
/// host is often ended without running process-exit handlers, which left them behind (hundreds of folders a run).
/// Every test project names it (tests/Directory.Build.props).
/// </summary>
public sealed class CleaningTestFramework(IMessageSink messageSink) : XunitTestFramework(messageSink), IDisposable
{
    public new void Dispose()
    {
        base.Dispose();
        TestEnvironment.DeleteTempDirs();
    }
}
