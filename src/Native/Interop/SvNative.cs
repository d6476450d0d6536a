using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamVision.Native.Interop;

/// <summary>sv_heap_info of svnative.h.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct SvHeapInfo
{
    public long ArenaBytes;
    public long InUseBytes;
    public long FreeBytes;
    public long MmapBytes;
    public int Arenas;
}

[StructLayout(LayoutKind.Sequential)]
internal unsafe struct SvStreamInfo
{
    public int Width;
    public int Height;
    public double Fps;
    public double DurationSeconds;
    public long FrameCount;
    public int Seekable;
    public fixed byte Codec[32];
    public fixed byte PixFmt[32];
    public fixed byte Format[64];
    public fixed byte HwAccel[32];
    public int Rotation;
}

/// <summary>Source-generated bindings of libsvnative (see native/svnative.h for the contract).</summary>
internal static unsafe partial class SvNative
{
    private const string Lib = "svnative";

    public const int EArgument = -100001;
    public const int ENoStream = -100002;
    public const int ENoCodec = -100003;
    public const int ETimeout = -100004;
    public const int EInterrupted = -100005;
    public const int EUnknownOption = -100006;
    public const int EState = -100007;

    static SvNative() => NativeLibrary.SetDllImportResolver(typeof(SvNative).Assembly, Resolve);

