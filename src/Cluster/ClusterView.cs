using System.Text.Json;

namespace StreamVision.Cluster;

/// <summary>A live instance of the cluster: its id and where its HTTP API answers (null when it has none).</summary>
public sealed record ClusterMember(string Id, string? ApiUrl);

/// <summary>A stream of the cluster's camera list: its definition (the API's JSON for one stream) and its owner, or null while nobody owns it.</summary>
public sealed record ClusterStream(string Id, string Spec, string? Owner);

/// <summary>The cluster as one etcd read saw it: live members and every stream with its owner, ordered by id.</summary>
public sealed record ClusterView(IReadOnlyList<ClusterMember> Members, IReadOnlyList<ClusterStream> Streams)
{
    public static ClusterView Empty { get; } = new([], []);
}

/// <summary>The cluster's etcd keys: <c>{prefix}streams/{id}</c> (definition), <c>{prefix}owners/{id}</c> (owner's id, on its lease), <c>{prefix}members/{id}</c> (on its lease).</summary>
internal sealed class ClusterKeys(string prefix)
{
    public string Prefix { get; } = prefix;
    public string Stream(string id) => $"{Prefix}streams/{id}";
    public string Owner(string id) => $"{Prefix}owners/{id}";
    public string Member(string id) => $"{Prefix}members/{id}";

    /// <summary>Sorts a range read of the prefix into its three kinds of keys.</summary>
    public Snapshot Parse(IReadOnlyList<EtcdEntry> entries)
    {
        var streams = new SortedDictionary<string, string>(StringComparer.Ordinal);
        var revisions = new Dictionary<string, long>(StringComparer.Ordinal);
        var owners = new Dictionary<string, (string Instance, long Lease)>(StringComparer.Ordinal);
        var members = new SortedDictionary<string, ClusterMember>(StringComparer.Ordinal);
        foreach (var e in entries)
        {
            if (!e.Key.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var rest = e.Key.AsSpan(Prefix.Length);
            int slash = rest.IndexOf('/');
            if (slash <= 0 || slash == rest.Length - 1) continue;
            string kind = rest[..slash].ToString(), id = rest[(slash + 1)..].ToString();
            switch (kind)
            {
                case "streams": streams[id] = e.Value; revisions[id] = e.ModRevision; break;
                case "owners": owners[id] = (e.Value, e.Lease); break;
                case "members": members[id] = new ClusterMember(id, MemberInfo.ApiOf(e.Value)); break;
            }
        }
        return new Snapshot(streams, owners, members, revisions);
    }

    /// <param name="StreamRevisions">The etcd revision each stream's definition was last written at.</param>
    internal sealed record Snapshot(
        IReadOnlyDictionary<string, string> Streams,
        IReadOnlyDictionary<string, (string Instance, long Lease)> Owners,
        IReadOnlyDictionary<string, ClusterMember> Members,
        IReadOnlyDictionary<string, long> StreamRevisions)
    {
        public ClusterView ToView() => new(
            Members.Values.ToList(),
            Streams.Select(s => new ClusterStream(s.Key, s.Value, Owners.TryGetValue(s.Key, out var o) ? o.Instance : null)).ToList());
    }
}

/// <summary>The value of a member key: <c>{"instance": ..., "api": ..., "since": ...}</c>.</summary>
internal static class MemberInfo
{
    public static string Json(string instance, string? api) => JsonSerializer.Serialize(new Dictionary<string, string?>
    {
        ["instance"] = instance,
        ["api"] = api,
        ["since"] = DateTimeOffset.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    });

    public static string? ApiOf(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.TryGetProperty("api", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
