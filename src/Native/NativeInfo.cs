using StreamVision.Native.Interop;

namespace StreamVision.Native;

/// <summary>The FFmpeg the shim runs with, and its logging.</summary>
public static class NativeInfo
{
    /// <summary>FFmpeg's version string (e.g. 5.1.6-0+deb12u1).</summary>
    public static string FfmpegVersion => SvNative.Utf8(SvNative.FfmpegVersion());

    /// <summary>Shows (true) or hides FFmpeg's own error lines on stderr.</summary>
    public static void SetFfmpegLogging(bool on) => SvNative.SetLogLevel(on ? 1 : 0);

    /// <summary>Shim readers alive now (each holds its FFmpeg demuxer, decoder and scaler until it is closed).</summary>
    public static long LiveReaders => SvNative.LiveReaders();

    /// <summary>Shim writers alive now (each holds its FFmpeg encoder, muxer and scaler until it is closed).</summary>
    public static long LiveWriters => SvNative.LiveWriters();

    /// <summary>
    /// Readers and writers their owner never disposed, freed by the finaliser instead (each held its FFmpeg objects until
    /// some later garbage collection). Stays 0 in a process whose code disposes every reader and writer; with the
    /// environment variable <c>SV_TRACE_NATIVE_HANDLES=FILE</c> each one's creating stack is appended to FILE.
    /// </summary>
    public static long FinalizedHandles => NativeHandle.Finalized;

    /// <summary>
    /// Debug aid: with <c>SV_TRACE_NATIVE_HANDLES</c> set, where each reader and writer alive now was created (its kind and
    /// stack; those created before the trace was on are not listed); empty otherwise.
    /// </summary>
    public static IReadOnlyList<string> TracedLiveHandles() => NativeHandle.TracedAlive();

    /// <summary>The arena cap the service sets at its start unless <c>MALLOC_ARENA_MAX</c> is in the environment.</summary>
    public const int ServiceMallocArenas = 2;

    /// <summary>
    /// Caps glibc's malloc arenas at <see cref="ServiceMallocArenas"/> for the threads that allocate from now on, unless the
    /// environment sets <c>MALLOC_ARENA_MAX</c> (glibc then already applied it). glibc gives each thread that meets a
    /// locked arena a new one, up to 8 per core; a long-running service with many short-lived threads (decoders,
    /// encoders, ONNX Runtime, the thread pool) then keeps freed memory in each of them. Measured here (4 live streams,
    /// 12 minutes, 2 cores): RSS growth 6.9 MB/min with 16 arenas, 4.4 with 2; the malloc bytes in use stayed flat in
    /// both (0.1 MB/min), what grew was free memory the arenas kept (113 MB vs 46 MB at the end).
    /// The cap only stops new arenas: those the runtime's threads made before it (7 in a 10-minute soak) stay, so the
    /// launcher (<c>./streamvision run</c>) and the container image set <c>MALLOC_ARENA_MAX=2</c>, which glibc applies from
    /// the first allocation. Returns the cap applied, or 0 when the environment decides.
    /// </summary>
    public static int CapMallocArenas()
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX"))) return 0;
        return SvNative.SetMallocArenaMax(ServiceMallocArenas) == 1 ? ServiceMallocArenas : 0;
    }

    /// <summary>The process's glibc malloc heap (what every native library allocates; not the .NET GC heap).</summary>
    public static NativeHeap Heap()
    {
        var info = SvNative.ReadHeap();
        return new NativeHeap(info.ArenaBytes, info.InUseBytes, info.FreeBytes, info.MmapBytes, info.Arenas);
    }
}

/// <summary>
/// glibc's malloc heap: <paramref name="ArenaBytes"/> taken from the system by its arenas, of them
/// <paramref name="InUseBytes"/> allocated and <paramref name="FreeBytes"/> free but kept for reuse (fragmentation when it
/// grows while in-use stays flat), <paramref name="MmapBytes"/> in large blocks mapped on their own, and the number of
/// <paramref name="Arenas"/> (glibc adds one per thread that finds the others locked, up to 8 per core).
/// </summary>
public readonly record struct NativeHeap(long ArenaBytes, long InUseBytes, long FreeBytes, long MmapBytes, int Arenas);
