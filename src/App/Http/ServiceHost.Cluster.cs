using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.App.Service;
using StreamVision.Cluster;
using StreamVision.Core;

namespace StreamVision.App.Http;

/// <summary>
/// The API of an instance in a cluster: the camera list is the cluster's (etcd), so <c>POST</c> and <c>DELETE</c> change
/// it for every instance, and <c>GET /api/streams</c> shows every stream of the fleet with its owner, each described
/// by the instance that runs it (<c>?scope=local</c>: only this instance's).
/// </summary>
public sealed partial class ServiceHost
{
    /// <summary>Asking another instance for its streams may take this long; a member that does not answer shows its streams as unreachable.</summary>
    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(2);
    private static readonly HttpClient s_peers = new() { Timeout = PeerTimeout };

    /// <summary>
    /// Applies a reloaded configuration file in a cluster (through <see cref="Reloader"/>, one reload at a time): the
    /// file's streams join the cluster's list when missing; the rest of the list is the API's.
    /// </summary>
    private static ReloadReport ReloadCluster(ClusterCoordinator cluster, string configPath, ILogger logger)
    {
        cluster.Seed(StreamSpecs.FromConfigFile(File.ReadAllText(configPath)));
        logger.LogInformation("configuration reloaded: in a cluster only streams new to the cluster's list are added (remove streams with DELETE /api/streams/ID)");
        return new ReloadReport();
    }

    /// <summary>The URL other instances reach this one on: the listen address, a wildcard host replaced by the machine's name.</summary>
    private static string? AdvertisedUrl(Uri? address)
    {
        if (address is null) return null;
        if (address.Host is "0.0.0.0" or "[::]" or "::" or "+" or "*")
            return new UriBuilder(address) { Host = System.Net.Dns.GetHostName() }.Uri.ToString().TrimEnd('/');
        return address.ToString().TrimEnd('/');
    }

    private void MapCluster(WebApplication web, ClusterCoordinator cluster)
    {
        _ui.Fleet = ct => UiFleetAsync(cluster, ct);
        web.MapGet("/api/streams", async (HttpRequest request, CancellationToken ct) =>
        {
            if (request.Query["scope"] == "local") return Results.Json(LocalStreams(cluster).Values.ToList(), s_json);
            return await Etcd(async () => Results.Json(await FleetAsync(cluster, ct).ConfigureAwait(false), s_json)).ConfigureAwait(false);
        });
        web.MapGet("/api/streams/{id}", async (string id, CancellationToken ct) =>
        {
            if (LocalStreams(cluster).TryGetValue(id, out var mine)) return Results.Json(mine, s_json);
            return await Etcd(async () =>
            {
                var fleet = await FleetAsync(cluster, ct).ConfigureAwait(false);
                var one = fleet.FirstOrDefault(s => (string?)s["id"] == id);
                return one is null ? NotFound(id) : Results.Json(one, s_json);
            }).ConfigureAwait(false);
        });
        web.MapPost("/api/streams", async (HttpRequest request, CancellationToken ct) =>
        {
            string body;
            using (var reader = new StreamReader(request.Body)) body = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
            StreamConfig cfg;
            string spec;
            try
            {
                spec = StreamSpecs.Normalize(body);
                cfg = StreamSpecs.Parse(spec, Manager.Config.Sinks);
                // Refused here what is refused everywhere (absolute paths, '..', targets off the allow-list, muxers,
                // options, lavfi filters); the instance that runs it confines it again on its own disk.
                _outputs!.Confine(cfg, Manager.Config.Sinks, dryRun: true);
                spec = StreamSpecs.MarkFromApi(spec);
            }
            catch (ConfigException ex)
            {
                return Results.Json(new { errors = ex.Errors.Select(e => e.ToString()).ToList() }, s_json, statusCode: 400);
            }
            catch (OptionsException ex)
            {
                return Results.Json(new { errors = new[] { ex.Message } }, s_json, statusCode: 400);
            }
            return await Etcd(async () => await cluster.AddStreamAsync(cfg.Id, spec, ct).ConfigureAwait(false)
                ? Results.Json(Unassigned(cfg.Id, spec, null), s_json, statusCode: 201)
                : Results.Json(new { errors = new[] { $"stream '{cfg.Id}' already exists" } }, s_json, statusCode: 409)).ConfigureAwait(false);
        }).RequireRateLimiting(ChangesPolicy);
        web.MapDelete("/api/streams/{id}", async (string id, CancellationToken ct) =>
            await Etcd(async () => await cluster.RemoveStreamAsync(id, ct).ConfigureAwait(false) ? Results.NoContent() : NotFound(id)).ConfigureAwait(false))
            .RequireRateLimiting(ChangesPolicy);
        web.MapGet("/api/cluster", async (CancellationToken ct) => await Etcd(async () =>
        {
            var view = await cluster.ReadAsync(ct).ConfigureAwait(false);
            return Results.Json(new
            {
                name = cluster.Options.Name,
                instance = cluster.InstanceId,
                member = cluster.IsMember,
                lease_id = cluster.LeaseId.ToString("x", System.Globalization.CultureInfo.InvariantCulture),
                lease_remaining_s = Math.Round(cluster.LeaseRemaining.TotalSeconds, 2),
                lease_seconds = cluster.Options.LeaseSeconds,
                members = view.Members.Select(m => new { id = m.Id, api = m.ApiUrl, streams = view.Streams.Where(s => s.Owner == m.Id).Select(s => s.Id).ToList() }).ToList(),
                streams = view.Streams.Select(s => new { id = s.Id, owner = s.Owner }).ToList(),
            }, s_json);
        }).ConfigureAwait(false));
    }

