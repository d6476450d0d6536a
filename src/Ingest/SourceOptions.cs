using System.Globalization;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Ingest;

/// <summary>Whether a source is read as a file (lossless, ends) or as a live stream (real-time, reconnects).</summary>
public enum SourceMode
{
    /// <summary>From the URI: files and files over HTTP are <see cref="File"/>, everything else <see cref="Live"/>.</summary>
    Auto,
    /// <summary>Every frame is delivered (the channel waits for the consumer); the channel completes at the end.</summary>
    File,
    /// <summary>The oldest queued frame is dropped (and counted) when the consumer lags; failures and the end reconnect.</summary>
    Live,
}

/// <summary>How RTSP carries the media.</summary>
public enum RtspTransport
{
    /// <summary>Interleaved in the RTSP TCP connection: works through NAT and firewalls, no packet loss.</summary>
    Tcp,
    /// <summary>RTP over UDP: lower latency, but packets can be lost and firewalls may block it.</summary>
    Udp,
}

/// <summary>
/// One stream's ingest settings (one entry of <c>streams:</c> in the configuration). Every field has a usable default;
/// <see cref="Validate"/> names the first bad field.
/// </summary>
public sealed record SourceOptions
{
    /// <summary>
    /// Stream id carried by every frame, metric label, file name and topic (<c>{stream}</c> in templates). Empty (default):
    /// derived from <see cref="Uri"/> (file name, device, host_port_path).
    /// </summary>
    [OptionPattern("^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$", "1..64 letters, digits, '-', '_' or '.', not starting with '.'")]
    public string Id { get; init; } = "";

    /// <summary>What to read: a file path, rtsp://, http(s):// (also HLS .m3u8), udp://, srt://, /dev/videoN, <c>lavfi:GRAPH</c> or <c>testsrc</c>. Required.</summary>
    [OptionRequired]
    public string Uri { get; init; } = "";

    /// <summary>FFmpeg input format to force (<c>mpegts</c>, <c>v4l2</c>, ...). Null (default): from the URI, else probed.</summary>
    public string? Format { get; init; }

    /// <summary>File (lossless) or live (real-time, reconnecting) behaviour. Default <see cref="SourceMode.Auto"/>: from the URI.</summary>
    public SourceMode Mode { get; init; } = SourceMode.Auto;

    /// <summary>
    /// Frames per second to deliver at most, by skipping frames (timestamps stay those of the source). Trade-off: less
    /// work downstream vs. motion resolution for tracking. 0 (default) = every frame.
    /// </summary>
    [OptionRange(0, 1000)]
    public double MaxFps { get; init; }

    /// <summary>Files only: start over at the end, forever, with timestamps continuing. Default false.</summary>
    public bool Loop { get; init; }

    /// <summary>Decoder threads. 0 (default) = FFmpeg picks (one per core); with many streams, 1 or 2 each shares the cores better.</summary>
    [OptionRange(0, 64)]
    public int DecoderThreads { get; init; }

    /// <summary>Hardware decoder device (<c>cuda</c>, <c>vaapi</c>, ...). Null or empty (default) = software. Falls back to software with a logged reason.</summary>
    [OptionKey("hwaccel")]
    public string? HwAccel { get; init; }

    /// <summary>RTSP only: how media travels. Default <see cref="RtspTransport.Tcp"/>.</summary>
    public RtspTransport RtspTransport { get; init; } = RtspTransport.Tcp;

    /// <summary>Longest time connecting and opening may take. Default 10 s; zero = no limit (a dead camera then hangs the attempt until stopped).</summary>
    [OptionKey("open_timeout_seconds"), OptionRange(0, 86400)]
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest wait for the next packet; a live source that stalls longer reconnects. Default 5 s; zero = no limit.</summary>
    [OptionKey("read_timeout_seconds"), OptionRange(0, 86400)]
    public TimeSpan ReadTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Live only: wait before the first reconnect; doubles each failed attempt. Default 0.5 s; must be positive.</summary>
    [OptionKey("reconnect_initial_seconds"), OptionRange(0.01, 600)]
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Live only: the longest wait between reconnect attempts. Default 30 s; at least <see cref="ReconnectInitialDelay"/>.</summary>
    [OptionKey("reconnect_max_seconds"), OptionRange(0.01, 86400)]
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Live only: each wait is multiplied by a random factor in [1 - jitter, 1 + jitter] so that many cameras behind one
    /// failed switch do not reconnect in lockstep. 0..1, default 0.2; 0 = exact delays.
    /// </summary>
    [OptionRange(0, 1)]
    public double ReconnectJitter { get; init; } = 0.2;

    /// <summary>
    /// Live only: consecutive failed reconnect attempts after which the source gives up (state Failed, the channel completes
    /// with the last error). 0 (default) = retry forever.
    /// </summary>
    [OptionRange(0, int.MaxValue)]
    public int MaxReconnectAttempts { get; init; }

    /// <summary>Width of delivered frames in pixels. 0 (default) = the source's; only one of width/height set keeps the aspect ratio.</summary>
    [OptionKey("width"), OptionRange(0, 16384)]
    public int OutputWidth { get; init; }

    /// <summary>Height of delivered frames in pixels. 0 (default) = the source's; only one of width/height set keeps the aspect ratio.</summary>
    [OptionKey("height"), OptionRange(0, 16384)]
    public int OutputHeight { get; init; }

    /// <summary>
    /// Frames the stream's channel holds before the file source waits or the live source drops the oldest. Trade-off:
    /// smoothing of consumer hiccups vs. latency and memory. 1..1024, default 4.
    /// </summary>
    [OptionKey("queue"), OptionRange(1, 1024)]
    public int ChannelCapacity { get; init; } = 4;

