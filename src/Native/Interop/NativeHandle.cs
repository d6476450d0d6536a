using System.Runtime.InteropServices;

namespace StreamVision.Native.Interop;

/// <summary>
/// A native pointer released exactly once by its shim function (reader, writer). The owning type
/// (MediaReader, MediaWriter) is the only holder; SafeHandle keeps it alive during calls.
/// </summary>
internal sealed class NativeHandle : SafeHandle
{
    private readonly Action<IntPtr> _release;

    public NativeHandle(IntPtr handle, Action<IntPtr> release) : base(IntPtr.Zero, ownsHandle: true)
    {
        _release = release;
        SetHandle(handle);
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        _release(handle);
        return true;
    }
}
