using System.Runtime.InteropServices;

namespace StreamVision.Sinks.Tests.Support.Interop;

/// <summary>
/// The few librdkafka C functions the tests need for its built-in mock cluster (the one <c>test.mock.num.brokers</c>
/// starts), to know its address and to take brokers down and up: Confluent.Kafka does not expose them. Resolved to the
/// very librdkafka file Confluent.Kafka loaded (on Debian 12 its centos8 build).
/// </summary>
internal static class Librdkafka
{
    private const string Lib = "librdkafka";
    private static readonly Lazy<IntPtr> s_handle = new(LoadLikeConfluent);

    /// <summary>Loads librdkafka through Confluent.Kafka and points this assembly's imports at the same file. Call before any import.</summary>
    public static void Load()
    {
        if (s_handle.IsValueCreated) return;
        _ = s_handle.Value;
        NativeLibrary.SetDllImportResolver(typeof(Librdkafka).Assembly, (name, _, _) => name == Lib ? s_handle.Value : IntPtr.Zero);
    }

    private static IntPtr LoadLikeConfluent()
    {
        _ = Confluent.Kafka.Library.Version; // makes Confluent.Kafka load its librdkafka
        var path = File.ReadLines("/proc/self/maps").Select(l => l[(l.IndexOf('/') is var i and >= 0 ? i : l.Length)..].Trim())
            .FirstOrDefault(p => Path.GetFileName(p).EndsWith("librdkafka.so", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("librdkafka is not loaded");
        return NativeLibrary.Load(path);
    }

    public const int Producer = 0;

    [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
    [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);
    [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
    [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokers);
    [DllImport(Lib)] public static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);
    [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
    [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);
    [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
    [DllImport(Lib)] public static extern int rd_kafka_mock_topic_create(IntPtr cluster, [MarshalAs(UnmanagedType.LPUTF8Str)] string topic, int partitions, int replication);
}
