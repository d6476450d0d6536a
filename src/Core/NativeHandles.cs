using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace StreamVision.Core;

/// <summary>
/// Counts the native objects a stream holds that the .NET garbage collector cannot see (OpenCV background models and
/// images, ONNX Runtime sessions), by kind: each owner counts itself opened once and closed once. With the shim's own
/// reader and writer counts (<c>NativeInfo</c> in Native) they show on <c>/metrics</c> as <c>sv_native_handles{kind}</c>,
/// so a stream deleted and its native memory still held shows as a count that does not come back down. Thread-safe.
/// </summary>
public static class NativeHandles
{
    /// <summary>A stream's OpenCV MOG2 background model with its images (the motion detector's, one per stream).</summary>
    public const string BackgroundModel = "background_model";
    /// <summary>A stream's camera-motion estimator (OpenCV images, one per moving-camera stream).</summary>
    public const string CameraMotion = "camera_motion";
    /// <summary>An ONNX Runtime session (detector, classifier, motion, enhancement and tamper models; shared by streams).</summary>
    public const string OnnxSession = "onnx_session";

    private static readonly ConcurrentDictionary<string, StrongBox<long>> s_live = new(StringComparer.Ordinal);

    /// <summary>One more native object of <paramref name="kind"/> is alive.</summary>
    public static void Opened(string kind) => Interlocked.Increment(ref Counter(kind).Value);

    /// <summary>One native object of <paramref name="kind"/> was freed (call exactly once per <see cref="Opened"/>).</summary>
    public static void Closed(string kind) => Interlocked.Decrement(ref Counter(kind).Value);

    /// <summary>Objects of <paramref name="kind"/> alive now.</summary>
    public static long Live(string kind) => s_live.TryGetValue(kind, out var c) ? Interlocked.Read(ref c.Value) : 0;

    /// <summary>Every kind seen so far with its live count.</summary>
    public static IReadOnlyDictionary<string, long> Snapshot() => s_live.ToDictionary(kv => kv.Key, kv => Interlocked.Read(ref kv.Value.Value), StringComparer.Ordinal);

    private static StrongBox<long> Counter(string kind) => s_live.GetOrAdd(kind, _ => new StrongBox<long>());
}
