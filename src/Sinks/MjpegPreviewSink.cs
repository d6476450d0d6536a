using System.Diagnostics;
using System.Globalization;
using System.Text;
using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Sinks;

/// <summary>How a stream's live preview is made. Check with <see cref="Validate"/> (the sink does).</summary>
public sealed record MjpegPreviewOptions
{
    /// <summary>Most pictures per second encoded while someone watches (wall clock). 0 = every frame. Default 10.</summary>
    [OptionRange(0, 240)]
    public double MaxFps { get; init; } = 10;
    /// <summary>Pictures per second encoded while nobody watches (keeps <see cref="MjpegPreviewSink.TryGetLatest"/> fresh); 0 = none. Default 1.</summary>
    [OptionRange(0, 240)]
    public double IdleFps { get; init; } = 1;
    /// <summary>Pictures wider than this are scaled down (pixels; keeps JPEGs small for browsers). 0 = never. Default 1280.</summary>
    [OptionRange(0, 16384, Unit = "pixels")]
    public int MaxWidth { get; init; } = 1280;
    /// <summary>JPEG quality 1..100: higher is sharper and bigger. Default 75.</summary>
    [OptionRange(1, 100)]
    public int Quality { get; init; } = 75;
    /// <summary>Draw boxes, labels, zones and lines (false: the clean picture). Default true.</summary>
    public bool Annotate { get; init; } = true;
    /// <summary>How the preview is drawn on (with <see cref="Annotate"/>).</summary>
    public AnnotatorOptions Annotator { get; init; } = new();

    public void Validate(string path = "sinks.preview")
    {
        if (!(MaxFps >= 0 && MaxFps <= 240)) throw new OptionsException($"{path}.max_fps", $"must be 0 (every frame) ..240, got {MaxFps}");
        if (!(IdleFps >= 0 && IdleFps <= 240)) throw new OptionsException($"{path}.idle_fps", $"must be 0..240, got {IdleFps}");
        if (MaxWidth is < 0 or > 16384 or (> 0 and < 16)) throw new OptionsException($"{path}.max_width", $"must be 0 (no limit) or 16..16384, got {MaxWidth}");
        if (Quality is < 1 or > 100) throw new OptionsException($"{path}.quality", $"must be 1..100, got {Quality}");
    }
}

/// <summary>
/// Live preview of one stream as MJPEG: keeps the latest annotated JPEG and streams it to any number of HTTP clients as
/// <c>multipart/x-mixed-replace</c> (<see cref="StreamAsync"/>), which browsers show directly in an &lt;img&gt;. Encodes
/// only as often as <see cref="MjpegPreviewOptions.MaxFps"/> (or <see cref="MjpegPreviewOptions.IdleFps"/> when nobody
/// watches); a slow client skips pictures instead of slowing the sink. Memory: one JPEG plus two pooled frames while encoding.
/// </summary>
public sealed class MjpegPreviewSink : ISink
{
    /// <summary>Boundary between parts of the multipart stream.</summary>
    public const string Boundary = "svframe";
    /// <summary>Content-Type for the HTTP response that carries <see cref="StreamAsync"/>.</summary>
    public const string ContentType = "multipart/x-mixed-replace; boundary=" + Boundary;

    private readonly MjpegPreviewOptions _options;
    private readonly FramePool _pool;
    private readonly Annotator _annotator;
    private readonly IReadOnlyList<IOverlay>? _overlays;
    private readonly object _gate = new();
    private Picture? _latest;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _lastEncode = long.MinValue;
    private int _viewers;
    private bool _completed;

    private sealed record Picture(byte[] Jpeg, long Version, long FrameSequence, int Width, int Height);

    /// <param name="options">Rates, size, quality (validated here).</param>
    /// <param name="pool">Where the drawing copies come from (two frames at most while encoding): the pipeline's sink pool
    /// (<c>PipelineBuilder.SinkPool</c>), never the decoder's; null = a small pool of this sink's own.</param>
    /// <param name="overlays">Zones and lines to draw.</param>
    public MjpegPreviewSink(MjpegPreviewOptions? options = null, FramePool? pool = null, IReadOnlyList<IOverlay>? overlays = null)
    {
        _options = options ?? new MjpegPreviewOptions();
        _options.Validate();
        _pool = pool ?? new FramePool(new FramePoolOptions { MaxIdlePerSize = 2 });
        _annotator = new Annotator(_options.Annotator);
        _overlays = overlays;
    }

    public string Name => "preview";
    /// <summary>Clients streaming now.</summary>
    public int Viewers => Volatile.Read(ref _viewers);
    /// <summary>Pictures encoded so far.</summary>
    public long Version
    {
        get
        {
            lock (_gate) return _latest?.Version ?? 0;
        }
    }

