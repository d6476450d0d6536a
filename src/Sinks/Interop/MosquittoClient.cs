using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace StreamVision.Sinks.Interop;

/// <summary>What a <see cref="MosquittoClient"/> reports from inside <see cref="MosquittoClient.Loop"/> or <see cref="MosquittoClient.Publish"/>.</summary>
internal interface IMosquittoEvents
{
    /// <summary>CONNACK arrived; 0 = accepted, otherwise the broker's refusal code.</summary>
    void OnConnect(int code);

    /// <summary>The connection ended; 0 = asked for by <see cref="MosquittoClient.Disconnect"/>.</summary>
    void OnDisconnect(int code);

    /// <summary>A publish completed: written to the socket (QoS 0) or acknowledged by the broker (QoS 1, 2).</summary>
    void OnPublish(int messageId);
}

/// <summary>
/// The sole owner of one libmosquitto client handle (and of the GC handle that routes its callbacks to
/// <see cref="IMosquittoEvents"/>). Not thread-safe: one thread calls every method; callbacks run on that thread, inside
/// <see cref="Loop"/>, <see cref="Publish"/> or <see cref="Disconnect"/>. Dispose frees both handles, also when the
/// constructor fails halfway.
/// </summary>
internal sealed unsafe class MosquittoClient : IDisposable
{
    private static readonly Lazy<(int Major, int Minor, int Revision)> s_library = new(InitLibrary);

    private readonly ClientHandle _handle;
    private GCHandle _events;

    public MosquittoClient(string clientId, IMosquittoEvents events)
    {
        ArgumentNullException.ThrowIfNull(events);
        _ = s_library.Value;
        _events = GCHandle.Alloc(events);
        try
        {
            IntPtr raw = Mosquitto.New(clientId, cleanSession: true, GCHandle.ToIntPtr(_events));
            if (raw == IntPtr.Zero)
                throw new MqttException(Mosquitto.NoMemory, $"mqtt: cannot create client '{clientId}': {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            _handle = new ClientHandle(raw);
            Check(Mosquitto.IntOption(_handle, Mosquitto.OptProtocolVersion, Mosquitto.ProtocolV311), "set protocol version");
            Mosquitto.IntOption(_handle, Mosquitto.OptTcpNoDelay, 1); // latency over batching; absent in old versions, so unchecked
            Mosquitto.ConnectCallbackSet(_handle, &OnConnect);
            Mosquitto.DisconnectCallbackSet(_handle, &OnDisconnect);
            Mosquitto.PublishCallbackSet(_handle, &OnPublish);
        }
        catch
        {
            _handle?.Dispose();
            _events.Free();
            throw;
        }
    }

    /// <summary>libmosquitto's version (loads the library; throws <see cref="MqttException"/> when it is not installed).</summary>
    public static (int Major, int Minor, int Revision) LibraryVersion => s_library.Value;

    /// <summary>Message sent by the broker if this client vanishes without disconnecting. Before <see cref="ConnectAsync"/>.</summary>
    public void SetWill(string topic, ReadOnlySpan<byte> payload, int qos, bool retain)
    {
        fixed (byte* p = payload) Check(Mosquitto.WillSet(_handle, topic, payload.Length, p, qos, retain), "set last will");
    }

    public void SetCredentials(string? username, string? password) =>
        Check(Mosquitto.UsernamePasswordSet(_handle, username, password), "set credentials");

    /// <summary>Starts connecting without blocking on the broker's answer; <see cref="IMosquittoEvents.OnConnect"/> follows from <see cref="Loop"/>.</summary>
    public int ConnectAsync(string host, int port, int keepAliveSeconds) => Mosquitto.ConnectAsync(_handle, host, port, keepAliveSeconds);

    /// <summary>Queues a message; <paramref name="messageId"/> is what <see cref="IMosquittoEvents.OnPublish"/> reports (possibly before this returns).</summary>
    public int Publish(string topic, ReadOnlySpan<byte> payload, int qos, bool retain, out int messageId)
    {
        fixed (byte* p = payload) return Mosquitto.Publish(_handle, out messageId, topic, payload.Length, p, qos, retain);
    }

    /// <summary>Network I/O for up to <paramref name="timeoutMs"/>: reads, writes, keep-alive. Non-zero: the connection is gone.</summary>
    public int Loop(int timeoutMs) => Mosquitto.Loop(_handle, timeoutMs, 1);

    public int Disconnect() => Mosquitto.Disconnect(_handle);

    /// <summary>Text of a <c>mosq_err_t</c>, with errno's text for <see cref="Mosquitto.Errno"/> (read right after the failing call).</summary>
    public static string Describe(int code)
    {
        if (code == Mosquitto.Errno) return Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError());
        return Marshal.PtrToStringUTF8(Mosquitto.StrError(code)) ?? $"error {code}";
    }

    /// <summary>Text of a CONNACK refusal code.</summary>
    public static string DescribeConnack(int code) => Marshal.PtrToStringUTF8(Mosquitto.ConnackString(code)) ?? $"connack {code}";

    public void Dispose()
    {
        _handle.Dispose();
        if (_events.IsAllocated) _events.Free();
    }

    private static void Check(int rc, string what)
    {
        if (rc != Mosquitto.Success) throw new MqttException(rc, $"mqtt: cannot {what}: {Describe(rc)}");
    }

    private static (int, int, int) InitLibrary()
    {
        try
        {
            Mosquitto.LibInit();
            Mosquitto.LibVersion(out int major, out int minor, out int rev);
            return (major, minor, rev);
        }
        catch (DllNotFoundException ex)
        {
            throw new MqttException(Mosquitto.NotFound, $"mqtt: {Mosquitto.Lib} is not installed (Debian package libmosquitto1; tools/setup.sh installs it)", ex);
        }
    }

    private static IMosquittoEvents? Target(IntPtr userData) =>
        userData == IntPtr.Zero ? null : GCHandle.FromIntPtr(userData).Target as IMosquittoEvents;

    // Callbacks must not let an exception reach native code: the events implementation catches its own; this is the backstop.
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnConnect(IntPtr mosq, IntPtr userData, int code)
    {
        try { Target(userData)?.OnConnect(code); }
        catch (Exception) { }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnDisconnect(IntPtr mosq, IntPtr userData, int code)
    {
        try { Target(userData)?.OnDisconnect(code); }
        catch (Exception) { }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void OnPublish(IntPtr mosq, IntPtr userData, int messageId)
    {
        try { Target(userData)?.OnPublish(messageId); }
        catch (Exception) { }
    }

    private sealed class ClientHandle : SafeHandle
    {
        public ClientHandle(IntPtr h) : base(IntPtr.Zero, ownsHandle: true) => SetHandle(h);

        public override bool IsInvalid => handle == IntPtr.Zero;

        protected override bool ReleaseHandle()
        {
            Mosquitto.Destroy(handle);
            return true;
        }
    }
}
