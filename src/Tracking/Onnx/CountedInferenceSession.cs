using Microsoft.ML.OnnxRuntime;
using StreamVision.Core;

namespace StreamVision.Tracking.Onnx;

/// <summary>
/// An ONNX Runtime session that counts itself in <see cref="NativeHandles.OnnxSession"/> while it is alive (every session
/// StreamVision creates is one of these), so a session an owner forgets to dispose shows on <c>/metrics</c>.
/// </summary>
internal sealed class CountedInferenceSession : InferenceSession
{
    private int _counted;

    public CountedInferenceSession(string path, SessionOptions options) : base(path, options)
    {
        NativeHandles.Opened(NativeHandles.OnnxSession);
        Volatile.Write(ref _counted, 1);
    }

    public CountedInferenceSession(byte[] model, SessionOptions options) : base(model, options)
    {
        NativeHandles.Opened(NativeHandles.OnnxSession);
        Volatile.Write(ref _counted, 1);
    }

    protected override void Dispose(bool disposing)
    {
        // Once, and only when the constructor got as far as counting (a failed load is finalised too).
        if (Interlocked.Exchange(ref _counted, 0) == 1) NativeHandles.Closed(NativeHandles.OnnxSession);
        base.Dispose(disposing);
    }
}