    /// <summary>The latest JPEG (for a single-picture endpoint); false before the first one.</summary>
    public bool TryGetLatest(out byte[] jpeg)
    {
        var p = Volatile.Read(ref _latest);
        jpeg = p?.Jpeg ?? [];
        return p is not null;
    }

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        if (item.EventsOnly) return;
        double fps = Viewers > 0 ? _options.MaxFps : _options.IdleFps;
        if (Viewers == 0 && fps == 0) return;
        long now = Stopwatch.GetTimestamp();
        if (fps > 0 && _lastEncode != long.MinValue && now - _lastEncode < (long)(Stopwatch.Frequency / fps)) return;
        _lastEncode = now;

        var src = item.Frame;
        Frame? drawn = null, scaled = null;
        try
        {
            var picture = src;
            if (_options.Annotate)
            {
                drawn = await _pool.RentAsync(src.Width, src.Height, ct).ConfigureAwait(false);
                drawn.CopyFrom(src);
                _annotator.Draw(item, drawn, _overlays);
                picture = drawn;
            }
            if (_options.MaxWidth > 0 && picture.Width > _options.MaxWidth)
            {
                int w = _options.MaxWidth & ~1;
                int h = Math.Max(2, (int)Math.Round((double)picture.Height * w / picture.Width) & ~1);
                scaled = await _pool.RentAsync(w, h, ct).ConfigureAwait(false);
                ImageOps.Resize(picture.Data, picture.Width, picture.Height, picture.Stride, 0, 0, picture.Width, picture.Height,
                    scaled.Data, w, h, scaled.Stride);
                picture = scaled;
            }
            byte[] jpeg = ImageOps.EncodeJpeg(picture, _options.Quality);
            Publish(jpeg, src.Sequence, picture.Width, picture.Height);
        }
        finally
        {
            drawn?.Dispose();
            scaled?.Dispose();
        }
    }

    private void Publish(byte[] jpeg, long sequence, int width, int height)
    {
        TaskCompletionSource wake;
        lock (_gate)
        {
            _latest = new Picture(jpeg, (_latest?.Version ?? 0) + 1, sequence, width, height);
            wake = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        wake.TrySetResult();
    }

    /// <summary>
    /// Writes the preview to <paramref name="output"/> as <c>multipart/x-mixed-replace</c> (set <see cref="ContentType"/>
    /// on the response first): the latest picture at once, then each new one, until the stream ends
    /// (<see cref="CompleteAsync"/>), <paramref name="ct"/> is cancelled (client gone), or writing fails. Pictures made
    /// while the client is still receiving the previous one are skipped, never queued. Each part:
    /// <c>--svframe\r\nContent-Type: image/jpeg\r\nContent-Length: N\r\n\r\n</c> JPEG <c>\r\n</c>.
    /// </summary>
    /// <returns>Parts written.</returns>
    public async Task<long> StreamAsync(Stream output, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(output);
        Interlocked.Increment(ref _viewers);
        long parts = 0, seen = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                Picture? p;
                Task next;
                lock (_gate)
                {
                    p = _latest;
                    next = _next.Task;
                    if (p is null || p.Version == seen)
                    {
                        if (_completed) break;
                        p = null;
                    }
                }
                if (p is null)
                {
                    await next.WaitAsync(ct).ConfigureAwait(false);
                    continue;
                }
                seen = p.Version;
                await WritePartAsync(output, p.Jpeg, ct).ConfigureAwait(false);
                parts++;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // The client went away.
        }
        finally
        {
            Interlocked.Decrement(ref _viewers);
        }
        return parts;
    }

    /// <summary>One multipart part with the picture (also usable for custom transports).</summary>
    public static async Task WritePartAsync(Stream output, byte[] jpeg, CancellationToken ct)
    {
        var header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"--{Boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {jpeg.Length}\r\n\r\n"));
        await output.WriteAsync(header, ct).ConfigureAwait(false);
        await output.WriteAsync(jpeg, ct).ConfigureAwait(false);
        await output.WriteAsync("\r\n"u8.ToArray(), ct).ConfigureAwait(false);
        await output.FlushAsync(ct).ConfigureAwait(false);
    }

    /// <summary>End of the stream: viewers receive the last picture and their <see cref="StreamAsync"/> returns.</summary>
    public ValueTask CompleteAsync(CancellationToken ct)
    {
        TaskCompletionSource wake;
        lock (_gate)
        {
            _completed = true;
            wake = _next;
        }
        wake.TrySetResult();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => CompleteAsync(CancellationToken.None);
}
