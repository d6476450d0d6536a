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
                s_withProcessStats.Add(registry, new object());
            }
        }
        factory.CreateGauge(SvMetrics.InstanceInfo, "The instance id of this StreamVision service (always 1)", SvMetrics.LabelInstanceId)
            .WithLabels(instanceId).Set(1);
        _eventCounters = EventCounterAdapter.StartListening(new EventCounterAdapterOptions { Registry = registry, MetricFactory = factory });
    }

    public void Dispose() => _eventCounters.Dispose();
}
