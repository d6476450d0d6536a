using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Ingest;

/// <summary>
/// One stream: FFmpeg demux + decode on a dedicated thread, writing pooled BGR24 frames into the stream's own bounded
/// channel (<see cref="Frames"/>). Files wait for the consumer (every frame, in order) and complete the channel at the
/// end; live sources drop the oldest queued frame when the consumer lags (counted) and reconnect on any failure with
/// exponential backoff and jitter. A failure that ends the stream completes the channel with a <see cref="SourceException"/>;
/// other sources are unaffected.
/// </summary>
/// <remarks>
/// Ownership: a frame read from <see cref="Frames"/> is owned by the reader, which must <c>Dispose</c> it (or hand it on).
/// Frames the source drops go back to the pool at once; <see cref="DisposeAsync"/> returns frames left unread.
/// <code>
/// await using var source = new VideoSource(new SourceOptions { Uri = "rtsp://cam/stream" }, pool, logger).Start();
/// while (await source.Frames.WaitToReadAsync(ct))
///     while (source.Frames.TryRead(out var frame))
///         using (frame) { ... }
/// </code>
/// </remarks>
public sealed partial class VideoSource : IAsyncDisposable
{
    private readonly SourceOptions _options;
    private readonly FramePool _pool;
    private readonly ILogger _logger;
    private readonly Channel<Frame> _channel;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _loopDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private readonly IngestMetrics _metrics;
    private readonly MediaReaderOptions _readerOptions;
    private readonly ReconnectBackoff _backoff;
    private readonly FrameRateLimiter _limiter;
    private readonly string _redactedUrl;

    private MediaReader? _reader;          // guarded by _gate
    private Thread? _thread;               // guarded by _gate
    private bool _stopRequested;           // guarded by _gate
    private Task? _disposeTask;            // guarded by _gate
    private int _state;
    private MediaInfo? _info;
    private string _hardwareStatus = "";
    private Failure? _lastError;
    private long _framesDecoded;
    private long _framesDelivered;
    private long _framesSkipped;
    private long _framesDropped;
    private long _corruptPackets;
    private long _reconnectAttempts;
    private long _reconnects;

    /// <summary>Creates a source; nothing is opened until <see cref="Start"/>.</summary>
    /// <param name="options">Validated here; <see cref="OptionsException"/> names the bad field.</param>
    /// <param name="pool">Pool the frames come from (its byte cap bounds this source's memory); null = <see cref="FramePool.Shared"/>.</param>
    /// <param name="logger">Where connects, failures, reconnects and ends are logged; null = nowhere.</param>
    /// <param name="metrics">Where decoded, dropped and skipped frames, decode time, state and queue depth are recorded; null = <see cref="PipelineMetrics.Default"/>.</param>
    public VideoSource(SourceOptions options, FramePool? pool = null, ILogger? logger = null, PipelineMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _pool = pool ?? FramePool.Shared;
        _logger = logger ?? NullLogger.Instance;
        Resolved = options.Resolve();
        IsLive = !options.IsFile;
        // A live test pattern is a camera stand-in: pace it at its own rate (lavfi otherwise renders as fast as it can).
        if (IsLive && Resolved.Kind == SourceKind.TestPattern && !Resolved.Url.Contains("realtime", StringComparison.Ordinal))
            Resolved = Resolved with { Url = Resolved.Url + ",realtime" };
        StreamId = options.StreamId;
        _redactedUrl = SourceUri.Redact(Resolved.Url);
        _metrics = new IngestMetrics(metrics ?? PipelineMetrics.Default, this);
        _readerOptions = options.ToReaderOptions();
        _backoff = new ReconnectBackoff(options.ReconnectInitialDelay, options.ReconnectMaxDelay, options.ReconnectJitter);
        _limiter = new FrameRateLimiter(options.MaxFps);

        var channelOptions = new BoundedChannelOptions(options.ChannelCapacity)
        {
            // Files are lossless: the decoder waits for the consumer. Live stays real-time: the oldest frame goes.
            FullMode = IsLive ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
            SingleWriter = true,
            SingleReader = false,
            AllowSynchronousContinuations = false,
        };
        _channel = IsLive
            ? Channel.CreateBounded<Frame>(channelOptions, OnFrameDropped)
            : Channel.CreateBounded<Frame>(channelOptions);
    }

    /// <summary>The stream id every frame and metric of this source carries.</summary>
    public string StreamId { get; }

    public SourceOptions Options => _options;

    /// <summary>What FFmpeg opens (URL, forced format, kind).</summary>
    public ResolvedSource Resolved { get; }

    /// <summary>Live (drop oldest, reconnect) rather than file (wait, end).</summary>
    public bool IsLive { get; }

    /// <summary>
    /// The stream's frames, in decode order. Completes when the source ends (end of file, stopped) and with a
    /// <see cref="SourceException"/> when it fails. Every frame read must be disposed by the reader.
    /// </summary>
    public ChannelReader<Frame> Frames => _channel.Reader;

    public SourceState State => (SourceState)Volatile.Read(ref _state);

    /// <summary>What the current (or last) connection holds; null before the first open.</summary>
    public MediaInfo? Info => Volatile.Read(ref _info);

    /// <summary>Why hardware decode is or is not used on the current connection; empty when none was asked for.</summary>
    public string HardwareStatus => Volatile.Read(ref _hardwareStatus);

