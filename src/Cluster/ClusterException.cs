using StreamVision.Core;

namespace StreamVision.Cluster;

/// <summary>etcd could not be reached or refused a request; the message says which request and why.</summary>
public sealed class ClusterException : StreamVisionException
{
    public ClusterException(string message, Exception? inner = null) : base(message, inner) { }
}
