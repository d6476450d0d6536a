using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StreamVision.Native.Interop;

/// <summary>
/// A native pointer released exactly once by its shim function (reader, writer). The owning type
/// (MediaReader, MediaWriter) is the only holder; SafeHandle keeps it alive during calls.
/// A handle its owner never disposed is freed by the finaliser at some later collection, and counted
/// (<see cref="NativeInfo.FinalizedHandles"/>); with <c>SV_TRACE_NATIVE_HANDLES</c> set to a file path, each such
/// handle's creating stack is appended to that file, so the code that forgot the <c>Dispose</c> can be found.
/// </summary>
internal sealed class NativeHandle : SafeHandle
{
    /// <summary>The environment variable naming the file where handles left to the finaliser are reported.</summary>
    internal const string TraceVariable = "SV_TRACE_NATIVE_HANDLES";

    private static string? s_traceFile = Environment.GetEnvironmentVariable(TraceVariable) is { Length: > 0 } f ? f : null;
    private static long s_finalized;

    private readonly Action<IntPtr> _release;
    private readonly string _kind;
    private readonly StackTrace? _createdAt;

    /// <param name="kind">What the pointer is ("reader", "writer"): named in the report of a handle never disposed.</param>
    public NativeHandle(IntPtr handle, Action<IntPtr> release, string kind) : base(IntPtr.Zero, ownsHandle: true)
    {
        _release = release;
        _kind = kind;
        if (Volatile.Read(ref s_traceFile) is not null) _createdAt = new StackTrace(1, fNeedFileInfo: true);
        SetHandle(handle);
    }

    /// <summary>Where handles left to the finaliser are reported with their creating stack (null = nowhere); the environment's <c>SV_TRACE_NATIVE_HANDLES</c> at first.</summary>
    internal static string? TraceFile
    {
        get => Volatile.Read(ref s_traceFile);
        set => Volatile.Write(ref s_traceFile, value);
    }

    /// <summary>Handles released by the finaliser because their owner was never disposed (a leak until the next GC).</summary>
    internal static long Finalized => Interlocked.Read(ref s_finalized);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing && !IsInvalid && !IsClosed)
        {
            Interlocked.Increment(ref s_finalized);
            if (TraceFile is { } file) Report(file);
        }
        base.Dispose(disposing);
    }

    private void Report(string file)
    {
        try
        {
            File.AppendAllText(file, $"native {_kind} freed by the finaliser, never disposed; created at:{Environment.NewLine}{(object?)_createdAt ?? "(not recorded: the trace was off when it was created)"}{Environment.NewLine}");
        }
        catch (IOException)
        {
            // A debug aid: never fail the finaliser thread for it.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
