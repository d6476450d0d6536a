using System.Runtime.CompilerServices;
using Prometheus;
using StreamVision.Core;

namespace StreamVision.App.Http;

/// <summary>
/// What a service's <c>/metrics</c> serves besides the pipeline's series, all from prometheus-net except two names of our
/// own: the library's process collector (<c>process_cpu_seconds_total</c>, <c>process_working_set_bytes</c>,
/// <c>process_start_time_seconds</c>, <c>process_num_threads</c>, ..., <c>dotnet_collection_count_total</c>,
/// <c>dotnet_total_memory_bytes</c>), its event-counter adapter (the runtime's and Kestrel's counters as
/// <c>system_runtime_*</c>, <c>microsoft_aspnetcore_*</c>, ..., refreshed every 10 s), <c>process_resident_memory_bytes</c>
/// (the name Prometheus' own clients use, which dashboards expect) and <c>sv_instance_info{instance_id}</c>. Never the
/// library's meter adapter: it exports counters as gauges and loses what was measured before the first scrape.
/// </summary>
internal sealed class ProcessMetrics : IDisposable
{
    // The process collector adds a collect callback that cannot be taken back: once per registry.
    private static readonly ConditionalWeakTable<CollectorRegistry, object> s_withProcessStats = new();

    private readonly IDisposable _eventCounters;

    public ProcessMetrics(PipelineMetrics metrics, string instanceId)
    {
        var registry = metrics.Registry;
        var factory = Metrics.WithCustomRegistry(registry);
        lock (s_withProcessStats)
        {
            if (!s_withProcessStats.TryGetValue(registry, out _))
            {
                DotNetStats.Register(registry);
                var resident = factory.CreateGauge("process_resident_memory_bytes", "Resident memory size in bytes.");
                registry.AddBeforeCollectCallback(() => resident.Set(Environment.WorkingSet));
                RegisterNative(factory, registry);
                s_withProcessStats.Add(registry, new object());
            }
        }
        factory.CreateGauge(SvMetrics.InstanceInfo, "The instance id of this StreamVision service (always 1)", SvMetrics.LabelInstanceId)
            .WithLabels(instanceId).Set(1);
        _eventCounters = EventCounterAdapter.StartListening(new EventCounterAdapterOptions { Registry = registry, MetricFactory = factory });
    }

    /// <summary>
    /// <c>sv_native_handles{kind}</c> (the shim's readers and writers, OpenCV and ONNX Runtime objects), and the glibc heap
    /// every native library allocates from: <c>sv_native_heap_bytes{kind=in_use|free|mmap}</c>, <c>sv_native_heap_arenas</c>.
    /// Native memory that grows while the handles stay level is the allocator's (free bytes, arenas), not a leak.
    /// </summary>
    private static void RegisterNative(MetricFactory factory, CollectorRegistry registry)
    {
        var handles = factory.CreateGauge(SvMetrics.NativeHandles, "Native objects alive, by kind (FFmpeg readers and writers, OpenCV background models and camera-motion estimators, ONNX Runtime sessions)", SvMetrics.LabelKind);
        var heap = factory.CreateGauge(SvMetrics.NativeHeapBytes, "glibc malloc heap of the process (all native libraries) in bytes: in_use, free (kept for reuse), mmap (large blocks)", SvMetrics.LabelKind);
        var arenas = factory.CreateGauge(SvMetrics.NativeHeapArenas, "glibc malloc arenas of the process");
        string[] kinds = [Core.NativeHandles.BackgroundModel, Core.NativeHandles.CameraMotion, Core.NativeHandles.OnnxSession];
        registry.AddBeforeCollectCallback(() =>
        {
            try
            {
                handles.WithLabels("ffmpeg_reader").Set(Native.NativeInfo.LiveReaders);
                handles.WithLabels("ffmpeg_writer").Set(Native.NativeInfo.LiveWriters);
                var h = Native.NativeInfo.Heap();
                heap.WithLabels("in_use").Set(h.InUseBytes);
                heap.WithLabels("free").Set(h.FreeBytes);
                heap.WithLabels("mmap").Set(h.MmapBytes);
                arenas.Set(h.Arenas);
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or Native.MediaException)
            {
                // Without the shim there are no FFmpeg handles to count; the other kinds still are.
            }
            foreach (var kind in kinds) handles.WithLabels(kind).Set(Core.NativeHandles.Live(kind));
        });
    }

    public void Dispose() => _eventCounters.Dispose();
}