    /// <summary>An etcd request answered, or 503 with the reason when etcd does not answer.</summary>
    private static async Task<IResult> Etcd(Func<Task<IResult>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (ClusterException ex)
        {
            return Results.Json(new { errors = new[] { ex.Message } }, s_json, statusCode: 503);
        }
    }

    /// <summary>The streams this instance owns, described as on a stand-alone instance plus <c>owner</c>.</summary>
    private SortedDictionary<string, JsonObject> LocalStreams(ClusterCoordinator cluster)
    {
        var list = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var id in cluster.Owned)
        {
            JsonObject o;
            if (Manager.TryGet(id, out var h))
            {
                o = JsonSerializer.SerializeToNode(Describe(h), s_json)!.AsObject();
            }
            else if (cluster.StartError(id) is { } error)
            {
                o = JsonSerializer.SerializeToNode(new { id, status = "failed", source_state = "idle", error, frames = 0 }, s_json)!.AsObject();
            }
            else
            {
                o = JsonSerializer.SerializeToNode(new { id, status = "disabled", frames = 0 }, s_json)!.AsObject();
            }
            o["owner"] = cluster.InstanceId;
            list[id] = o;
        }
        return list;
    }

    /// <summary>
    /// Every stream of the cluster: this instance's own, the others' as their owners describe them (asked in parallel),
    /// and placeholders for streams nobody owns (<c>unassigned</c>) or whose owner did not answer (<c>unreachable</c>).
    /// </summary>
    private async Task<List<JsonObject>> FleetAsync(ClusterCoordinator cluster, CancellationToken ct)
    {
        var view = await cluster.ReadAsync(ct).ConfigureAwait(false);
        var local = LocalStreams(cluster);
        var owners = view.Streams.Where(s => s.Owner is not null && s.Owner != cluster.InstanceId).Select(s => s.Owner!).ToHashSet(StringComparer.Ordinal);
        var peers = view.Members.Where(m => owners.Contains(m.Id) && m.ApiUrl is not null).ToList();
        var answers = await Task.WhenAll(peers.Select(m => PeerStreamsAsync(m, ct))).ConfigureAwait(false);
        var remote = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var (member, streams) in answers)
        {
            foreach (var s in streams)
            {
                if ((string?)s["id"] is { } id && (string?)s["owner"] == member) remote[id] = s;
            }
        }
        var fleet = new List<JsonObject>(view.Streams.Count);
        foreach (var s in view.Streams)
        {
            if (s.Owner == cluster.InstanceId && local.TryGetValue(s.Id, out var mine)) fleet.Add(mine);
            else if (s.Owner is not null && remote.TryGetValue(s.Id, out var theirs)) fleet.Add(theirs);
            else fleet.Add(Unassigned(s.Id, s.Spec, s.Owner));
        }
        return fleet;
    }

    /// <summary>
    /// The fleet for the web interface's wall: <see cref="FleetAsync"/>, each stream another instance owns with
    /// <c>owner_api</c>, the address of its owner's own interface (null when it is not known).
    /// </summary>
    private async Task<List<JsonObject>> UiFleetAsync(ClusterCoordinator cluster, CancellationToken ct)
    {
        var fleet = await FleetAsync(cluster, ct).ConfigureAwait(false);
        var api = cluster.LastView.Members.Where(m => m.ApiUrl is not null).ToDictionary(m => m.Id, m => m.ApiUrl!, StringComparer.Ordinal);
        foreach (var s in fleet)
        {
            if ((string?)s["owner"] is { } owner && owner == cluster.InstanceId) continue;
            s["owner_api"] = (string?)s["owner"] is { } o && api.TryGetValue(o, out var url) ? url.TrimEnd('/') : null;
        }
        return fleet;
    }

    private async Task<(string Member, IReadOnlyList<JsonObject> Streams)> PeerStreamsAsync(ClusterMember member, CancellationToken ct)
    {
        try
        {
            // The instances of a cluster share one configuration, so one token: send ours.
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{member.ApiUrl!.TrimEnd('/')}/api/streams?scope=local");
            if (_access?.Token is { } token) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var response = await s_peers.SendAsync(request, ct).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            var array = await response.Content.ReadFromJsonAsync<JsonArray>(ct).ConfigureAwait(false);
            return (member.Id, array?.OfType<JsonObject>().Select(o => (JsonObject)o.DeepClone()).ToList() ?? []);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException or NotSupportedException)
        {
            return (member.Id, []);
        }
    }

    /// <summary>A stream no instance describes: nobody owns it yet, or its owner did not answer.</summary>
    private static JsonObject Unassigned(string id, string spec, string? owner) => new()
    {
        ["id"] = id,
        ["uri"] = Ingest.SourceUri.Redact(StreamSpecs.UriOf(spec)),
        ["status"] = owner is null ? "unassigned" : "unreachable",
        ["fps"] = 0,
        ["latency_ms"] = 0,
        ["frames"] = 0,
        ["tracks"] = 0,
        ["active_tracks"] = 0,
        ["events"] = 0,
        ["drops"] = 0,
        ["reconnects"] = 0,
        ["queue_depth"] = 0,
        ["owner"] = owner,
    };

    /// <summary>The API URL of the instance that owns <paramref name="id"/>, when another one does.</summary>
    private async Task<string?> OwnerApiAsync(string id, CancellationToken ct)
    {
        try
        {
            var view = await Cluster!.ReadAsync(ct).ConfigureAwait(false);
            var owner = view.Streams.FirstOrDefault(s => s.Id == id)?.Owner;
            if (owner is null || owner == Cluster.InstanceId) return null;
            return view.Members.FirstOrDefault(m => m.Id == owner)?.ApiUrl;
        }
        catch (StreamVisionException)
        {
            return null;
        }
    }
}
