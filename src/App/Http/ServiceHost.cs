using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;
using StreamVision.App.Config;
using StreamVision.App.Service;
using StreamVision.Cluster;
using StreamVision.Core;
using StreamVision.Pipeline;

namespace StreamVision.App.Http;

/// <summary>
/// The long-running service: the <see cref="StreamManager"/> plus the HTTP server (dashboard at /, JSON API under /api,
/// Prometheus /metrics, /healthz, /readyz). Stops gracefully: sources stop, queues drain within the deadline, every
/// output is finalised.
/// </summary>
public sealed partial class ServiceHost : IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = false,
    };

    private readonly WebApplication? _web;
    private readonly ProcessMetrics? _process;
    private readonly WebUi _ui;
    private readonly ILogger _logger;
    private readonly StackTraceOnce _stacks = new();
    private readonly ApiAccess? _access;
    private readonly ApiOutputPolicy? _outputs;
    private int _disposed;

    private ServiceHost(StreamManager manager, WebApplication? web, ProcessMetrics? process, ConfigReloader? reloader, WebUi ui, ILogger logger, ClusterCoordinator? cluster,
        ApiAccess? access, ApiOutputPolicy? outputs)
    {
        _ui = ui;
        Manager = manager;
        _web = web;
        _process = process;
        Reloader = reloader;
        _logger = logger;
        Cluster = cluster;
        _access = access;
        _outputs = outputs;
    }

    /// <summary>Where streams added through the API may write (null with HTTP off).</summary>
    public ApiOutputPolicy? Outputs => _outputs;

    /// <summary>The rate-limiting policy on stream additions, removals, reloads and logins.</summary>
    private const string ChangesPolicy = "changes";

    public StreamManager Manager { get; }
    /// <summary>Reloads the configuration file (SIGHUP, <c>POST /api/reload</c>), one reload at a time; null when the service was started without a file.</summary>
    public ConfigReloader? Reloader { get; }
    /// <summary>This instance's membership of its cluster (the <c>cluster:</c> section), or null when it stands alone.</summary>
    public ClusterCoordinator? Cluster { get; }
    /// <summary>What <c>/metrics</c> serves: every stage of every stream of this service, on a registry of its own.</summary>
    public PipelineMetrics Metrics => Manager.Metrics;
    /// <summary>The web interface's storage: state file, event store, chart samples.</summary>
    public WebUi Ui => _ui;
    /// <summary>Where the HTTP server listens (the real port when the config asked for port 0), or null when off.</summary>
    public Uri? Address { get; private set; }

    /// <param name="metrics">Where the service's stages record and what /metrics serves; null = a new registry of its own
    /// (services in one process stay independent, see <see cref="PipelineMetrics"/>).</param>
    /// <param name="configPath">The file <paramref name="config"/> came from: what <see cref="Reloader"/> reads again; null = no reloading.</param>
    /// <param name="clusterSeeds">With a <c>cluster:</c> section: stream definitions to add to the cluster's list when
    /// missing (the configuration file's <c>streams:</c>, see <see cref="StreamSpecs.FromConfigFile"/>). In a cluster
    /// <paramref name="config"/>'s own streams are not started here: the cluster decides which instance runs what.</param>
    public static async Task<ServiceHost> StartAsync(SvConfig config, ILoggerFactory loggers, PipelineMetrics? metrics = null, string? configPath = null,
        IReadOnlyList<(string Id, string Spec)>? clusterSeeds = null)
    {
        var logger = loggers.CreateLogger("streamvision");
        // Refused before anything starts: a non-loopback address without a token (the options say so too), an unreadable token file.
        config.Http.Validate();
        var access = config.Http.Listen.Length > 0 ? ApiAccess.From(config.Http) : null;
        var outputs = config.Http.Listen.Length > 0 ? new ApiOutputPolicy(config.Http, config.Instance) : null;
        metrics ??= new PipelineMetrics();
        // Process and runtime figures only where /metrics serves them (with HTTP off nobody would read them).
        var process = config.Http.Listen.Length > 0 ? new ProcessMetrics(metrics, config.Instance) : null;
        StreamManager? manager = null;
        WebUi? ui = null;
        ClusterCoordinator? cluster = null;
        try
        {
            // The web interface's state file (browser changes) applies over the configuration; see WebUi. In a cluster
            // the camera list is the cluster's: the state file keeps only zones and lines, applied as streams start here.
            ui = WebUi.Open(config, configPath, config.Http.Listen.Length > 0, logger);
            if (config.Cluster is null) config = ui.State.Apply(config);
            manager = new StreamManager(config.Cluster is null ? config : config with { Streams = [] }, loggers, metrics);
            ui.Attach(manager, config.Http.Listen.Length > 0, clustered: config.Cluster is not null);
            if (config.Cluster is { } co)
            {
                cluster = new ClusterCoordinator(co with { InstanceId = config.Instance }, new ClusterStreams(manager, outputs ?? new ApiOutputPolicy(config.Http, config.Instance), ui.State.ApplyRegions), loggers.CreateLogger("cluster"), metrics);
                ui.Cluster = cluster;
                if (clusterSeeds is not null) cluster.Seed(clusterSeeds);
                else if (config.Streams.Count > 0)
                    logger.LogWarning("cluster: the {Count} stream(s) of the configuration were not handed over; add them with POST /api/streams", config.Streams.Count);
            }
            WebApplication? web = null;
            if (config.Http.Listen.Length > 0)
            {
                var builder = WebApplication.CreateSlimBuilder();
                builder.Logging.ClearProviders();
                builder.Services.AddSingleton(loggers);
                builder.WebHost.UseUrls(config.Http.Listen);
                builder.WebHost.ConfigureKestrel(k =>
                {
                    k.AddServerHeader = false;
                    // Bodies beyond the limit are refused (413) before they are read: a large POST costs no memory.
                    k.Limits.MaxRequestBodySize = config.Http.MaxBodyBytes;
                });
                int perMinute = config.Http.ChangesPerMinute;
                builder.Services.AddRateLimiter(o =>
                {
                    o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
                    o.OnRejected = async (ctx, ct) =>
                    {
                        if (ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                            ctx.HttpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                        await ctx.HttpContext.Response.WriteAsJsonAsync(new { errors = new[] { $"too many changes: at most {perMinute} per minute (http.changes_per_minute)" } }, s_json, ct)
                            .ConfigureAwait(false);
                    };
                    // One bucket per client address, refilled evenly: a burst of perMinute, then one every 60/perMinute s.
                    o.AddPolicy(ChangesPolicy, ctx => perMinute == 0
                        ? RateLimitPartition.GetNoLimiter("")
                        : RateLimitPartition.GetTokenBucketLimiter(ctx.Connection.RemoteIpAddress?.ToString() ?? "", _ => new TokenBucketRateLimiterOptions
                        {
                            TokenLimit = perMinute,
                            TokensPerPeriod = 1,
                            ReplenishmentPeriod = TimeSpan.FromSeconds(60.0 / perMinute),
                            QueueLimit = 0,
                            AutoReplenishment = true,
                        }));
                });
                web = builder.Build();
            }
            // In a cluster a reload hands the file's new streams to the cluster's list instead of starting them here.
            var reloader = configPath is null ? null
                : cluster is null ? new ConfigReloader(configPath, manager, logger)
                : new ConfigReloader(configPath, manager, logger, _ => Task.FromResult(ReloadCluster(cluster, configPath, logger)));
            var host = new ServiceHost(manager, web, process, reloader, ui, logger, cluster, access, outputs);
            if (web is not null)
            {
                host.Map(web);
                try
                {
                    await web.StartAsync().ConfigureAwait(false);
                }
                catch (IOException ex)
                {
                    // Kestrel's "Failed to bind to address ...: address already in use.": say which key chose the address.
                    throw new IOException($"http.listen: {ex.Message}", ex);
                }
                var addresses = web.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
                    .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()?.Addresses;
                var addr = addresses?.FirstOrDefault() ?? web.Urls.FirstOrDefault();
                host.Address = addr is null ? null : new Uri(addr);
                logger.LogInformation("dashboard and API on {Address} ({Auth}); API streams write under {Root}", host.Address,
                    access!.Token is null ? "no token" : "token required", outputs!.Root);
            }
            cluster?.Start(AdvertisedUrl(host.Address));
            await manager.StartAsync().ConfigureAwait(false);
            return host;
        }
        catch
        {
            if (cluster is not null) await cluster.DisposeAsync().ConfigureAwait(false);
            if (manager is not null) await manager.DisposeAsync().ConfigureAwait(false);
            ui?.Dispose();
            process?.Dispose();
            throw;
        }
    }

    private void Map(WebApplication web)
    {
        // Kestrel's own logging is off (the service logs through its factory): an endpoint that throws is logged here,
        // with its stack the first time, and answered with a JSON error.
        web.Use(async (HttpContext ctx, RequestDelegate next) =>
        {
            try
            {
                await next(ctx).ConfigureAwait(false);
            }
            catch (BadHttpRequestException ex) when (!ctx.Response.HasStarted)
            {
                // Kestrel's own refusals: a body over http.max_body_bytes (413), a malformed or truncated request (400).
                ctx.Response.Clear();
                ctx.Response.StatusCode = ex.StatusCode;
                string why = ex.StatusCode == StatusCodes.Status413PayloadTooLarge
                    ? $"request body larger than {_access!.MaxBodyBytes} bytes (http.max_body_bytes)"
                    : ex.Message;
                await ctx.Response.WriteAsJsonAsync(new { errors = new[] { why } }, s_json).ConfigureAwait(false);
            }
            catch (Exception ex) when (!ctx.RequestAborted.IsCancellationRequested)
            {
                if (_stacks.IsFirst(ex)) _logger.LogError(ex, "HTTP {Method} {Path} failed: {Error}", ctx.Request.Method, ctx.Request.Path.Value, ex.Message);
                else _logger.LogError("HTTP {Method} {Path} failed: {Error}", ctx.Request.Method, ctx.Request.Path.Value, ex.Message);
                if (!ctx.Response.HasStarted)
                {
                    ctx.Response.Clear();
                    ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
                    await ctx.Response.WriteAsJsonAsync(new { errors = new[] { $"{ex.GetType().Name}: {ex.Message}" } }, s_json).ConfigureAwait(false);
                }
            }
        });
        web.Use(async (HttpContext ctx, RequestDelegate next) =>
        {
            if (_access!.Allows(ctx)) await next(ctx).ConfigureAwait(false);
            else await ApiAccess.RefuseAsync(ctx).ConfigureAwait(false);
        });
        web.UseRateLimiter();
        web.MapGet("/", () => Results.Content(Dashboard.Value, "text/html; charset=utf-8"));
        web.MapPost(ApiAccess.LoginPath, async (HttpContext ctx) =>
        {
            string? token = null;
            try
            {
                using var doc = await JsonDocument.ParseAsync(ctx.Request.Body, default, ctx.RequestAborted).ConfigureAwait(false);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String)
                    token = t.GetString();
            }
            catch (JsonException)
            {
            }
            if (token is null) return Results.Json(new { errors = new[] { "body must be {\"token\": \"...\"}" } }, s_json, statusCode: 400);
            if (!_access!.Login(ctx, token)) return Results.Json(new { errors = new[] { "wrong token" } }, s_json, statusCode: 401);
            return Results.NoContent();
        }).RequireRateLimiting(ChangesPolicy);
        web.MapGet("/healthz", () => Results.Text("ok\n"));
        web.MapGet("/readyz", () => Manager.Ready && (Cluster is null || Cluster.IsMember) ? Results.Text("ready\n") : Results.Text("starting\n", statusCode: 503));
        // prometheus-net's exporter: text format 0.0.4, or OpenMetrics when the scraper asks for it (Accept header).
        web.MapMetrics(settings => settings.Registry = Manager.Metrics.Registry);
        web.MapPost("/api/reload", async () =>
        {
            if (Reloader is null) return Results.Json(new { errors = new[] { "the service was started without a configuration file" } }, s_json, statusCode: 404);
            var r = await Reloader.RequestAsync().ConfigureAwait(false);
            return Results.Json(new
            {
                applied = r.Applied,
                added = r.Added,
                removed = r.Removed,
                restarted = r.Restarted,
                errors = r.Errors.Select(e => e.ToString()).ToList(),
            }, s_json, statusCode: r.Ok ? 200 : r.Applied ? 422 : 400);
        }).RequireRateLimiting(ChangesPolicy);
        if (Cluster is not null)
        {
            MapCluster(web, Cluster);
        }
        else
        {
            MapStandalone(web);
        }
        _ui.Confine = cfg => _outputs!.Confine(cfg, Manager.Config.Sinks);
        _ui.Map(web, ChangesPolicy);
        web.MapGet("/api/streams/{id}/preview.mjpeg", async (string id, HttpContext ctx) =>
        {
            if (!Manager.Resources.Previews.TryGetValue(id, out var preview))
            {
                if (Cluster is not null && await OwnerApiAsync(id, ctx.RequestAborted).ConfigureAwait(false) is { } api)
                {
                    ctx.Response.Redirect($"{api.TrimEnd('/')}/api/streams/{Uri.EscapeDataString(id)}/preview.mjpeg");
                    return;
                }
                await NotFound(id).ExecuteAsync(ctx).ConfigureAwait(false);
                return;
            }
            ctx.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpResponseBodyFeature>()?.DisableBuffering();
            ctx.Response.ContentType = Sinks.MjpegPreviewSink.ContentType;
            ctx.Response.Headers.CacheControl = "no-cache, no-store";
            try
            {
                await preview.StreamAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The viewer went away.
            }
            catch (IOException)
            {
            }
        });
        web.MapGet("/api/streams/{id}/snapshot.jpg", async (string id, CancellationToken ct) =>
        {
            if (Manager.Resources.Previews.TryGetValue(id, out var preview) && preview.TryGetLatest(out var jpeg)) return Results.Bytes(jpeg, "image/jpeg");
            if (Cluster is not null && !Manager.TryGet(id, out _) && await OwnerApiAsync(id, ct).ConfigureAwait(false) is { } api)
                return Results.Redirect($"{api.TrimEnd('/')}/api/streams/{Uri.EscapeDataString(id)}/snapshot.jpg");
            return NotFound(id);
        });
    }

    /// <summary>A stand-alone instance: the API manages this instance's streams.</summary>
    private void MapStandalone(WebApplication web)
    {
        // Asked of an instance that is not in a cluster: say so, rather than an empty 404.
        web.MapGet("/api/cluster", () => Results.Json(new { errors = new[] { "this instance is not in a cluster (its configuration has no cluster: section)" } },
            s_json, statusCode: 404));
        web.MapGet("/api/streams", () => Results.Json(Manager.Streams.Select(Describe)
            .Concat(Manager.NotStarted.Select(n => DescribeNotStarted(n.Config, n.Error))).ToList(), s_json));
        web.MapGet("/api/streams/{id}", (string id) =>
            Manager.TryGet(id, out var h) ? Results.Json(Describe(h), s_json) : NotFound(id));
        web.MapPost("/api/streams", async (HttpRequest request) =>
        {
            StreamConfig cfg;
            string body;
            try
            {
                // Its sinks start from the instance's (as a configuration-file stream's do).
                var instanceSinks = Manager.Config.Sinks;
                (cfg, body) = await ReadStreamAsync(request, instanceSinks).ConfigureAwait(false);
                // What an API stream may write and where it may send (the configuration file's streams are the operator's,
                // and so is what it inherits from the instance's sinks).
                cfg = _outputs!.Confine(cfg, instanceSinks);
            }
            catch (ConfigException ex)
            {
                return Results.Json(new { errors = ex.Errors.Select(e => e.ToString()).ToList() }, s_json, statusCode: 400);
            }
            catch (OptionsException ex)
            {
                return Results.Json(new { errors = new[] { ex.Message } }, s_json, statusCode: 400);
            }
            try
            {
                var host = await Manager.AddAsync(cfg).ConfigureAwait(false);
                _ui.StreamAdded(host.Id, body);
                return Results.Json(Describe(host), s_json, statusCode: 201);
            }
            catch (StreamExistsException)
            {
                // Decided under the manager's gate: a reload or another request may have added it a moment ago.
                return Results.Json(new { errors = new[] { $"stream '{cfg.Id}' already exists" } }, s_json, statusCode: 409);
            }
            catch (ServiceStoppingException ex)
            {
                return Results.Json(new { errors = new[] { ex.Message } }, s_json, statusCode: 503);
            }
            catch (Exception ex) when (ex is StreamVisionException or IOException or UnauthorizedAccessException)
            {
                return Results.Json(new { errors = new[] { ex.Message } }, s_json, statusCode: 400);
            }
        }).RequireRateLimiting(ChangesPolicy);
        web.MapDelete("/api/streams/{id}", async (string id) =>
        {
            if (!await Manager.RemoveAsync(id).ConfigureAwait(false)) return NotFound(id);
            _ui.StreamRemoved(id);
            return Results.NoContent();
        }).RequireRateLimiting(ChangesPolicy);
    }

    /// <summary>
    /// A stream from a POST body: JSON parsed from the request stream (never held as one string), or YAML when the content
    /// type says so (read whole, but never beyond <c>http.max_body_bytes</c>: Kestrel stops the read). Also returns the
    /// definition as text (the JSON re-serialised, or the YAML), which the web interface's state file keeps.
    /// </summary>
    private static async Task<(StreamConfig Config, string Body)> ReadStreamAsync(HttpRequest request, SinksConfig instanceSinks)
    {
        if (request.ContentType is { } type && type.Contains("yaml", StringComparison.OrdinalIgnoreCase))
        {
            using var reader = new StreamReader(request.Body);
            string yaml = await reader.ReadToEndAsync(request.HttpContext.RequestAborted).ConfigureAwait(false);
            return (ConfigLoader.LoadStream(yaml, sinks: instanceSinks), yaml);
        }
        try
        {
            // Read whole (http.max_body_bytes bounds it), then parsed: parsing from the stream grows its buffers in the shared
            // array pool, which kept them (1 and 2 MB each, 18 MB after 56 refused chunked bodies) for as long as the process ran.
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body, request.HttpContext.RequestAborted).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length), new JsonDocumentOptions { MaxDepth = 16 });
            return (ConfigLoader.LoadStream(doc.RootElement, sinks: instanceSinks), doc.RootElement.GetRawText());
        }
        catch (JsonException ex)
        {
            throw new ConfigException("stream", [new ConfigError("(body)", $"not valid JSON: {ex.Message} (send YAML with Content-Type: application/yaml)")]);
        }
    }

    private static object DescribeNotStarted(StreamConfig c, string error) => new
    {
        id = c.Id,
        uri = Ingest.SourceUri.Redact(c.Source.Uri),
        status = "failed",
        source_state = "idle",
        error,
        frames = 0,
    };

    private static IResult NotFound(string id) => Results.Json(new { errors = new[] { $"no stream '{id}'" } }, s_json, statusCode: 404);

    /// <summary>The API's view of a stream.</summary>
    public static object Describe(StreamHost h)
    {
        var src = h.Source;
        var info = src.Info;
        return new
        {
            id = h.Id,
            uri = Ingest.SourceUri.Redact(h.Config.Source.Uri),
            live = src.IsLive,
            status = h.Status.ToString().ToLowerInvariant(),
            source_state = src.State.ToString().ToLowerInvariant(),
            source_state_since = src.StateSince.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            // What is wrong now (cleared when a live source recovers); the last failure stays visible with its time.
            error = h.Error ?? src.CurrentError?.Message,
            last_error = src.LastError is { } last ? new { message = last.Message, at = src.LastErrorTime } : null,
            width = info?.Width ?? 0,
            height = info?.Height ?? 0,
            fps = Math.Round(h.Fps, 2),
            latency_ms = Math.Round(h.Latency.TotalMilliseconds, 1),
            frames = h.Stats.Frames,
            detections = h.Stats.Detections,
            tracks = h.Stats.Tracks,
            active_tracks = h.Stats.ActiveTracks,
            events = h.Stats.Events,
            drops = src.FramesDropped + h.Sinks.Sum(s => s.Dropped),
            source_drops = src.FramesDropped,
            reconnects = src.Reconnects,
            queue_depth = src.QueueDepth,
            camera = h.Stats.CameraState,
            sinks = h.Sinks.Select(s =>
            {
                var health = s.Health;
                var ev = s.Sink as StreamVision.Sinks.IEventSinkCounts;
                return new
                {
                    // written/dropped count frames handed to the sink; events_* count events (event sinks only, else null).
                    name = s.Sink.Name, written = s.Written, dropped = s.Dropped, errors = s.Errors, queue = s.QueueDepth,
                    faulted = health.State == StreamVision.Sinks.SinkState.Faulted,
                    state = health.State.ToString().ToLowerInvariant(), reason = health.Reason, since = health.Since,
                    events_delivered = ev?.EventsDelivered, events_dropped = ev?.EventsGivenUp, events_buffered = ev?.EventsBuffered,
                };
            }).ToList(),
        };
    }

    private static readonly Lazy<string> Dashboard = new(() =>
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("StreamVision.App.Http.dashboard.html")
            ?? throw new InvalidOperationException("dashboard.html is not embedded");
        using var r = new StreamReader(s);
        return r.ReadToEnd();
    });

    /// <summary>
    /// Stops the streams (drain within the deadline, finalise outputs), then the HTTP server. In a cluster it first
    /// leaves it: its streams stop here and the lease is revoked, so the others take them at once. Idempotent.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        if (Cluster is not null) await Cluster.DisposeAsync().ConfigureAwait(false);
        await Manager.DisposeAsync().ConfigureAwait(false);
        // A reload asked for meanwhile finds the manager stopping and changes nothing; wait for it to say so.
        if (Reloader is not null) await Reloader.Idle.ConfigureAwait(false);
        if (_web is not null)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _web.StopAsync(cts.Token).ConfigureAwait(false);
            await _web.DisposeAsync().ConfigureAwait(false);
        }
        _ui.Dispose();
        _process?.Dispose();
        _logger.LogInformation("stopped");
    }
}
