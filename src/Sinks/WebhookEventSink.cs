using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>Where and how a stream's events are POSTed. Check with <see cref="Validate"/> (the sink does).</summary>
public sealed record WebhookOptions
{
    /// <summary>http:// or https:// URL that receives the POSTs.</summary>
    public required string Url { get; init; }
    /// <summary>This instance's id (the <c>instance</c> field of each event). Default "local".</summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";
    /// <summary>
    /// Events per request: 1 = the body is one event object; more = the body is a JSON array of up to this many (whatever
    /// is queued; fewer requests under load). 1..1000, default 1.
    /// </summary>
    [OptionRange(1, 1000)]
    public int MaxBatch { get; init; } = 1;
    /// <summary>
    /// Events held while the server is slow or down; beyond it the oldest are dropped and counted. Bigger survives longer
    /// outages, at about 0.5 KB per event. 1..1,000,000, default 1000.
    /// </summary>
    [OptionKey("buffer"), OptionRange(1, 1_000_000)]
    public int BufferCapacity { get; init; } = 1000;
    /// <summary>Tries per request, the first included; then its events are dropped and counted. 1..100, default 5.</summary>
    [OptionRange(1, 100)]
    public int MaxAttempts { get; init; } = 5;
    /// <summary>Seconds before the first retry; doubles per retry up to <see cref="MaxBackoffSeconds"/> (a Retry-After header may ask for longer). Default 0.5.</summary>
    [OptionRange(0.001, 3600)]
    public double InitialBackoffSeconds { get; init; } = 0.5;
    /// <summary>Longest wait between tries, seconds; at least <see cref="InitialBackoffSeconds"/>. Default 30.</summary>
    [OptionRange(0.001, 3600)]
    public double MaxBackoffSeconds { get; init; } = 30;
    /// <summary>Seconds one request may take (connect to response headers) before it counts as failed. Default 10.</summary>
    [OptionRange(0.05, 600)]
    public double RequestTimeoutSeconds { get; init; } = 10;
    /// <summary>On stop, seconds the sink keeps delivering what is queued; the rest is dropped and counted. 0 = drop at once. Default 5.</summary>
    [OptionRange(0, 600)]
    public double DrainTimeoutSeconds { get; init; } = 5;
    /// <summary>Extra request headers, e.g. <c>Authorization: Bearer ...</c>. Null = none.</summary>
    [OptionSecret]
    public IReadOnlyDictionary<string, string>? Headers { get; init; }

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "sinks.webhook")
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw new OptionsException($"{path}.url", $"must be an absolute http:// or https:// URL, got '{Url}'");
        if (string.IsNullOrWhiteSpace(InstanceId)) throw new OptionsException($"{path}.instance", "is required");
        if (MaxBatch is < 1 or > 1000) throw new OptionsException($"{path}.max_batch", $"must be 1..1000, got {MaxBatch}");
        if (BufferCapacity is < 1 or > 1_000_000) throw new OptionsException($"{path}.buffer", $"must be 1..1000000, got {BufferCapacity}");
        if (MaxAttempts is < 1 or > 100) throw new OptionsException($"{path}.max_attempts", $"must be 1..100, got {MaxAttempts}");
        OptionChecks.Seconds(InitialBackoffSeconds, $"{path}.initial_backoff_seconds", 0.001, 3600);
        OptionChecks.Seconds(MaxBackoffSeconds, $"{path}.max_backoff_seconds", InitialBackoffSeconds, 3600);
        OptionChecks.Seconds(RequestTimeoutSeconds, $"{path}.request_timeout_seconds", 0.05, 600);
        OptionChecks.Seconds(DrainTimeoutSeconds, $"{path}.drain_timeout_seconds", 0, 600);
        if (Headers is not null)
        {
            foreach (var (k, v) in Headers)
            {
                if (string.IsNullOrWhiteSpace(k) || k.Any(c => c <= ' ' || c == ':' || c > '~'))
                    throw new OptionsException($"{path}.headers", $"'{k}' is not a valid header name");
                if (v is null || v.Any(c => c is '\r' or '\n')) throw new OptionsException($"{path}.headers.{k}", "value must be one line");
            }
        }
    }
}