    /// <summary>The last failure (open, read, end of a live stream); null when none happened.</summary>
    public Exception? LastError => Volatile.Read(ref _lastError)?.Error;

    /// <summary>When <see cref="LastError"/> happened (UTC); null when none happened.</summary>
    public DateTimeOffset? LastErrorTime => Volatile.Read(ref _lastError)?.At;

    /// <summary>
    /// The failure the source is in now: <see cref="LastError"/> while it is failed, backing off or reconnecting after it;
    /// null once frames flow again (a live source that recovered) and for a source that never failed.
    /// </summary>
    public Exception? CurrentError => State is SourceState.Streaming ? null : LastError;

    /// <summary>Frames out of the decoder, also skipped and dropped ones.</summary>
    public long FramesDecoded => Interlocked.Read(ref _framesDecoded);

    /// <summary>Frames written to <see cref="Frames"/>.</summary>
    public long FramesDelivered => Interlocked.Read(ref _framesDelivered);

    /// <summary>Frames left out by <see cref="SourceOptions.MaxFps"/>.</summary>
    public long FramesSkipped => Interlocked.Read(ref _framesSkipped);

    /// <summary>Live only: frames lost because the consumer lagged (oldest dropped) or the pool was at its cap.</summary>
    public long FramesDropped => Interlocked.Read(ref _framesDropped);

    /// <summary>Packets the decoder rejected and skipped, over all connections.</summary>
    public long CorruptPackets => Interlocked.Read(ref _corruptPackets);

    /// <summary>Live only: reconnect attempts made (successful or not).</summary>
    public long ReconnectAttempts => Interlocked.Read(ref _reconnectAttempts);

    /// <summary>Live only: reconnect attempts that opened the stream again.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Frames waiting in the channel.</summary>
    public int QueueDepth => _channel.Reader.CanCount ? _channel.Reader.Count : 0;

    /// <summary>Completes when the decode loop has ended and the channel is complete (never faults: errors travel with the channel).</summary>
    public Task Completion => _loopDone.Task;

    /// <summary>True once <see cref="Start"/> was called.</summary>
    public bool IsStarted
    {
        get
        {
            lock (_gate) return _thread is not null;
        }
    }

    /// <summary>Starts the decode thread. Once only; returns this source for chaining.</summary>
    public VideoSource Start()
    {
        lock (_gate)
        {
            if (_stopRequested) throw new ObjectDisposedException(nameof(VideoSource), $"stream '{StreamId}' was stopped and cannot start again");
            if (_thread is not null) throw new InvalidOperationException($"stream '{StreamId}' is already started");
            _metrics.Start();
            SetState(SourceState.Connecting);
            _thread = new Thread(Run) { IsBackground = true, Name = $"sv-ingest-{StreamId}" };
            _thread.Start();
        }
        return this;
    }

    /// <summary>
    /// Stops decoding: ends any blocking open, read or backoff wait at once, completes the channel (frames already in it
    /// can still be read) and waits for the decode thread. Idempotent; safe before <see cref="Start"/>.
    /// </summary>
    public Task StopAsync()
    {
        bool first;
        bool started;
        lock (_gate)
        {
            first = !_stopRequested;
            _stopRequested = true;
            started = _thread is not null;
        }
        if (first)
        {
            _stop.Cancel();                 // ends a blocking open, a pool or channel wait, a backoff wait
            lock (_gate) _reader?.Interrupt();  // ends a blocking read
            if (!started)
            {
                _channel.Writer.TryComplete();
                SetState(SourceState.Ended);
                _loopDone.TrySetResult();
            }
        }
        return _loopDone.Task;
    }

    /// <summary>Stops (as <see cref="StopAsync"/>), returns unread frames to the pool and leaves the metrics. Idempotent.</summary>
    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            _disposeTask ??= DisposeCoreAsync();
            return new ValueTask(_disposeTask);
        }
    }

    private async Task DisposeCoreAsync()
    {
        await StopAsync().ConfigureAwait(false);
        while (_channel.Reader.TryRead(out var frame)) frame.Dispose();
        _metrics.Dispose();
        _stop.Dispose();
    }

    public override string ToString() => $"{StreamId} ({_redactedUrl}, {(IsLive ? "live" : "file")}, {State})";

    private void SetState(SourceState state)
    {
        if (Volatile.Read(ref _state) != (int)state) Volatile.Write(ref _stateSinceTicks, DateTimeOffset.UtcNow.UtcTicks);
        Volatile.Write(ref _state, (int)state);
    }

    private long _stateSinceTicks = DateTimeOffset.UtcNow.UtcTicks;

    /// <summary>When <see cref="State"/> last changed (UTC; creation time before the first change).</summary>
    public DateTimeOffset StateSince => new(Volatile.Read(ref _stateSinceTicks), TimeSpan.Zero);

    private void SetLastError(Exception error) => Volatile.Write(ref _lastError, new Failure(error, DateTimeOffset.UtcNow));

    /// <summary>A failure and its time, swapped as one.</summary>
    private sealed record Failure(Exception Error, DateTimeOffset At);

    private void OnFrameDropped(Frame frame)
    {
        frame.Dispose();
        Interlocked.Increment(ref _framesDropped);
        _metrics.DroppedQueueFull.Inc();
    }
}