    /// <summary>Extra FFmpeg demuxer/protocol options (e.g. <c>fflags=nobuffer</c>); one no component accepts is an error. Null (default) = none.</summary>
    public IReadOnlyDictionary<string, string>? FfmpegOptions { get; init; }

    /// <summary>Throws <see cref="OptionsException"/> naming <c>{path}.{field}</c> for the first invalid field.</summary>
    public void Validate(string path = "source")
    {
        if (string.IsNullOrWhiteSpace(Uri)) throw new OptionsException($"{path}.uri", "is required (a file, rtsp://, http(s)://, udp://, srt://, /dev/videoN or testsrc)");
        if (!double.IsFinite(MaxFps) || MaxFps < 0) throw new OptionsException($"{path}.maxFps", Bad(MaxFps, "must be 0 (every frame) or a positive number"));
        if (DecoderThreads is < 0 or > 64) throw new OptionsException($"{path}.decoderThreads", Bad(DecoderThreads, "must be 0 (auto) to 64"));
        if (OpenTimeout < TimeSpan.Zero || OpenTimeout > TimeSpan.FromDays(1)) throw new OptionsException($"{path}.openTimeout", Bad(OpenTimeout, "must be 0 (none) to 1 day"));
        if (ReadTimeout < TimeSpan.Zero || ReadTimeout > TimeSpan.FromDays(1)) throw new OptionsException($"{path}.readTimeout", Bad(ReadTimeout, "must be 0 (none) to 1 day"));
        if (ReconnectInitialDelay <= TimeSpan.Zero) throw new OptionsException($"{path}.reconnectInitialDelay", Bad(ReconnectInitialDelay, "must be positive"));
        if (ReconnectMaxDelay < ReconnectInitialDelay || ReconnectMaxDelay > TimeSpan.FromDays(1))
            throw new OptionsException($"{path}.reconnectMaxDelay", Bad(ReconnectMaxDelay, "must be at least reconnectInitialDelay and at most 1 day"));
        if (!double.IsFinite(ReconnectJitter) || ReconnectJitter is < 0 or > 1) throw new OptionsException($"{path}.reconnectJitter", Bad(ReconnectJitter, "must be 0..1"));
        if (MaxReconnectAttempts < 0) throw new OptionsException($"{path}.maxReconnectAttempts", Bad(MaxReconnectAttempts, "must be 0 (forever) or more"));
        if (OutputWidth is < 0 or > 16384) throw new OptionsException($"{path}.outputWidth", Bad(OutputWidth, "must be 0 (source width) to 16384"));
        if (OutputHeight is < 0 or > 16384) throw new OptionsException($"{path}.outputHeight", Bad(OutputHeight, "must be 0 (source height) to 16384"));
        if (ChannelCapacity is < 1 or > 1024) throw new OptionsException($"{path}.channelCapacity", Bad(ChannelCapacity, "must be 1..1024"));
        if (Loop && !IsFile) throw new OptionsException($"{path}.loop", "applies to files only; this source is live (set mode: file to read it as a file)");
        if (!System.Enum.IsDefined(Mode)) throw new OptionsException($"{path}.mode", Bad(Mode, "must be auto, file or live"));
        if (!System.Enum.IsDefined(RtspTransport)) throw new OptionsException($"{path}.rtspTransport", Bad(RtspTransport, "must be tcp or udp"));
    }

    /// <summary>
    /// How FFmpeg opens this source: the resolved format, the FFmpeg options plus <c>rtsp_transport</c> for RTSP and
    /// <c>overrun_nonfatal</c> for UDP (unless given), threads, hardware decode and the timeouts.
    /// </summary>
    public MediaReaderOptions ToReaderOptions()
    {
        var resolved = Resolve();
        var ff = FfmpegOptions is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(FfmpegOptions, StringComparer.Ordinal);
        if (resolved.Kind == SourceKind.Rtsp)
            ff.TryAdd("rtsp_transport", RtspTransport == RtspTransport.Udp ? "udp" : "tcp");
        if (resolved.Kind == SourceKind.Udp && resolved.Url.StartsWith("udp://", StringComparison.OrdinalIgnoreCase))
            ff.TryAdd("overrun_nonfatal", "1");   // a burst that overflows the socket buffer loses packets, not the stream
        return new MediaReaderOptions
        {
            Format = resolved.Format,
            Options = ff.Count > 0 ? ff : null,
            Threads = DecoderThreads,
            HwAccel = string.IsNullOrWhiteSpace(HwAccel) ? null : HwAccel,
            OpenTimeout = OpenTimeout,
            ReadTimeout = ReadTimeout,
        };
    }

    /// <summary>The URI resolved to what FFmpeg opens.</summary>
    public ResolvedSource Resolve() => SourceUri.Resolve(Uri, Format);

    /// <summary>Whether the source runs as a file (true) or live, after <see cref="Mode"/> and the URI.</summary>
    public bool IsFile => Mode switch
    {
        SourceMode.File => true,
        SourceMode.Live => false,
        _ => !Resolve().IsLive,
    };

    /// <summary>The stream id: <see cref="Id"/>, or one derived from <see cref="Uri"/>.</summary>
    public string StreamId => string.IsNullOrWhiteSpace(Id) ? SourceUri.DeriveStreamId(Uri) : Id;

    private static string Bad<T>(T value, string rule) => string.Create(CultureInfo.InvariantCulture, $"{value} {rule}");
}