/// <summary>
/// POSTs a stream's events as JSON (schema <see cref="EventJson.SchemaVersion"/>) to a web server, one event or a batch
/// per request, retrying failures (network errors, timeouts, 408, 425, 429, 5xx) with exponential backoff. Never blocks
/// the pipeline: <see cref="WriteAsync"/> only queues into a bounded buffer whose oldest events are dropped and counted
/// when the server cannot keep up. Other 4xx answers are final: those events are dropped as rejected.
/// </summary>
public sealed class WebhookEventSink : ISink, ISinkHealth, IEventSinkCounts
{
    private readonly SinkHealthTracker _health = new();
    private readonly WebhookOptions _options;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly ILogger _logger;
    private readonly EventBuffer<AnalyticsEvent> _buffer;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly SinkMetrics _metrics;
    private readonly IDisposable _gauge;
    private volatile int _inFlight;
    private long _sent, _requests, _retries, _droppedOverflow, _droppedFailed, _droppedRejected, _droppedShutdown;
    private int _stopping, _disposed;

    /// <param name="options">URL, batching, retries (validated here).</param>
    /// <param name="streamId">The stream whose events this sink posts (metrics, logs).</param>
    /// <param name="httpClient">A shared client (its own timeout should be infinite; this sink times each request); null = one of its own.</param>
    /// <param name="logger">Failures and drops.</param>
    /// <param name="metrics">Where sent, dropped and retried events and the buffer depth are recorded; null = <see cref="PipelineMetrics.Default"/>.</param>
    public WebhookEventSink(WebhookOptions options, string streamId, HttpClient? httpClient = null, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        options.Validate();
        _options = options;
        StreamId = streamId;
        _logger = logger ?? NullLogger.Instance;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectTimeout = TimeSpan.FromSeconds(options.RequestTimeoutSeconds),
        })
        { Timeout = Timeout.InfiniteTimeSpan };
        _buffer = new EventBuffer<AnalyticsEvent>(options.BufferCapacity);
        _metrics = new SinkMetrics(metrics, streamId, Name);
        _gauge = _metrics.Register(SinkMetrics.Gauge.EventBufferDepth, () => Buffered);
        _loop = Task.Run(RunAsync);
    }

    public string Name => "webhook";
    public string StreamId { get; }
    /// <summary>Events the server accepted (2xx).</summary>
    public long Sent => Interlocked.Read(ref _sent);
    /// <summary>HTTP requests made, retries included.</summary>
    public long Requests => Interlocked.Read(ref _requests);
    /// <summary>Requests that were retries.</summary>
    public long Retries => Interlocked.Read(ref _retries);
    /// <summary>All events given up on.</summary>
    public long Dropped => DroppedOverflow + DroppedFailed + DroppedRejected + DroppedAtShutdown;
    /// <summary>Events pushed out of a full buffer.</summary>
    public long DroppedOverflow => Interlocked.Read(ref _droppedOverflow);
    /// <summary>Events whose request failed <see cref="WebhookOptions.MaxAttempts"/> times.</summary>
    public long DroppedFailed => Interlocked.Read(ref _droppedFailed);
    /// <summary>Events the server refused for good (4xx other than 408, 425, 429).</summary>
    public long DroppedRejected => Interlocked.Read(ref _droppedRejected);
    /// <summary>Events still undelivered when the sink stopped.</summary>
    public long DroppedAtShutdown => Interlocked.Read(ref _droppedShutdown);
    /// <summary>Events queued or being sent.</summary>
    public int Buffered => _buffer.Count + _inFlight;
    /// <summary>
    /// Connected after a request succeeded; buffering while requests fail and are retried (events wait in the buffer);
    /// faulted once a batch was given up after all attempts, until a request succeeds again.
    /// </summary>
    long IEventSinkCounts.EventsDelivered => Sent;
    long IEventSinkCounts.EventsGivenUp => Dropped;
    int IEventSinkCounts.EventsBuffered => Buffered;

    public SinkHealth Health => _health.Current;

    /// <summary>Queues the item's events and returns at once (never waits for the server).</summary>
    public ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        foreach (var e in item.Events)
        {
            if (_loop.IsCompleted)
            {
                Drop(ref _droppedShutdown, 1, "shutdown");
                continue;
            }
            if (_buffer.Add(e, out _)) Drop(ref _droppedOverflow, 1, "overflow");
        }
        return ValueTask.CompletedTask;
    }

    /// <summary>Keeps delivering for up to <see cref="WebhookOptions.DrainTimeoutSeconds"/>, then stops (the rest is dropped and counted).</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(_options.DrainTimeoutSeconds * Stopwatch.Frequency);
        while (Buffered > 0 && Stopwatch.GetTimestamp() < deadline && !_loop.IsCompleted && !ct.IsCancellationRequested)
        {
            // The stream's stop deadline ends the drain early; what is still buffered is dropped and counted by the stop.
            try
            {
                await Task.Delay(20, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }
        }
        await StopAsync().ConfigureAwait(false);
    }

    /// <summary>Stops without draining; idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        await StopAsync().ConfigureAwait(false);
        _gauge.Dispose();
        _stop.Dispose();
        if (_ownsHttp) _http.Dispose();
    }

    private async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 0) _stop.Cancel();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var ct = _stop.Token;
        var batch = new List<AnalyticsEvent>(_options.MaxBatch);
        try
        {
            while (true)
            {
                await _buffer.WaitAsync(ct).ConfigureAwait(false);
                batch.Clear();
                _inFlight = Math.Min(_options.MaxBatch, _buffer.Count); // never 0 while events move from buffer to batch (drain waits on it)
                _inFlight = _buffer.TakeUpTo(_options.MaxBatch, batch);
                if (batch.Count == 0) continue;
                await DeliverAsync(batch, ct).ConfigureAwait(false);
                _inFlight = 0;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "stream {Stream}: webhook sender failed; events are no longer sent", StreamId);
        }
        int left = _inFlight + _buffer.TakeAll().Count;
        _inFlight = 0;
        if (left > 0)
        {
            Drop(ref _droppedShutdown, left, "shutdown");
            _logger.LogWarning("stream {Stream}: webhook stopped with {Count} undelivered events", StreamId, left);
        }
    }

    private async Task DeliverAsync(List<AnalyticsEvent> batch, CancellationToken ct)
    {
        byte[] body = _options.MaxBatch == 1 ? EventJson.SerializeUtf8(batch[0], _options.InstanceId) : EventJson.SerializeUtf8(batch, _options.InstanceId);
        for (int attempt = 1; ; attempt++)
        {
            string failure;
            TimeSpan? retryAfter = null;
            Interlocked.Increment(ref _requests);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, _options.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
                request.Headers.TryAddWithoutValidation("X-StreamVision-Schema", EventJson.SchemaVersion);
                if (_options.Headers is not null) foreach (var (k, v) in _options.Headers) request.Headers.TryAddWithoutValidation(k, v);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
                timeout.CancelAfter(TimeSpan.FromSeconds(_options.RequestTimeoutSeconds));
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    _health.Set(SinkState.Connected);
                    Interlocked.Add(ref _sent, batch.Count);
                    _metrics.EventsSent.Inc(batch.Count);
                    return;
                }
                int code = (int)response.StatusCode;
                if (!IsRetryable(response.StatusCode))
                {
                    Drop(ref _droppedRejected, batch.Count, "rejected");
                    _logger.LogError("stream {Stream}: webhook {Url} rejected {Count} events with HTTP {Code}; not retried", StreamId, _options.Url, batch.Count, code);
                    return;
                }
                failure = $"HTTP {code}";
                retryAfter = response.Headers.RetryAfter?.Delta
                    ?? (response.Headers.RetryAfter?.Date is { } date ? date - DateTimeOffset.UtcNow : null);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                failure = $"no answer within {_options.RequestTimeoutSeconds} s";
            }
            catch (HttpRequestException ex)
            {
                failure = ex.Message;
            }
            if (attempt >= _options.MaxAttempts)
            {
                Drop(ref _droppedFailed, batch.Count, "failed");
                _health.Set(SinkState.Faulted, $"{failure}; {batch.Count} events dropped after {attempt} attempts");
                _logger.LogWarning("stream {Stream}: webhook {Url} failed {Attempts} times ({Error}); dropped {Count} events",
                    StreamId, _options.Url, attempt, failure, batch.Count);
                return;
            }
            Interlocked.Increment(ref _retries);
            _metrics.Retries.Inc();
            if (_health.Current.State != SinkState.Faulted) _health.Set(SinkState.Buffering, $"{failure}; retrying");
            var delay = Backoff(attempt);
            if (retryAfter is { } ra && ra > delay) delay = TimeSpan.FromSeconds(Math.Min(ra.TotalSeconds, _options.MaxBackoffSeconds));
            _logger.LogDebug("stream {Stream}: webhook attempt {Attempt} failed ({Error}); retrying in {Delay} ms", StreamId, attempt, failure, (int)delay.TotalMilliseconds);
            await Task.Delay(delay, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Initial * 2^(attempt-1), capped, with ±20 % jitter so many senders do not retry in step.</summary>
    private TimeSpan Backoff(int attempt)
    {
        double s = Math.Min(_options.MaxBackoffSeconds, _options.InitialBackoffSeconds * Math.Pow(2, attempt - 1));
        return TimeSpan.FromSeconds(s * (0.8 + 0.4 * Random.Shared.NextDouble()));
    }

    private static bool IsRetryable(HttpStatusCode code) =>
        code is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or (HttpStatusCode)425 || (int)code >= 500;

    private void Drop(ref long counter, int n, string reason)
    {
        Interlocked.Add(ref counter, n);
        _metrics.EventsDropped(reason).Inc(n);
    }
}
