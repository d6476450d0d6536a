using System.Globalization;
using StreamVision.Core;
using StreamVision.Native;

namespace StreamVision.Sinks;

/// <summary>An annotated video output (file or URL).</summary>
public sealed record VideoSinkOptions
{
    /// <summary>File path or URL. Containers by extension (.mp4, .mkv, .ts) unless <see cref="Format"/> is set.</summary>
    public required string Path { get; init; }
    public string? Format { get; init; }
    /// <summary>FFmpeg encoder. Default libx264; h264_nvenc etc. fall back to libx264 when unavailable.</summary>
    public string Codec { get; init; } = "libx264";
    /// <summary>x264 preset: faster presets encode quicker and give bigger files. Default veryfast.</summary>
    public string Preset { get; init; } = "veryfast";
    /// <summary>Constant quality (0..51, lower is better and bigger). Default 23.</summary>
    public int Crf { get; init; } = 23;
    /// <summary>Frame rate written to the container; 0 = the source's.</summary>
    public double Fps { get; init; }
    /// <summary>Extra encoder/muxer options.</summary>
    public IReadOnlyDictionary<string, string>? ExtraOptions { get; init; }
    public AnnotatorOptions Annotator { get; init; } = new();
    /// <summary>Write frames as decoded (no drawing).</summary>
    public bool Raw { get; init; }
}

/// <summary>
/// Draws results on a copy of each frame (other sinks see the clean picture) and encodes it. The output is finalised
/// (trailer written) on <see cref="CompleteAsync"/> and on dispose, so the file plays whatever way the run ends.
/// </summary>
public sealed class VideoFileSink : ISink
{
    private readonly VideoSinkOptions _options;
    private readonly double _sourceFps;
    private readonly FramePool _pool;
    private readonly Annotator _annotator;
    private readonly IReadOnlyList<IOverlay>? _overlays;
    private MediaWriter? _writer;
    private TimeSpan? _firstPts;

    public VideoFileSink(VideoSinkOptions options, double sourceFps, FramePool? pool = null, IReadOnlyList<IOverlay>? overlays = null)
    {
        _options = options;
        _sourceFps = sourceFps > 0 ? sourceFps : 25;
        _pool = pool ?? FramePool.Shared;
        _annotator = new Annotator(options.Annotator);
        _overlays = overlays;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(options.Path));
        if (!options.Path.Contains("://", StringComparison.Ordinal) && dir is not null) Directory.CreateDirectory(dir);
    }

    public string Name => "video";
    public long FramesWritten => _writer?.FramesWritten ?? 0;
    /// <summary>The encoder really used (after any fallback).</summary>
    public string? ActiveCodec { get; private set; }

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        if (item.EventsOnly) return;
        var src = item.Frame;
        _writer ??= Open(src.Width, src.Height);
        _firstPts ??= src.Pts;
        var pts = src.Pts - _firstPts.Value;
        if (_options.Raw)
        {
            _writer.Write(src.Data, src.Stride, pts);
            return;
        }
        var copy = await _pool.RentAsync(src.Width, src.Height, ct).ConfigureAwait(false);
        try
        {
            copy.CopyFrom(src);
            _annotator.Draw(item, copy, _overlays);
            _writer.Write(copy.Data, copy.Stride, pts);
        }
        finally
        {
            copy.Dispose();
        }
    }

    private MediaWriter Open(int width, int height)
    {
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        bool x26x = _options.Codec is "libx264" or "libx265";
        if (x26x)
        {
            opts["preset"] = _options.Preset;
            opts["crf"] = _options.Crf.ToString(CultureInfo.InvariantCulture);
        }
        if (_options.ExtraOptions is not null) foreach (var (k, v) in _options.ExtraOptions) opts[k] = v;
        var w = new MediaWriterOptions
        {
            Width = width & ~1, // 4:2:0 needs even sizes; the last odd column/row is dropped
            Height = height & ~1,
            Fps = _options.Fps > 0 ? _options.Fps : _sourceFps,
            Codec = _options.Codec,
            Format = _options.Format,
            Options = opts,
        };
        try
        {
            var writer = MediaWriter.Open(_options.Path, w);
            ActiveCodec = _options.Codec;
            return writer;
        }
        catch (MediaException ex) when (ex.Kind == MediaErrorKind.CodecUnavailable && !x26x)
        {
            // A hardware encoder that is absent: fall back to software, keep going.
            var fallback = w with { Codec = "libx264", Options = new Dictionary<string, string> { ["preset"] = _options.Preset, ["crf"] = _options.Crf.ToString(CultureInfo.InvariantCulture) } };
            var writer = MediaWriter.Open(_options.Path, fallback);
            ActiveCodec = "libx264";
            FallbackReason = ex.Message;
            return writer;
        }
    }

    /// <summary>Why the configured encoder was replaced by libx264, or null.</summary>
    public string? FallbackReason { get; private set; }

    public ValueTask CompleteAsync(CancellationToken ct)
    {
        _writer?.Finish();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        _writer?.Dispose();
        _writer = null;
        return ValueTask.CompletedTask;
    }
}
