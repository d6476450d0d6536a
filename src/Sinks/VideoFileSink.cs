using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;
using StreamVision.Imaging;
using StreamVision.Native;

namespace StreamVision.Sinks;

/// <summary>
/// An annotated video output: a file (optionally cut into segments), an HLS playlist, or a live push to a server
/// (RTSP, RTMP, SRT, UDP). <see cref="ForHls"/> and <see cref="ForRtspPush"/> give the usual settings for the live ones.
/// </summary>
public sealed record VideoSinkOptions
{
    /// <summary>
    /// File path or URL. <c>{index}</c> (segment number, 5 digits) and <c>{time}</c> (UTC start of the segment,
    /// <c>yyyyMMddTHHmmssZ</c>) are replaced; with <see cref="SegmentSeconds"/> and neither token, <c>-{index}</c> is put
    /// before the extension. Container by extension (.mp4, .mkv, .ts, .m3u8 = HLS) or URL scheme unless <see cref="Format"/> is set.
    /// In a configuration file <c>{instance}</c> and <c>{stream}</c> are replaced, and <c>.m3u8</c> or <c>rtsp://</c> paths
    /// start from the HLS or RTSP-push settings (<see cref="ForHls"/>, <see cref="ForRtspPush"/>) for what is not given.
    /// </summary>
    [OptionShorthand]
    public required string Path { get; init; }
    /// <summary>Sink name in logs and metrics (the <c>sink</c> tag); give each output of a stream its own. Default "video" ("hls", "rtsp" from the presets).</summary>
    public string Name { get; init; } = "video";
    /// <summary>FFmpeg muxer (<c>mp4</c>, <c>matroska</c>, <c>hls</c>, <c>rtsp</c>, <c>flv</c>, <c>mpegts</c>); null (default) = from the path.</summary>
    public string? Format { get; init; }
    /// <summary>FFmpeg encoder. Default libx264; h264_nvenc etc. fall back to libx264 when unavailable.</summary>
    public string Codec { get; init; } = "libx264";
    /// <summary>
    /// x264 preset (ultrafast, superfast, veryfast, faster, fast, medium, slow, slower, veryslow, placebo): faster presets
    /// encode quicker and give bigger files. Default veryfast.
    /// </summary>
    public string Preset { get; init; } = "veryfast";
    /// <summary>Constant quality (0..51, lower is better and bigger). Default 23.</summary>
    [OptionRange(0, 51)]
    public int Crf { get; init; } = 23;
    /// <summary>Frame rate written to the container, frames per second; 0 (default) = the source's.</summary>
    [OptionRange(0, 1000)]
    public double Fps { get; init; }
    /// <summary>Extra FFmpeg encoder/muxer options (e.g. <c>tune: zerolatency</c>, <c>hls_time: 2</c>, <c>movflags: +faststart</c>). Null = none.</summary>
    public IReadOnlyDictionary<string, string>? ExtraOptions { get; init; }
    /// <summary>How frames are drawn on.</summary>
    public AnnotatorOptions Annotator { get; init; } = new();
    /// <summary>Write frames as decoded (no drawing). Default false.</summary>
    public bool Raw { get; init; }
    /// <summary>
    /// Seconds of stream time per file: each segment is a complete file (own header, trailer, starts on a key frame), so
    /// every closed segment plays even if the process dies later. 0 = one file. Default 0.
    /// </summary>
    [OptionRange(0, 604800)]
    public double SegmentSeconds { get; init; }
    /// <summary>
    /// Files (.mp4, .mov, .mkv): the longest stretch of video, seconds, held in memory before it is handed to the operating
    /// system. MP4/MOV are written fragmented (a fragment at each key frame and at least this often) and Matroska in clusters
    /// this long, every packet flushed, so a killed process loses at most about this much plus the encoder's look-ahead; a
    /// clean stop finalises the file as usual. 0 = a classic MP4 with its index written at the end (a killed process leaves
    /// nothing playable). Ignored when <see cref="ExtraOptions"/> sets <c>movflags</c>. Default 1.
    /// </summary>
    [OptionRange(0, 3600)]
    public double FragmentSeconds { get; init; } = 1;
    /// <summary>
    /// Network outputs (a URL with ://): seconds to wait before reopening after the server refused or dropped the
    /// connection; frames meanwhile are dropped and counted. 0 = no reopening (the error goes to the sink runner). Default 2.
    /// </summary>
    [OptionRange(0, 3600)]
    public double ReconnectDelaySeconds { get; init; } = 2;
    /// <summary>Longest time, seconds, one network write or open may block before it fails. Default 10.</summary>
    [OptionRange(0, 600)]
    public double IoTimeoutSeconds { get; init; } = 10;

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "sinks.video")
    {
        if (string.IsNullOrWhiteSpace(Path)) throw new OptionsException($"{path}.path", "is required");
        if (string.IsNullOrWhiteSpace(Codec)) throw new OptionsException($"{path}.codec", "is required");
        if (Crf is < 0 or > 51) throw new OptionsException($"{path}.crf", $"must be 0..51, got {Crf}");
        // Checked here, not by the encoder: a wrong name failed every open of the output at its first frame, with only
        // "cannot open encoder libx264: Invalid argument" to show for it. Hardware encoders fall back to libx264 with it too.
        if (!X264Presets.Contains(Preset, StringComparer.Ordinal))
            throw new OptionsException($"{path}.preset", $"must be one of {string.Join(", ", X264Presets)}, got '{Preset}'");
        if (!(Fps >= 0 && Fps <= 1000)) throw new OptionsException($"{path}.fps", $"must be 0 (source's) ..1000, got {Fps}");
        if (!(SegmentSeconds >= 0 && SegmentSeconds <= 7 * 86400)) throw new OptionsException($"{path}.segment_seconds", $"must be 0 (one file) ..604800, got {SegmentSeconds}");
        if (string.IsNullOrWhiteSpace(Name)) throw new OptionsException($"{path}.name", "is required");
        if (SegmentSeconds > 0 && (IsUrl || Format == "hls" || Path.EndsWith(".m3u8", StringComparison.OrdinalIgnoreCase)))
            throw new OptionsException($"{path}.segment_seconds", "applies to files only (HLS cuts its own segments: hls_time)");
        if (SegmentSeconds is > 0 and < 1 && Path.Contains("{time}", StringComparison.Ordinal) && !Path.Contains("{index}", StringComparison.Ordinal))
            throw new OptionsException($"{path}.path", "{time} has one-second resolution: add {index} for segments shorter than a second");
        if (!(ReconnectDelaySeconds >= 0 && ReconnectDelaySeconds <= 3600)) throw new OptionsException($"{path}.reconnect_delay_seconds", $"must be 0..3600, got {ReconnectDelaySeconds}");
        if (!(IoTimeoutSeconds >= 0 && IoTimeoutSeconds <= 600)) throw new OptionsException($"{path}.io_timeout_seconds", $"must be 0..600, got {IoTimeoutSeconds}");
        if (!(FragmentSeconds >= 0 && FragmentSeconds <= 3600)) throw new OptionsException($"{path}.fragment_seconds", $"must be 0 (classic MP4) ..3600, got {FragmentSeconds}");
    }

    /// <summary>The presets of x264 and x265, fastest first: the values <see cref="Preset"/> takes.</summary>
    public static IReadOnlyList<string> X264Presets { get; } = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo"];

    internal bool IsUrl => Path.Contains("://", StringComparison.Ordinal) && !Path.StartsWith("file://", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// HLS: <paramref name="playlistPath"/> (.m3u8) plus <c>NAME0.ts, NAME1.ts, ...</c> beside it; key frames every
    /// <paramref name="segmentSeconds"/> so segments have that length. <paramref name="listSize"/> segments stay in the
    /// playlist (0 = all, for recording); with <paramref name="deleteOldSegments"/> older files are removed (live).
    /// </summary>
    public static VideoSinkOptions ForHls(string playlistPath, double segmentSeconds = 2, int listSize = 6, bool deleteOldSegments = true)
    {
        if (!(segmentSeconds > 0)) throw new OptionsException("sinks.hls.segment_seconds", $"must be positive, got {segmentSeconds}");
        if (listSize < 0) throw new OptionsException("sinks.hls.list_size", $"must be 0 (all) or more, got {listSize}");
        var opts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["hls_time"] = segmentSeconds.ToString(CultureInfo.InvariantCulture),
            ["hls_list_size"] = listSize.ToString(CultureInfo.InvariantCulture),
        };
        if (deleteOldSegments && listSize > 0) opts["hls_flags"] = "delete_segments";
        return new VideoSinkOptions { Path = playlistPath, Format = "hls", Name = "hls", ExtraOptions = opts };
    }

    /// <summary>
    /// Live push (ANNOUNCE/RECORD) to an RTSP server that accepts published streams (mediamtx, gst-rtsp-server with record,
    /// <c>ffmpeg -rtsp_flags listen</c>). Low-latency x264 settings; <paramref name="transport"/> tcp or udp.
    /// </summary>
    public static VideoSinkOptions ForRtspPush(string url, string transport = "tcp")
    {
        if (!url.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase) && !url.StartsWith("rtsps://", StringComparison.OrdinalIgnoreCase))
            throw new OptionsException("sinks.rtsp.url", $"must start with rtsp://, got '{url}'");
        if (transport is not ("tcp" or "udp")) throw new OptionsException("sinks.rtsp.transport", $"must be tcp or udp, got '{transport}'");
        return new VideoSinkOptions
        {
            Path = url,
            Format = "rtsp",
            Name = "rtsp",
            Preset = "ultrafast",
            ExtraOptions = new Dictionary<string, string>(StringComparer.Ordinal) { ["rtsp_transport"] = transport, ["tune"] = "zerolatency" },
        };
    }
}

