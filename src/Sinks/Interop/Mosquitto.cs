using System.Runtime.InteropServices;

namespace StreamVision.Sinks.Interop;

/// <summary>
/// libmosquitto (Debian <c>libmosquitto1</c>, MQTT 3.1.1/5 client) entry points used by <see cref="MosquittoClient"/>.
/// Declarations only; <see cref="MosquittoClient"/> is the one owner of a client handle.
/// </summary>
internal static unsafe partial class Mosquitto
{
    public const string Lib = "libmosquitto.so.1";

    // mosq_err_t (mosquitto.h); compare with these names, never with literals.
    public const int Success = 0;
    public const int NoMemory = 1;
    public const int Protocol = 2;
    public const int Invalid = 3;
    public const int NoConnection = 4;
    public const int ConnectionRefused = 5;
    public const int NotFound = 6;
    public const int ConnectionLost = 7;
    public const int PayloadSize = 9;
    public const int Errno = 14;
    public const int MalformedUtf8 = 18;
    public const int Keepalive = 19;

    // mosq_opt_t
    public const int OptProtocolVersion = 1;
    public const int OptTcpNoDelay = 11;
    public const int ProtocolV311 = 4;

    [LibraryImport(Lib, EntryPoint = "mosquitto_lib_init")]
    public static partial int LibInit();

    [LibraryImport(Lib, EntryPoint = "mosquitto_lib_version")]
    public static partial int LibVersion(out int major, out int minor, out int revision);

    [LibraryImport(Lib, EntryPoint = "mosquitto_new", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial IntPtr New(string? id, [MarshalAs(UnmanagedType.U1)] bool cleanSession, IntPtr userData);

    [LibraryImport(Lib, EntryPoint = "mosquitto_destroy")]
    public static partial void Destroy(IntPtr mosq);

    [LibraryImport(Lib, EntryPoint = "mosquitto_int_option")]
    public static partial int IntOption(SafeHandle mosq, int option, int value);

    [LibraryImport(Lib, EntryPoint = "mosquitto_will_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int WillSet(SafeHandle mosq, string topic, int payloadLength, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain);

    [LibraryImport(Lib, EntryPoint = "mosquitto_username_pw_set", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UsernamePasswordSet(SafeHandle mosq, string? username, string? password);

    [LibraryImport(Lib, EntryPoint = "mosquitto_connect_async", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int ConnectAsync(SafeHandle mosq, string host, int port, int keepalive);

    [LibraryImport(Lib, EntryPoint = "mosquitto_disconnect")]
    public static partial int Disconnect(SafeHandle mosq);

    [LibraryImport(Lib, EntryPoint = "mosquitto_publish", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Publish(SafeHandle mosq, out int mid, string topic, int payloadLength, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain);

    [LibraryImport(Lib, EntryPoint = "mosquitto_loop", SetLastError = true)]
    public static partial int Loop(SafeHandle mosq, int timeoutMs, int maxPackets);

    [LibraryImport(Lib, EntryPoint = "mosquitto_connect_callback_set")]
    public static partial void ConnectCallbackSet(SafeHandle mosq, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_disconnect_callback_set")]
    public static partial void DisconnectCallbackSet(SafeHandle mosq, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_publish_callback_set")]
    public static partial void PublishCallbackSet(SafeHandle mosq, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int, void> callback);

    [LibraryImport(Lib, EntryPoint = "mosquitto_strerror")]
    public static partial IntPtr StrError(int error);

    [LibraryImport(Lib, EntryPoint = "mosquitto_connack_string")]
    public static partial IntPtr ConnackString(int code);
}