    /// <summary>Forces the static resolver to be installed before the first call.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void EnsureLoaded() { }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Lib) return IntPtr.Zero;
        foreach (var candidate in Candidates())
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var h)) return h;
        }
        throw new DllNotFoundException(
            "libsvnative.so not found. Run `./streamvision setup` (it builds the native shim), or set SV_NATIVE_DIR. Looked in: " +
            string.Join(", ", Candidates()));
    }

    private static IEnumerable<string> Candidates()
    {
        var env = Environment.GetEnvironmentVariable("SV_NATIVE_DIR");
        if (!string.IsNullOrEmpty(env)) yield return Path.Combine(env, "libsvnative.so");
        yield return Path.Combine(AppContext.BaseDirectory, "libsvnative.so");
        if (Core.DepsDirectory.Find(Path.Combine("native", "libsvnative.so")) is { } built) yield return built;
    }

    [LibraryImport(Lib, EntryPoint = "sv_last_error")] public static partial IntPtr LastError();
    [LibraryImport(Lib, EntryPoint = "sv_ffmpeg_version")] public static partial IntPtr FfmpegVersion();
    [LibraryImport(Lib, EntryPoint = "sv_set_log_level")] public static partial void SetLogLevel(int level);
    [LibraryImport(Lib, EntryPoint = "sv_live_readers")] public static partial long LiveReaders();
    [LibraryImport(Lib, EntryPoint = "sv_live_writers")] public static partial long LiveWriters();
    [LibraryImport(Lib, EntryPoint = "sv_heap_stats")] public static partial int HeapStats(SvHeapInfo* info);
    [LibraryImport(Lib, EntryPoint = "sv_set_malloc_arena_max")] public static partial int SetMallocArenaMax(int n);

    [LibraryImport(Lib, EntryPoint = "sv_reader_open", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ReaderOpen(string url, string? format, IntPtr* keys, IntPtr* values, int n,
        int threads, string? hwaccel, int openTimeoutMs, int readTimeoutMs, out IntPtr reader);
    [LibraryImport(Lib, EntryPoint = "sv_reader_new")] public static partial IntPtr ReaderNew();
    [LibraryImport(Lib, EntryPoint = "sv_reader_start", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int ReaderStart(SafeHandle reader, string url, string? format, IntPtr* keys, IntPtr* values, int n,
        int threads, string? hwaccel, int openTimeoutMs, int readTimeoutMs);
    [LibraryImport(Lib, EntryPoint = "sv_reader_info")] public static partial int ReaderInfo(SafeHandle r, SvStreamInfo* info);
    [LibraryImport(Lib, EntryPoint = "sv_reader_hw_status")] public static partial IntPtr ReaderHwStatus(SafeHandle r);
    [LibraryImport(Lib, EntryPoint = "sv_reader_read")]
    public static partial int ReaderRead(SafeHandle r, byte* dst, int dstW, int dstH, int stride, out long ptsUs, out int srcW, out int srcH);
    [LibraryImport(Lib, EntryPoint = "sv_reader_grab")] public static partial int ReaderGrab(SafeHandle r, out long ptsUs, out int srcW, out int srcH);
    [LibraryImport(Lib, EntryPoint = "sv_reader_retrieve")] public static partial int ReaderRetrieve(SafeHandle r, byte* dst, int dstW, int dstH, int stride);
    [LibraryImport(Lib, EntryPoint = "sv_reader_rewind")] public static partial int ReaderRewind(SafeHandle r);
    [LibraryImport(Lib, EntryPoint = "sv_reader_stats")] public static partial void ReaderStats(SafeHandle r, out long corruptPackets, out long decodeErrors);
    [LibraryImport(Lib, EntryPoint = "sv_reader_interrupt")] public static partial void ReaderInterrupt(IntPtr r);
    [LibraryImport(Lib, EntryPoint = "sv_reader_close")] public static partial void ReaderClose(IntPtr r);

    [LibraryImport(Lib, EntryPoint = "sv_writer_open", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int WriterOpen(string url, string? format, string codec, int width, int height, int fpsNum, int fpsDen,
        IntPtr* keys, IntPtr* values, int n, int ioTimeoutMs, out IntPtr writer);
    [LibraryImport(Lib, EntryPoint = "sv_writer_write")] public static partial int WriterWrite(SafeHandle w, byte* src, int stride, long ptsUs);
    [LibraryImport(Lib, EntryPoint = "sv_writer_finish")] public static partial int WriterFinish(SafeHandle w);
    [LibraryImport(Lib, EntryPoint = "sv_writer_frames")] public static partial long WriterFrames(SafeHandle w);
    [LibraryImport(Lib, EntryPoint = "sv_writer_close")] public static partial void WriterClose(IntPtr w);

    public static string LastErrorMessage() => Marshal.PtrToStringUTF8(LastError()) ?? "";
    public static string Utf8(IntPtr p) => Marshal.PtrToStringUTF8(p) ?? "";
    public static string Utf8(byte* p, int cap) => Marshal.PtrToStringUTF8((IntPtr)p, new ReadOnlySpan<byte>(p, cap).IndexOf((byte)0) is var n and >= 0 ? n : cap);

    /// <summary>The malloc heap's figures (sv_heap_stats).</summary>
    public static SvHeapInfo ReadHeap()
    {
        SvHeapInfo info;
        Check(HeapStats(&info), "heap stats");
        return info;
    }

    /// <summary>Throws <see cref="MediaException"/> for a negative code, with the shim's message.</summary>
    public static int Check(int code, string input)
    {
        if (code < 0) throw new MediaException(code, input, LastErrorMessage());
        return code;
    }
}

/// <summary>Native UTF-8 key/value arrays for an options dictionary; frees them on dispose.</summary>
internal unsafe ref struct NativeOptions
{
    private readonly IntPtr[] _keys;
    private readonly IntPtr[] _values;

    public NativeOptions(IReadOnlyDictionary<string, string>? options)
    {
        int n = options?.Count ?? 0;
        _keys = new IntPtr[Math.Max(n, 1)];
        _values = new IntPtr[Math.Max(n, 1)];
        Count = n;
        int i = 0;
        if (options is null) return;
        foreach (var (k, v) in options)
        {
            _keys[i] = Marshal.StringToCoTaskMemUTF8(k);
            _values[i] = Marshal.StringToCoTaskMemUTF8(v);
            i++;
        }
    }

    public int Count { get; }
    public IntPtr[] Keys => _keys;
    public IntPtr[] Values => _values;

    public void Dispose()
    {
        for (int i = 0; i < Count; i++)
        {
            Marshal.FreeCoTaskMem(_keys[i]);
            Marshal.FreeCoTaskMem(_values[i]);
        }
    }
}
