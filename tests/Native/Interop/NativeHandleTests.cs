using System.Runtime.CompilerServices;
using StreamVision.Native.Interop;

namespace StreamVision.Native.Tests.Interop;

public class NativeHandleTests
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void OpenAndForget(string path) => MediaReader.Open(path);

    [Fact]
    public void AReaderNeverDisposedIsCountedWhenTheFinaliserFreesItAndTracedToWhereItWasOpened()
    {
        string path = TestMedia.H264(64, 48, 2);
        string trace = Path.Combine(TestEnvironment.NewTempDir(), "handles.txt");
        string? before = NativeHandle.TraceFile;
        NativeHandle.TraceFile = trace;
        try
        {
            long finalized = NativeInfo.FinalizedHandles;
            OpenAndForget(path);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Assert.True(NativeInfo.FinalizedHandles > finalized, "the forgotten reader was counted");
            string text = File.ReadAllText(trace);
            Assert.Contains($"native reader of '{path}' freed by the finaliser, never disposed", text);
            Assert.Contains(nameof(OpenAndForget), text);
        }
        finally
        {
            NativeHandle.TraceFile = before;
        }
    }
}
