using System.Globalization;
using StreamVision.Core;

namespace StreamVision.Cluster;

/// <summary>
/// How an instance joins a cluster of instances that share one camera list in etcd (the <c>cluster:</c> section). Each
/// instance holds a lease of <see cref="LeaseSeconds"/>; every stream is owned by exactly one live instance. Check with
/// <see cref="Validate"/> (the coordinator does).
/// </summary>
public sealed record ClusterOptions
{
    /// <summary>
    /// etcd client URLs (<c>http://host:2379</c>), one or more members of one etcd cluster; requests go to any of them. A
    /// list, one URL, or URLs separated by commas (<c>SV__CLUSTER__ENDPOINTS</c>). Required: no default.
    /// </summary>
    [OptionSeparator(",")]
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>
    /// The cluster's name: instances with the same name (and etcd) share a camera list, under the etcd prefix
    /// <c>/streamvision/{name}/</c>. 1..64 letters, digits, '-', '_', '.'. Default <c>default</c>.
    /// </summary>
    [OptionPattern("^[A-Za-z0-9._-]{1,64}$", "1..64 letters, digits, '-', '_' or '.'")]
    public string Name { get; init; } = "default";

    /// <summary>
    /// This instance's id: the name of its membership and of the streams it owns. Must be unique in the cluster (two
    /// live instances with one id would share a membership). Default "local"; the service sets its <c>instance</c>.
    /// </summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";

    /// <summary>
    /// Seconds the instance's lease lives without a keep-alive, 2..600. A dead instance's streams move to the others
    /// about this long after it died; an instance cut off from etcd stops its streams just before this runs out.
    /// Shorter moves streams sooner but lets a slow etcd (leader election, a stalled disk) stop streams needlessly.
    /// Default 10.
    /// </summary>
    [OptionRange(2, 600)]
    public int LeaseSeconds { get; init; } = 10;

    /// <summary>
    /// The URL the other instances reach this instance's HTTP API on (the fleet view asks every owner for its streams).
    /// Null = the HTTP listen address (with a wildcard host replaced by this machine's name). Default null.
    /// </summary>
    public string? AdvertiseUrl { get; init; }

    /// <summary>
    /// How often every instance re-reads the camera list, the members and the owners (one etcd range request). Sooner
    /// reaction to added or orphaned streams against more etcd traffic; milliseconds, 50..10000. Default 500.
    /// </summary>
    [OptionKey("poll_ms"), OptionRange(50, 10000)]
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest one etcd request may take before it counts as failed; seconds, 0.1..30. Default 2.</summary>
    [OptionKey("request_timeout_seconds"), OptionRange(0.1, 30)]
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The etcd key prefix of this cluster: <c>/streamvision/{name}/</c>.</summary>
    public string Prefix => $"/streamvision/{Name}/";

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "cluster")
    {
        if (Endpoints.Count == 0) throw new OptionsException($"{path}.endpoints", "at least one etcd URL is required, e.g. [http://127.0.0.1:2379]");
        for (int i = 0; i < Endpoints.Count; i++)
        {
            if (!Uri.TryCreate(Endpoints[i], UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https") || u.AbsolutePath is not ("/" or ""))
                throw new OptionsException($"{path}.endpoints[{i}]", $"must be an etcd client URL like http://127.0.0.1:2379, got '{Endpoints[i]}'");
        }
        if (Endpoints.Select(e => new Uri(e).Scheme).Distinct().Count() > 1)
            throw new OptionsException($"{path}.endpoints", "must all be http or all be https");
        CheckName(Name, $"{path}.name");
        CheckName(InstanceId, "instance");
        if (LeaseSeconds is < 2 or > 600) throw new OptionsException($"{path}.lease_seconds", $"must be 2..600 seconds, got {LeaseSeconds}");
        if (AdvertiseUrl is not null && !(Uri.TryCreate(AdvertiseUrl, UriKind.Absolute, out var a) && a.Scheme is "http" or "https"))
            throw new OptionsException($"{path}.advertise_url", $"must be an http(s) URL, got '{AdvertiseUrl}'");
        if (PollInterval < TimeSpan.FromMilliseconds(50) || PollInterval > TimeSpan.FromSeconds(10))
            throw new OptionsException($"{path}.poll_ms", string.Create(CultureInfo.InvariantCulture, $"must be 50..10000 ms, got {PollInterval.TotalMilliseconds}"));
        if (RequestTimeout < TimeSpan.FromMilliseconds(100) || RequestTimeout > TimeSpan.FromSeconds(30))
            throw new OptionsException($"{path}.request_timeout_seconds", string.Create(CultureInfo.InvariantCulture, $"must be 0.1..30 seconds, got {RequestTimeout.TotalSeconds}"));
    }

    private static void CheckName(string v, string path)
    {
        if (v.Length == 0 || v.Length > 64 || !v.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            throw new OptionsException(path, $"must be 1..64 letters, digits, '-', '_' or '.', got '{v}'");
    }
}
