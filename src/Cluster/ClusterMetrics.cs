using Prometheus;
using StreamVision.Core;

namespace StreamVision.Cluster;

/// <summary>The coordinator's series, on the service's registry (what its <c>/metrics</c> serves).</summary>
internal sealed class ClusterMetrics
{
    public ClusterMetrics(PipelineMetrics? metrics)
    {
        var f = Metrics.WithCustomRegistry((metrics ?? PipelineMetrics.Default).Registry);
        Member = f.CreateGauge("sv_cluster_member", "1 while this instance holds a valid cluster lease");
        Members = f.CreateGauge("sv_cluster_members", "Live instances of the cluster at the last read");
        Streams = f.CreateGauge("sv_cluster_streams", "Streams in the cluster's camera list");
        Owned = f.CreateGauge("sv_cluster_streams_owned", "Streams this instance owns");
        Claims = f.CreateCounter("sv_cluster_claims_total", "Streams this instance claimed");
        Handoffs = f.CreateCounter("sv_cluster_handoffs_total", "Streams this instance released to the member that should own them");
        Fences = f.CreateCounter("sv_cluster_fences_total", "Times this instance stopped its streams because its lease could no longer be valid (with streams running)");
        EtcdErrors = f.CreateCounter("sv_cluster_etcd_errors_total", "etcd requests that failed or timed out");
    }

    public Gauge Member { get; }
    public Gauge Members { get; }
    public Gauge Streams { get; }
    public Gauge Owned { get; }
    public Counter Claims { get; }
    public Counter Handoffs { get; }
    public Counter Fences { get; }
    public Counter EtcdErrors { get; }
}
