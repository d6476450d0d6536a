using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace StreamVision.Native.Interop;

/// <summary>
/// A native pointer released exactly once by its shim function (reader, writer). The owning type
/// (MediaReader, MediaWriter) is the only holder; SafeHandle keeps it alive during calls.
/// A handle its owner never disposed is freed by the finaliser at some later collection, and counted
/// (<see cref="NativeInfo.FinalizedHandles"/>). With <c>SV_TRACE_NATIVE_HANDLES</c> set to a file path each handle
/// records where it was created: those left to the finaliser are appended to that file, and
/// <see cref="NativeInfo.TracedLiveHandles"/> lists the live ones (a reader still held by a source nobody stopped is
/// alive, not finalised), so the code that forgot the <c>Dispose</c> can be found.
/// </summary>
internal sealed class NativeHandle : SafeHandle
{
    /// <summary>The environment variable that turns the trace on, naming the file where handles left to the finaliser are reported.</summary>
    internal const string TraceVariable = "SV_TRACE_NATIVE_HANDLES";

    private static string? s_traceFile = Environment.GetEnvironmentVariable(TraceVariable) is { Length: > 0 } f ? f : null;
    private static long s_finalized, s_lastId;
    private static readonly ConcurrentDictionary<long, (string Kind, StackTrace Stack)> s_traced = new();

    private readonly Action<IntPtr> _release;
    private readonly string _kind;
    private readonly string _what;
    private readonly StackTrace? _createdAt;
    private readonly long _id;

    /// <param name="kind">What the pointer is ("reader", "writer"): named in the traces.</param>
    /// <param name="what">What it reads or writes (<see cref="Describe"/>): named in the traces.</param>
    public NativeHandle(IntPtr handle, Action<IntPtr> release, string kind, string what) : base(IntPtr.Zero, ownsHandle: true)
    {
        _release = release;
        _kind = kind;
        _what = what;
        if (Volatile.Read(ref s_traceFile) is not null)
        {
            _createdAt = new StackTrace(1, fNeedFileInfo: true);
            _id = Interlocked.Increment(ref s_lastId);
            s_traced[_id] = ($"{kind} of '{what}'", _createdAt);
        }
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

    /// <summary>A URL as the traces name it: scheme, host and path only (no credentials, no query); a path or a filter graph as it is.</summary>
    internal static string Describe(string url) =>
        url.Contains("://", StringComparison.Ordinal) && Uri.TryCreate(url, UriKind.Absolute, out var u)
            ? u.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
            : url;

    /// <summary>Where each handle created while the trace was on and not freed yet was created (kind, stack).</summary>
    internal static IReadOnlyList<string> TracedAlive() => s_traced.OrderBy(kv => kv.Key).Select(kv => $"native {kv.Value.Kind} alive, created at:{Environment.NewLine}{kv.Value.Stack}").ToList();

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        if (_createdAt is not null) s_traced.TryRemove(_id, out _);
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
            File.AppendAllText(file, $"native {_kind} of '{_what}' freed by the finaliser, never disposed; created at:{Environment.NewLine}{(object?)_createdAt ?? "(not recorded: the trace was off when it was created)"}{Environment.NewLine}");
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