/// <summary>
/// Draws results on a copy of each frame (other sinks see the clean picture), or on the frame itself when this sink holds
/// its last reference, and encodes it. Every output is finalised
/// (trailer written) when a segment ends, on <see cref="CompleteAsync"/> and on dispose, so files play whatever way the
/// run ends. A network output that fails is reopened after <see cref="VideoSinkOptions.ReconnectDelaySeconds"/>; frames
/// while it is down are dropped and counted (<see cref="FramesDropped"/>, <c>sv_sink_items_dropped</c>). A file that fails
/// (disk full) is closed at once (no deleted file is held open), and after the same delay the sink opens the next file
/// (<c>NAME-00001.mp4</c>, ...) so what was written before stays; it is <see cref="SinkState.Faulted"/> meanwhile.
/// </summary>
public sealed class VideoFileSink : ISink, ISinkHealth
{
    private readonly SinkHealthTracker _health = new();
    private bool _opened;
    private readonly VideoSinkOptions _options;
    private readonly double _sourceFps;
    private readonly FramePool _pool;
    private readonly Annotator _annotator;
    private readonly IReadOnlyList<IOverlay>? _overlays;
    private readonly ILogger _logger;
    private readonly List<string> _segments = new();
    private string _pathPattern;
    private MediaWriter? _writer;
    private TimeSpan _segmentStart;
    private int _segmentIndex = -1;
    private DateTime _downUntil;
    private bool _wasDown;
    private long _dropped, _framesBefore;
    private readonly PipelineMetrics? _pipelineMetrics;
    private SinkMetrics? _metrics; // labelled with the stream of the first item

