using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StreamVision.Analytics;
using StreamVision.App.Config;
using StreamVision.App.Service;
using StreamVision.Core;

namespace StreamVision.App.Http;

/// <summary>
/// The web interface's server side: its static files (embedded, no build step), the state file of browser changes
/// (<see cref="UiState"/>), the event store behind the review (<see cref="EventStore"/>), the chart samples
/// (<see cref="ChartRecorder"/>), and their API: <c>/api/ui/streams</c>, <c>/api/events</c>, <c>/api/snapshots/{id}</c>,
/// <c>/api/charts</c>, <c>GET|PUT /api/streams/{id}/regions</c>, <c>GET|PUT /api/streams/{id}/config</c>.
/// </summary>
public sealed class WebUi : IDisposable
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };

    private readonly ILogger _logger;
    private readonly string _instance;
    private readonly ConcurrentDictionary<string, (string State, DateTimeOffset Since)> _seen = new(StringComparer.Ordinal);
    private StreamManager? _manager;
    private bool _clustered;

    private WebUi(UiState state, EventStore? events, ILogger logger, string instance, ChartOptions charts)
    {
        State = state;
        Events = events;
        _logger = logger;
        _instance = instance;
        ChartOptions = charts;
    }

    public UiState State { get; }
    /// <summary>The review's store; null when off (no path, or no configuration file to place a relative path by).</summary>
    public EventStore? Events { get; }
    public ChartRecorder? Charts { get; private set; }
    private ChartOptions ChartOptions { get; }

    /// <summary>
    /// Opens the state file and the event store. Relative paths are relative to <paramref name="configPath"/>'s folder;
    /// without a configuration file a relative state file is kept in memory only and a relative event store is off
    /// (absolute paths always work).
    /// </summary>
    public static WebUi Open(SvConfig config, string? configPath, bool http, ILogger logger)
    {
        string? Resolve(string path)
        {
            if (string.IsNullOrWhiteSpace(path)) return null;
            path = path.Replace("{instance}", config.Instance, StringComparison.Ordinal);
            if (System.IO.Path.IsPathRooted(path)) return path;
            if (configPath is null) return null;
            return System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(configPath))!, path);
        }
        var state = new UiState(Resolve(config.Ui.StateFile), logger);
        string? db = http ? Resolve(config.Ui.Events.Path) : null;
        var store = db is null ? null : new EventStore(config.Ui.Events, db, logger);
        if (state.Path is not null) logger.LogInformation("changes made in the browser are kept in {Path}", state.Path);
        if (store is not null) logger.LogInformation("events for the review are kept in {Path}", store.Path);
        return new WebUi(state, store, logger, config.Instance, config.Ui.Charts);
    }

    /// <summary>
    /// Connects to the running service: its streams feed the store (through their sinks) and the charts; reloads apply
    /// the state file. In a cluster (<paramref name="clustered"/>) the camera list is the cluster's: the state file keeps
    /// only zones and lines, and reloads are the cluster's business.
    /// </summary>
    public void Attach(StreamManager manager, bool http, bool clustered = false)
    {
        _manager = manager;
        _clustered = clustered;
        manager.Resources.Events = Events;
        if (!clustered) manager.Overlay = State.Apply;
        if (http) Charts = new ChartRecorder(ChartOptions, manager);
    }

    /// <summary>
    /// In a cluster: every stream of the fleet as <c>GET /api/streams</c> gives it (each with <c>owner</c>, and
    /// <c>owner_api</c> for streams another instance runs); the wall shows them all. Null on a stand-alone instance.
    /// </summary>
    public Func<CancellationToken, Task<List<JsonObject>>>? Fleet { get; set; }

    /// <summary>In a cluster: its coordinator, where zones and lines drawn on a stream are kept (in the stream's definition, so they move with it). Null on a stand-alone instance.</summary>
    public StreamVision.Cluster.ClusterCoordinator? Cluster { get; set; }

    private StreamManager Manager => _manager ?? throw new InvalidOperationException("not attached");

    /// <summary>
    /// What the API does to a stream it is given (<see cref="ApiOutputPolicy.Confine"/>: paths under the output root, targets
    /// on the allow-list); applied to streams edited in the browser as to <c>POST /api/streams</c>. Null = nothing.
    /// </summary>
    public Func<StreamConfig, StreamConfig>? Confine { get; set; }

    /// <param name="changesPolicy">The rate-limiting policy of the API's changes (<c>http.changes_per_minute</c>), applied to the editing endpoints.</param>
    public void Map(WebApplication web, string changesPolicy)
    {
        web.MapGet("/ui/{file}", (string file) => Asset(file));
        web.MapGet("/api/ui/streams", async (CancellationToken ct) =>
        {
            if (Fleet is null) return Results.Json(UiStreams(), s_json);
            try
            {
                return Results.Json(WithFleet(UiStreams(), await Fleet(ct).ConfigureAwait(false)), s_json);
            }
            catch (StreamVisionException ex)
            {
                // etcd does not answer: this instance's own streams, and the reason the others are missing.
                _logger.LogWarning("the wall shows only this instance's streams: {Reason}", ex.Message);
                return Results.Json(UiStreams(), s_json);
            }
        });
        web.MapGet("/api/events", (HttpRequest r) => QueryEvents(r));
        web.MapGet("/api/events/facets", () =>
        {
            if (Events is null) return Results.Json(new { streams = Array.Empty<string>(), types = Array.Empty<string>(), classes = Array.Empty<string>(), enabled = false }, s_json);
            var (streams, types, classes) = Events.Facets();
            return Results.Json(new { streams, types, classes, enabled = true }, s_json);
        });
        web.MapGet("/api/snapshots/{id}", (string id) =>
        {
            if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return Error(400, $"snapshot id must be a number, got '{id}'");
            if (Events is null) return Error(404, "the event store is off (ui.events.path)");
            return Events.TryGetSnapshot(n, out var jpeg)
                ? Results.Bytes(jpeg, "image/jpeg")
                : Error(404, $"no snapshot {n} (never stored, or removed by retention)");
        });
        web.MapGet("/api/charts", (HttpRequest r) => QueryCharts(r));
        web.MapGet("/api/streams/{id}/regions", (string id) =>
            Manager.TryGet(id, out var h) ? Results.Json(Regions(h.Config), s_json) : Error(404, $"no stream '{id}'"));
        web.MapPut("/api/streams/{id}/regions", async (string id, HttpRequest request) =>
        {
            if (!Manager.TryGet(id, out var h)) return Error(404, $"no stream '{id}'");
            string body = await ReadBodyAsync(request).ConfigureAwait(false);
            int index = Math.Max(0, Manager.Config.Streams.ToList().FindIndex(s => s.Id == id));
            try
            {
                var (zones, lines) = UiState.BindRegions(h.Config, body, index);
                h.ReplaceRegions(zones, lines);
            }
            catch (ConfigException ex)
            {
                return Errors(ex.Errors);
            }
            catch (OptionsException ex)
            {
                return Errors([new ConfigError(ex.Path, ex.Message.StartsWith(ex.Path + ": ", StringComparison.Ordinal) ? ex.Message[(ex.Path.Length + 2)..] : ex.Message)]);
            }
            if (Cluster is { } cluster)
            {
                // In a cluster the zones and lines live in the stream's definition in etcd: whichever instance runs the
                // stream next (failover, a new member) starts with them.
                try
                {
                    var regions = JsonSerializer.SerializeToNode(Regions(h.Config), s_json)!.AsObject();
                    string WithRegions(string spec)
                    {
                        var definition = JsonNode.Parse(spec)!.AsObject();
                        definition["zones"] = WithoutNulls(regions["zones"]);
                        definition["lines"] = WithoutNulls(regions["lines"]);
                        return definition.ToJsonString();
                    }
                    if (!await cluster.UpdateStreamAsync(id, WithRegions, request.HttpContext.RequestAborted).ConfigureAwait(false))
                        return Error(404, $"stream '{id}' is no longer in the cluster's list");
                }
                catch (StreamVision.Cluster.ClusterException ex)
                {
                    return Error(503, $"zones and lines apply here but could not be stored in the cluster: {ex.Message}");
                }
                State.RegionsForgotten(id);
            }
            else
            {
                State.RegionsSaved(id, JsonSerializer.Serialize(Regions(h.Config), s_json));
            }
            _logger.LogInformation("stream {Stream}: zones and lines replaced ({Zones} zones, {Lines} lines)", id, h.Config.Zones.Count, h.Config.Lines.Count);
            return Results.Json(Regions(h.Config), s_json);
        }).RequireRateLimiting(changesPolicy);
        web.MapGet("/api/streams/{id}/config", (string id) =>
        {
            var cfg = Manager.TryGet(id, out var h) ? h.Config : Manager.NotStarted.FirstOrDefault(n => n.Config.Id == id).Config;
            return cfg is null ? Error(404, $"no stream '{id}'") : Results.Json(EditableFields(cfg), s_json);
        });
        web.MapPut("/api/streams/{id}/config", async (string id, HttpRequest request) =>
        {
            string body = await ReadBodyAsync(request).ConfigureAwait(false);
            if (_clustered)
                return Error(409, $"stream '{id}' belongs to the cluster's list: change it by removing it (DELETE /api/streams/{id}) and adding it again (POST /api/streams)");
            var old = Manager.TryGet(id, out var h) ? h.Config : Manager.NotStarted.FirstOrDefault(n => n.Config.Id == id).Config;
            if (old is null) return Error(404, $"no stream '{id}'");
            // The form shows the URI redacted: unchanged, it means the one configured (credentials kept).
            body = KeepSecretUri(body, old);
            int index = Math.Max(0, Manager.Config.Streams.ToList().FindIndex(s => s.Id == id));
            StreamConfig cfg;
            try
            {
                // Its sinks start from the instance's, and what it writes and where it sends is fenced as for POST /api/streams.
                cfg = ConfigLoader.LoadStream(body, index, sinks: Manager.Config.Sinks);
                if (Confine is not null) cfg = Confine(cfg);
            }
            catch (ConfigException ex)
            {
                return Errors(ex.Errors);
            }
            catch (OptionsException ex)
            {
                return Errors([new ConfigError(ex.Path, ex.Message.StartsWith(ex.Path + ": ", StringComparison.Ordinal) ? ex.Message[(ex.Path.Length + 2)..] : ex.Message)]);
            }
            if (cfg.Id != id) return Errors([new ConfigError($"streams[{index}].id", $"is '{cfg.Id}'; a stream's id cannot change (remove it and add a new one)")]);
            // Zones and lines drawn in the browser stay unless the body brings its own.
            if (cfg.Zones.Count == 0 && cfg.Lines.Count == 0 && (old.Zones.Count > 0 || old.Lines.Count > 0)) cfg = cfg with { Analytics = cfg.Analytics with { Zones = old.Zones, Lines = old.Lines } };
            await Manager.RemoveAsync(id).ConfigureAwait(false);
            try
            {
                var host = await Manager.AddAsync(cfg).ConfigureAwait(false);
                State.StreamSaved(id, body);
                return Results.Json(ServiceHost.Describe(host), s_json);
            }
            catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException)
            {
                return Error(400, ex.Message);
            }
        }).RequireRateLimiting(changesPolicy);
    }

    /// <summary>Records a stream added over the API (what <c>POST /api/streams</c> calls on success).</summary>
    public void StreamAdded(string id, string body) => State.StreamSaved(id, body);

    /// <summary>Records a stream removed over the API.</summary>
    public void StreamRemoved(string id) => State.StreamRemoved(id);

    private static object Regions(StreamConfig c) => new
    {
        zones = c.Zones.Select(z => new
        {
            name = z.Name,
            polygon = z.Polygon.Select(p => new[] { p.X, p.Y }).ToList(),
            units = z.Units == CoordinateUnits.Fraction ? "fraction" : "pixels",
            anchor = Snake(z.Anchor.ToString()),
            classes = z.Classes,
            color = z.Color,
        }).ToList(),
        lines = c.Lines.Select(l => new
        {
            name = l.Name,
            points = new[] { new[] { l.From.X, l.From.Y }, new[] { l.To.X, l.To.Y } },
            units = l.Units == CoordinateUnits.Fraction ? "fraction" : "pixels",
            anchor = Snake(l.Anchor.ToString()),
            classes = l.Classes,
            color = l.Color,
        }).ToList(),
    };

    private static string Snake(string pascal) => JsonNamingPolicy.SnakeCaseLower.ConvertName(pascal);

    private static object EditableFields(StreamConfig c) => new
    {
        id = c.Id,
        uri = Ingest.SourceUri.Redact(c.Source.Uri),
        mode = Snake(c.Source.Mode.ToString()),
        max_fps = c.Source.MaxFps,
        loop = c.Source.Loop,
        rtsp_transport = Snake(c.Source.RtspTransport.ToString()),
        enabled = c.Enabled,
    };

    private static string KeepSecretUri(string body, StreamConfig old)
    {
        try
        {
            if (JsonNode.Parse(body) is JsonObject o && o["uri"] is JsonValue v && v.TryGetValue(out string? uri)
                && uri == Ingest.SourceUri.Redact(old.Source.Uri) && uri != old.Source.Uri)
            {
                o["uri"] = old.Source.Uri;
                return o.ToJsonString();
            }
        }
        catch (JsonException)
        {
            // YAML bodies are taken as they are.
        }
        return body;
    }

    /// <summary>Every stream as the wall shows it: the API's description plus one state word, since when, and its zones and lines.</summary>
    private List<JsonNode?> UiStreams()
    {
        var list = new List<JsonNode?>();
        var now = DateTimeOffset.UtcNow;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var h in Manager.Streams)
        {
            var node = JsonSerializer.SerializeToNode(ServiceHost.Describe(h), s_json)!.AsObject();
            string state = h.Status == Pipeline.StreamStatus.Running ? h.Source.State.ToString().ToLowerInvariant() : h.Status.ToString().ToLowerInvariant();
            var since = h.Status == Pipeline.StreamStatus.Running ? h.Source.StateSince : Seen(h.Id, state, now);
            ids.Add(h.Id);
            node["state"] = state;
            node["since"] = since.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            node["preview"] = Manager.Resources.Previews.ContainsKey(h.Id);
            node["regions"] = JsonSerializer.SerializeToNode(Regions(h.Config), s_json);
            list.Add(node);
        }
        foreach (var (cfg, error) in Manager.NotStarted)
        {
            if (!ids.Add(cfg.Id)) continue;
            list.Add(new JsonObject
            {
                ["id"] = cfg.Id,
                ["uri"] = Ingest.SourceUri.Redact(cfg.Source.Uri),
                ["status"] = "failed",
                ["state"] = "failed",
                ["source_state"] = "idle",
                ["error"] = error,
                ["since"] = Seen(cfg.Id, "failed", now).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                ["preview"] = false,
                ["frames"] = 0,
            });
        }
        foreach (var id in _seen.Keys.Where(k => !ids.Contains(k)).ToList()) _seen.TryRemove(id, out _);
        return list;
    }

    /// <summary>
    /// The fleet in the cluster's order: this instance's streams as the wall describes them (with their owner), the
    /// others as their owners describe them, marked <c>remote</c> (no preview here; <c>owner_api</c> is where they are).
    /// </summary>
    private static List<JsonNode?> WithFleet(List<JsonNode?> local, List<JsonObject> fleet)
    {
        var mine = local.OfType<JsonObject>().Where(o => (string?)o["id"] is not null).ToDictionary(o => (string)o["id"]!, StringComparer.Ordinal);
        var list = new List<JsonNode?>(fleet.Count);
        foreach (var f in fleet)
        {
            string? id = (string?)f["id"];
            if (id is null) continue;
            string? owner = (string?)f["owner"];
            // Streams of another instance (or of none yet) carry owner_api, even when it is null.
            bool elsewhere = f.ContainsKey("owner_api");
            if (!elsewhere && mine.TryGetValue(id, out var o))
            {
                o["owner"] = owner;
                o["remote"] = false;
                list.Add(o);
                continue;
            }
            var r = (JsonObject)f.DeepClone();
            string status = (string?)r["status"] ?? "unknown";
            r["state"] = status == "running" ? (string?)r["source_state"] ?? status : status;
            if (status == "running" && r["source_state_since"] is JsonNode since) r["since"] = since.DeepClone();
            r["preview"] = false;
            r["remote"] = elsewhere;
            list.Add(r);
        }
        return list;
    }

    private DateTimeOffset Seen(string id, string state, DateTimeOffset now)
    {
        var entry = _seen.AddOrUpdate(id, _ => (state, now), (_, old) => old.State == state ? old : (state, now));
        return entry.Since;
    }

    private IResult QueryEvents(HttpRequest r)
    {
        var errors = new List<ConfigError>();
        var q = new EventQuery
        {
            Stream = Text(r, "stream"),
            Type = Text(r, "type"),
            Class = Text(r, "class"),
            Since = Time(r, "since", errors),
            Until = Time(r, "until", errors),
            Before = Number(r, "before", 1, long.MaxValue, errors),
            Limit = (int)(Number(r, "limit", 1, 1000, errors) ?? 100),
        };
        if (errors.Count > 0) return Errors(errors, 400);
        if (Events is null) return Results.Json(new { events = Array.Empty<object>(), enabled = false }, s_json);
        var list = Events.Query(q).Select(e => new
        {
            id = e.Id,
            time = e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
            stream = e.Stream,
            type = e.Type,
            @class = e.Class,
            track_id = e.TrackId,
            region = e.Region,
            direction = e.Direction,
            score = e.Score,
            duration_seconds = e.DurationSeconds,
            box = e.Box is { } b ? new[] { b.X1, b.Y1, b.X2, b.Y2 } : null,
            frame_width = e.FrameWidth,
            frame_height = e.FrameHeight,
            snapshot = e.SnapshotId is { } s ? $"/api/snapshots/{s}" : null,
            @event = JsonNode.Parse(e.Json),
        }).ToList();
        return Results.Json(new { events = list, enabled = true }, s_json);
    }

    private IResult QueryCharts(HttpRequest r)
    {
        if (Charts is null) return Error(404, "charts are off (the HTTP server is off)");
        var errors = new List<ConfigError>();
        string key = Text(r, "stream") ?? ChartRecorder.Instance;
        double minutes = Number(r, "minutes", 1, 7 * 24 * 60, errors) ?? 15;
        if (errors.Count > 0) return Errors(errors, 400);
        if (!Charts.TryGet(key, DateTimeOffset.UtcNow.AddMinutes(-minutes), out var samples))
        {
            // A stream with no sample yet (just started) has an empty chart; an unknown one is an error.
            if (key.Length > 0 && !Manager.TryGet(key, out _)) return Error(404, $"no stream '{key}'");
        }
        return Results.Json(new
        {
            stream = key,
            sample_seconds = Charts.Options.SampleSeconds,
            streams = Charts.Keys.Where(k => k.Length > 0).ToList(),
            samples = samples.Select(s => new
            {
                t = s.Time.ToUnixTimeMilliseconds(),
                fps = s.Fps,
                latency_p50_ms = s.LatencyP50Ms,
                latency_p95_ms = s.LatencyP95Ms,
                latency_p99_ms = s.LatencyP99Ms,
                drops = s.Drops,
                objects = s.Objects,
                detector_ms = s.DetectorMs,
                events = s.Events,
            }).ToList(),
        }, s_json);
    }

    private static string? Text(HttpRequest r, string name) => r.Query.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v.ToString()) ? v.ToString() : null;

    private static long? Number(HttpRequest r, string name, long min, long max, List<ConfigError> errors)
    {
        var s = Text(r, name);
        if (s is null) return null;
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= min && n <= max) return n;
        errors.Add(new ConfigError(name, $"must be a whole number {min}..{max}, got '{s}'"));
        return null;
    }

    /// <summary>ISO 8601 (<c>2026-12-01T10:00:00Z</c>), Unix milliseconds, or minutes back from now (<c>-90m</c>, <c>-2h</c>).</summary>
    private static DateTimeOffset? Time(HttpRequest r, string name, List<ConfigError> errors)
    {
        var s = Text(r, name);
        if (s is null) return null;
        if (long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long ms)) return DateTimeOffset.FromUnixTimeMilliseconds(ms);
        if (s.Length > 2 && s[0] == '-' && s[^1] is 'm' or 'h' or 'd' && double.TryParse(s[1..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double back) && back >= 0)
            return DateTimeOffset.UtcNow - (s[^1] == 'm' ? TimeSpan.FromMinutes(back) : s[^1] == 'h' ? TimeSpan.FromHours(back) : TimeSpan.FromDays(back));
        if (DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)) return t;
        errors.Add(new ConfigError(name, $"must be an ISO 8601 time (2026-12-01T10:00:00Z), Unix milliseconds or a time back from now (-90m, -2h, -7d), got '{s}'"));
        return null;
    }

    private static async Task<string> ReadBodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body);
        return await reader.ReadToEndAsync().ConfigureAwait(false);
    }

    /// <summary>A copy without the null-valued keys (unset options): a definition leaves them out, as a configuration file does.</summary>
    private static JsonNode? WithoutNulls(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.Where(kv => kv.Value is not null).Select(kv => KeyValuePair.Create(kv.Key, WithoutNulls(kv.Value)))),
        JsonArray a => new JsonArray(a.Select(WithoutNulls).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    private static IResult Error(int status, string message) => Results.Json(new { errors = new[] { message } }, s_json, statusCode: status);

    /// <summary>Errors as the API gives them (<c>"path: message"</c>) and by field (<c>{path, message}</c>) for the forms.</summary>
    private static IResult Errors(IReadOnlyList<ConfigError> errors, int status = 400) => Results.Json(new
    {
        errors = errors.Select(e => e.ToString()).ToList(),
        fields = errors.Select(e => new { path = e.Path, message = e.Message }).ToList(),
    }, s_json, statusCode: status);

    private static readonly ConcurrentDictionary<string, (byte[] Bytes, string Type)?> s_assets = new(StringComparer.Ordinal);
    private static readonly HashSet<string> s_assetNames = Assembly.GetExecutingAssembly().GetManifestResourceNames()
        .Where(n => n.StartsWith("StreamVision.App.Http.ui.", StringComparison.Ordinal)).Select(n => n["StreamVision.App.Http.ui.".Length..]).ToHashSet(StringComparer.Ordinal);

    /// <summary>The interface's static files, embedded in the assembly (Http/ui/*): no build step, no CDN.</summary>
    private static IResult Asset(string file)
    {
        if (!s_assetNames.Contains(file)) return Error(404, $"no file '{file}'");
        var asset = s_assets.GetOrAdd(file, f =>
        {
            using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("StreamVision.App.Http.ui." + f);
            if (s is null) return null;
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            string type = System.IO.Path.GetExtension(f) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                ".svg" => "image/svg+xml",
                _ => "application/octet-stream",
            };
            return (ms.ToArray(), type);
        });
        return asset is { } a ? Results.Bytes(a.Bytes, a.Type) : Error(404, $"no file '{file}'");
    }

    public void Dispose()
    {
        Charts?.Dispose();
        Events?.Dispose();
    }
}