    /// <param name="options">Output (validated here).</param>
    /// <param name="sourceFps">The stream's frame rate (container rate when <see cref="VideoSinkOptions.Fps"/> is 0); 0 = 25.</param>
    /// <param name="pool">Where the drawing copies come from (one or two frames at a time): the pipeline's sink pool
    /// (<c>PipelineBuilder.SinkPool</c>), never the decoder's; null = a small pool of this sink's own.</param>
    /// <param name="overlays">Zones and lines to draw (<see cref="AnalyticsOverlays.Of"/>).</param>
    /// <param name="logger">Segment, reconnect and fallback messages.</param>
    /// <param name="metrics">Where frames dropped while a network output is down are counted; null = <see cref="PipelineMetrics.Default"/>.</param>
    public VideoFileSink(VideoSinkOptions options, double sourceFps, FramePool? pool = null, IReadOnlyList<IOverlay>? overlays = null, ILogger? logger = null,
        PipelineMetrics? metrics = null)
    {
        _pipelineMetrics = metrics;
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _sourceFps = sourceFps > 0 ? sourceFps : 25;
        _pool = pool ?? new FramePool(new FramePoolOptions { MaxIdlePerSize = 2 });
        _annotator = new Annotator(options.Annotator);
        _overlays = overlays;
        _logger = logger ?? NullLogger.Instance;
        _pathPattern = options.Path;
        if (options.SegmentSeconds > 0 && !_pathPattern.Contains("{index}", StringComparison.Ordinal) && !_pathPattern.Contains("{time}", StringComparison.Ordinal))
        {
            string ext = System.IO.Path.GetExtension(_pathPattern);
            _pathPattern = _pathPattern[..^ext.Length] + "-{index}" + ext;
        }
        if (!options.IsUrl)
        {
            var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(ExpandPath(0, DateTimeOffset.UtcNow)));
            if (dir is not null) Directory.CreateDirectory(dir);
        }
    }

    public string Name => _options.Name;
    /// <summary>Frames encoded, over all segments and reconnects.</summary>
    public long FramesWritten => _framesBefore + (_writer?.FramesWritten ?? 0);
    /// <summary>Frames drawn on without a copy because this sink held their only reference (the rest were copied first).</summary>
    public long DrawnInPlace { get; private set; }
    /// <summary>Frames dropped while a network output was down.</summary>
    public long FramesDropped => Interlocked.Read(ref _dropped);
    /// <summary>The files or URLs opened so far, in order (one per segment); the latest <see cref="MaxOutputsListed"/> of a long run.</summary>
    public IReadOnlyList<string> Outputs => _segments;
    /// <summary>How many entries <see cref="Outputs"/> keeps: a stream cut into 1-second segments for months holds no growing list.</summary>
    public const int MaxOutputsListed = 256;
    /// <summary>The encoder really used (after any fallback).</summary>
    public string? ActiveCodec { get; private set; }
    /// <summary>Why the configured encoder was replaced by libx264, or null.</summary>
    public string? FallbackReason { get; private set; }
    /// <summary>True while the output is open.</summary>
    public bool IsOpen => _writer is not null;
    /// <summary>Connected while the output is open or about to be; faulted (with the error) while it is down and retrying.</summary>
    public SinkHealth Health => _health.Current;

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        if (item.EventsOnly) return;
        var src = item.Frame;
        _metrics ??= new SinkMetrics(_pipelineMetrics, item.StreamId, Name);
        if (_writer is not null && _options.SegmentSeconds > 0 && src.Pts - _segmentStart >= TimeSpan.FromSeconds(_options.SegmentSeconds))
        {
            CloseWriter();
        }
        if (_writer is null)
        {
            if (DateTime.UtcNow < _downUntil)
            {
                CountDrop();
                return;
            }
            try
            {
                _writer = Open(src.Width, src.Height, src.CaptureTime);
                _segmentStart = src.Pts;
                _opened = true;
                if (_wasDown) _logger.LogInformation("stream {Stream}: video output {Url} reopened", item.StreamId, _writer.Url);
                _wasDown = false;
                _health.Set(SinkState.Connected);
            }
            catch (MediaException ex) when (CanReconnect)
            {
                Down(item.StreamId, ex);
                CountDrop();
                return;
            }
        }
        var pts = src.Pts - _segmentStart;
        Frame? copy = null, scaled = null;
        try
        {
            if (!_options.Raw)
            {
                if (src.RefCount == 1)
                {
                    // This sink holds the frame's only reference: no other sink, the pipeline or the decoder can read these
                    // pixels again (a reference is only ever taken from one already held), so drawing needs no copy.
                    _annotator.Draw(item, src, _overlays);
                    DrawnInPlace++;
                }
                else
                {
                    copy = await _pool.RentAsync(src.Width, src.Height, ct).ConfigureAwait(false);
                    copy.CopyFrom(src);
                    _annotator.Draw(item, copy, _overlays);
                }
            }
            var picture = copy ?? src;
            int ow = _writer.Options.Width, oh = _writer.Options.Height;
            if ((picture.Width & ~1) != ow || (picture.Height & ~1) != oh)
            {
                // The source changed resolution mid-stream: the output keeps its size.
                scaled = await _pool.RentAsync(ow, oh, ct).ConfigureAwait(false);
                ImageOps.Resize(picture.Data, picture.Width, picture.Height, picture.Stride, 0, 0, picture.Width, picture.Height, scaled.Data, ow, oh, scaled.Stride);
                picture = scaled;
            }
            try
            {
                _writer.Write(picture.Data, picture.Stride, pts);
            }
            catch (MediaException ex) when (CanReconnect)
            {
                _framesBefore += _writer.FramesWritten;
                var failed = _writer;
                _writer = null;
                try
                {
                    failed.Dispose(); // the connection is gone or the disk full: the trailer may not make it; the handle goes
                }
                catch (MediaException)
                {
                }
                Down(item.StreamId, ex);
                CountDrop();
            }
        }
        finally
        {
            copy?.Dispose();
            scaled?.Dispose();
        }
    }

    /// <summary>Network outputs, and files that were open once (a full disk), are retried; a file that never opened is a configuration error.</summary>
    private bool CanReconnect => _options.ReconnectDelaySeconds > 0 && (_options.IsUrl || _opened);

    private void Down(string streamId, MediaException ex)
    {
        _downUntil = DateTime.UtcNow.AddSeconds(_options.ReconnectDelaySeconds);
        if (!_options.IsUrl && !_pathPattern.Contains("{index}", StringComparison.Ordinal))
        {
            // The next file must not truncate the one that failed: number the files from here on.
            string ext = System.IO.Path.GetExtension(_pathPattern);
            _pathPattern = _pathPattern[..^ext.Length] + "-{index}" + ext;
        }
        _health.Set(SinkState.Faulted, ex.Message);
        if (!_wasDown)
            _logger.LogWarning("stream {Stream}: video output {Path} failed ({Error}); retrying every {Delay} s, dropping frames meanwhile",
                streamId, _options.Path, ex.Message, _options.ReconnectDelaySeconds);
        _wasDown = true;
    }

    private void CountDrop()
    {
        Interlocked.Increment(ref _dropped);
        _metrics?.Dropped.Inc();
    }

    private string ExpandPath(int index, DateTimeOffset start) =>
        _pathPattern.Replace("{index}", index.ToString("D5", CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{time}", (start == default ? DateTimeOffset.UtcNow : start).UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private string? FormatFor(string path)
    {
        if (_options.Format is not null) return _options.Format;
        if (path.StartsWith("rtsp://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("rtsps://", StringComparison.OrdinalIgnoreCase)) return "rtsp";
        if (path.StartsWith("rtmp://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("rtmps://", StringComparison.OrdinalIgnoreCase)) return "flv";
        if (path.StartsWith("srt://", StringComparison.OrdinalIgnoreCase) || path.StartsWith("udp://", StringComparison.OrdinalIgnoreCase)) return "mpegts";
        return null;
    }

    private MediaWriter Open(int width, int height, DateTimeOffset start)
    {
        int index = _segmentIndex + 1;
        string path = ExpandPath(index, start);
        string? format = FormatFor(path);
        double fps = _options.Fps > 0 ? _options.Fps : _sourceFps;
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        bool x26x = _options.Codec is "libx264" or "libx265";
        if (x26x)
        {
            opts["preset"] = _options.Preset;
            opts["crf"] = _options.Crf.ToString(CultureInfo.InvariantCulture);
        }
        AddFragmentOptions(path, format, opts);
        if (_options.ExtraOptions is not null) foreach (var (k, v) in _options.ExtraOptions) opts[k] = v;
        // HLS cuts segments at key frames: put one every hls_time so segments have the asked length.
        if ((format == "hls" || path.EndsWith(".m3u8", StringComparison.OrdinalIgnoreCase)) && !opts.ContainsKey("g")
            && double.TryParse(opts.GetValueOrDefault("hls_time", "2"), NumberStyles.Float, CultureInfo.InvariantCulture, out double hlsTime) && hlsTime > 0)
        {
            opts["g"] = Math.Max(1, (int)Math.Round(hlsTime * fps)).ToString(CultureInfo.InvariantCulture);
        }
        var w = new MediaWriterOptions
        {
            Width = width & ~1, // 4:2:0 needs even sizes; the last odd column/row is dropped
            Height = height & ~1,
            Fps = fps,
            Codec = _options.Codec,
            Format = format,
            Options = opts,
            IoTimeout = TimeSpan.FromSeconds(_options.IoTimeoutSeconds),
        };
        MediaWriter writer;
        try
        {
            writer = MediaWriter.Open(path, w);
            ActiveCodec = _options.Codec;
        }
        catch (MediaException ex) when (ex.Kind == MediaErrorKind.CodecUnavailable && !x26x)
        {
            // A hardware encoder that is absent: fall back to software, keep going.
            var soft = new Dictionary<string, string>(opts, StringComparer.Ordinal)
            {
                ["preset"] = _options.Preset,
                ["crf"] = _options.Crf.ToString(CultureInfo.InvariantCulture),
            };
            writer = MediaWriter.Open(path, w with { Codec = "libx264", Options = soft });
            ActiveCodec = "libx264";
            FallbackReason = ex.Message;
        }
        _segmentIndex = index;
        if (_segments.Count == MaxOutputsListed) _segments.RemoveAt(0);
        _segments.Add(path);
        return writer;
    }

    /// <summary>Crash-safe files (<see cref="VideoSinkOptions.FragmentSeconds"/>): fragmented MP4/MOV, short Matroska clusters, every packet flushed.</summary>
    private void AddFragmentOptions(string path, string? format, Dictionary<string, string> opts)
    {
        if (_options.IsUrl || _options.FragmentSeconds <= 0 || _options.ExtraOptions?.ContainsKey("movflags") == true) return;
        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        string kind = format ?? ext switch
        {
            ".mp4" or ".m4v" => "mp4",
            ".mov" => "mov",
            ".mkv" => "matroska",
            ".webm" => "webm",
            _ => "",
        };
        if (kind is "mp4" or "mov" or "ipod")
        {
            opts["movflags"] = "frag_keyframe+empty_moov+default_base_moof";
            opts["frag_duration"] = ((long)(_options.FragmentSeconds * 1_000_000)).ToString(CultureInfo.InvariantCulture);
            opts["flush_packets"] = "1";
        }
        else if (kind is "matroska" or "webm")
        {
            opts["cluster_time_limit"] = ((long)(_options.FragmentSeconds * 1000)).ToString(CultureInfo.InvariantCulture);
            opts["flush_packets"] = "1";
        }
    }

    /// <summary>Finishes the current output (trailer) and closes it.</summary>
    private void CloseWriter()
    {
        if (_writer is null) return;
        var w = _writer;
        _writer = null;
        try
        {
            w.Finish();
        }
        finally
        {
            _framesBefore += w.FramesWritten;
            w.Dispose();
        }
    }

    public ValueTask CompleteAsync(CancellationToken ct)
    {
        try
        {
            CloseWriter();
        }
        catch (MediaException ex) when (_options.IsUrl)
        {
            // The server went away at the end: nothing left to finalise there.
            _logger.LogWarning("stream: video output {Path} did not close cleanly: {Error}", _options.Path, ex.Message);
        }
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _writer?.Dispose(); // finishes (trailer) when not done
        _writer = null;
        return ValueTask.CompletedTask;
    }
}
