using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Sinks;

/// <summary>Best-frame snapshots of tracks. Check with <see cref="Validate"/> (the sink does).</summary>
public sealed record SnapshotOptions
{
    /// <summary>Folder the JPEGs go to (created when missing). In a configuration file <c>{instance}</c> and <c>{stream}</c> are replaced.</summary>
    [OptionShorthand]
    public required string Directory { get; init; }
    /// <summary>This instance's id, part of every file name. Default "local".</summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";
    /// <summary>Write the box (with <see cref="CropPadding"/>) as <c>..._crop.jpg</c>. Default true.</summary>
    public bool Crop { get; init; } = true;
    /// <summary>Write the whole frame as <c>..._frame.jpg</c>. Default true.</summary>
    public bool FullFrame { get; init; } = true;
    /// <summary>Margin added around the box on each side, as a fraction of its width/height (context around a face). 0..2, default 0.15.</summary>
    [OptionRange(0, 2)]
    public double CropPadding { get; init; } = 0.15;
    /// <summary>JPEG quality 1..100. Default 90.</summary>
    [OptionRange(1, 100)]
    public int Quality { get; init; } = 90;
    /// <summary>Tracks whose best score stays below this get no snapshot. 0..1, default 0.</summary>
    [OptionRange(0, 1)]
    public float MinScore { get; init; }
    /// <summary>
    /// Live tracks that hold a best frame at once; later tracks get none until others end (counted). Each holds a
    /// reference to a pooled frame copy (tracks whose best is the same frame share it). 1..10000, default 64.
    /// </summary>
    [OptionRange(1, 10000)]
    public int MaxLiveTracks { get; init; } = 64;
    /// <summary>
    /// Bytes of frame copies held at once (the sink's own pool unless one is given): bounds memory whatever the scene. A
    /// better frame that does not fit is skipped (the track keeps its previous best). Default 256 MiB; at least 1 MiB.
    /// </summary>
    [OptionRange(1 << 20, long.MaxValue, Unit = "bytes")]
    public long MaxBytes { get; init; } = 256L << 20;

    public void Validate(string path = "sinks.snapshots")
    {
        if (string.IsNullOrWhiteSpace(Directory)) throw new OptionsException($"{path}.directory", "is required");
        if (string.IsNullOrWhiteSpace(InstanceId)) throw new OptionsException($"{path}.instance", "is required");
        if (!Crop && !FullFrame) throw new OptionsException($"{path}.crop", "crop and full_frame are both off: nothing to write");
        if (!(CropPadding >= 0 && CropPadding <= 2)) throw new OptionsException($"{path}.crop_padding", $"must be 0..2, got {CropPadding}");
        if (Quality is < 1 or > 100) throw new OptionsException($"{path}.quality", $"must be 1..100, got {Quality}");
        if (!(MinScore >= 0 && MinScore <= 1)) throw new OptionsException($"{path}.min_score", $"must be 0..1, got {MinScore}");
        if (MaxLiveTracks is < 1 or > 10000) throw new OptionsException($"{path}.max_live_tracks", $"must be 1..10000, got {MaxLiveTracks}");
        if (MaxBytes < 1 << 20) throw new OptionsException($"{path}.max_bytes", $"must be at least 1 MiB, got {MaxBytes}");
    }
}

/// <summary>
/// JPEG snapshots of each confirmed track's best frame (highest detection score while matched), written when the track
/// ends (removed, or ended by the end of the stream): the crop and/or the full frame, named
/// <c>{instance}_{stream}_track{id}_f{frame}_crop.jpg</c> / <c>_frame.jpg</c>. Keeps one pooled copy per frame that is
/// some live track's best (shared between tracks), bounded by <see cref="SnapshotOptions.MaxLiveTracks"/> and
/// <see cref="SnapshotOptions.MaxBytes"/>. Files appear whole (written to a temporary name, then renamed).
/// </summary>
public sealed class SnapshotSink : ISink
{
    private readonly SnapshotOptions _options;
    private readonly FramePool _pool;
    private readonly ILogger _logger;
    private readonly Dictionary<int, Best> _best = new();
    private readonly List<string> _files = new();
    private long _skippedTracks, _skippedCopies, _written;

    private sealed class Best
    {
        public required Frame Frame;
        public Box Box;
        public float Score;
    }

    /// <param name="options">Folder, contents, bounds (validated here).</param>
    /// <param name="pool">Pool for the frame copies; null = a pool of its own capped at <see cref="SnapshotOptions.MaxBytes"/> (so snapshots never starve decoding).</param>
    /// <param name="logger">Write failures.</param>
    public SnapshotSink(SnapshotOptions options, FramePool? pool = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _pool = pool ?? new FramePool(new FramePoolOptions { MaxBytes = options.MaxBytes, MaxIdlePerSize = 4 });
        _logger = logger ?? NullLogger.Instance;
        System.IO.Directory.CreateDirectory(options.Directory);
    }

    public string Name => "snapshots";
    /// <summary>Tracks holding a best frame now.</summary>
    public int LiveTracks => _best.Count;
    /// <summary>Snapshots written (tracks, not files).</summary>
    public long Written => _written;
    /// <summary>Tracks that got no snapshot because <see cref="SnapshotOptions.MaxLiveTracks"/> were live.</summary>
    public long SkippedTracks => _skippedTracks;
    /// <summary>Better frames not kept because the byte cap was reached.</summary>
    public long SkippedCopies => _skippedCopies;
    /// <summary>Files written, in order.</summary>
    public IReadOnlyList<string> Files => _files;

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        Frame? copy = null; // this frame's copy, made once when some track's best is here
        try
        {
            if (!item.EventsOnly)
            {
                foreach (var t in item.Tracks)
                {
                    if (t.Id <= 0) continue;
                    if (t.State == TrackState.Removed)
                    {
                        await FinishAsync(t.Id, ct).ConfigureAwait(false);
                        continue;
                    }
                    if (t.State != TrackState.Tracked || t.DetectionIndex < 0 || t.Score < _options.MinScore) continue;
                    _best.TryGetValue(t.Id, out var best);
                    if (best is not null && t.Score <= best.Score) continue;
                    if (best is null && _best.Count >= _options.MaxLiveTracks)
                    {
                        _skippedTracks++;
                        continue;
                    }
                    if (copy is null)
                    {
                        if (!_pool.TryRent(item.Frame.Width, item.Frame.Height, out copy))
                        {
                            copy = null;
                            _skippedCopies++;
                            continue;
                        }
                        copy.CopyFrom(item.Frame);
                    }
                    if (best is null)
                    {
                        _best[t.Id] = new Best { Frame = copy.AddRef(), Box = t.Box, Score = t.Score };
                    }
                    else
                    {
                        best.Frame.Dispose();
                        best.Frame = copy.AddRef();
                        best.Box = t.Box;
                        best.Score = t.Score;
                    }
                }
            }
            // track_ended events cover tracks ended without a Removed row (the end of the stream).
            foreach (var e in item.Events)
            {
                if (e.Type == EventTypes.TrackEnded && e.TrackId is { } id) await FinishAsync(id, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            copy?.Dispose();
        }
    }

    private async Task FinishAsync(int trackId, CancellationToken ct)
    {
        if (!_best.Remove(trackId, out var best)) return;
        try
        {
            string stem = Path.Combine(_options.Directory,
                string.Create(CultureInfo.InvariantCulture, $"{Safe(_options.InstanceId)}_{Safe(best.Frame.StreamId)}_track{trackId}_f{best.Frame.Sequence}"));
            var f = best.Frame;
            if (_options.Crop)
            {
                var box = Padded(best.Box, f.Width, f.Height);
                int x = (int)box.X1, y = (int)box.Y1;
                int w = Math.Max(1, (int)MathF.Ceiling(box.X2) - x), h = Math.Max(1, (int)MathF.Ceiling(box.Y2) - y);
                w = Math.Min(w, f.Width - x);
                h = Math.Min(h, f.Height - y);
                if (w > 0 && h > 0)
                {
                    var jpeg = ImageOps.EncodeJpeg(f.Data[(y * f.Stride + x * 3)..], w, h, f.Stride, _options.Quality);
                    await WriteFileAsync(stem + "_crop.jpg", jpeg, ct).ConfigureAwait(false);
                }
            }
            if (_options.FullFrame)
                await WriteFileAsync(stem + "_frame.jpg", ImageOps.EncodeJpeg(f, _options.Quality), ct).ConfigureAwait(false);
            _written++;
        }
        finally
        {
            best.Frame.Dispose();
        }
    }

    private Box Padded(Box b, int width, int height)
    {
        float px = (float)(_options.CropPadding * b.Width), py = (float)(_options.CropPadding * b.Height);
        return new Box(b.X1 - px, b.Y1 - py, b.X2 + px, b.Y2 + py).Clip(width, height);
    }

    private async Task WriteFileAsync(string path, byte[] bytes, CancellationToken ct)
    {
        string tmp = path + ".tmp";
        await File.WriteAllBytesAsync(tmp, bytes, ct).ConfigureAwait(false);
        File.Move(tmp, path, overwrite: true);
        _files.Add(path);
    }

    /// <summary>File-name-safe id: letters, digits, '-', '.' kept; anything else becomes '_'.</summary>
    private static string Safe(string id)
    {
        var sb = new StringBuilder(id.Length);
        foreach (char c in id) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_');
        return sb.Length == 0 ? "_" : sb.ToString();
    }

    /// <summary>End of the stream: every live track's snapshot is written.</summary>
    public async ValueTask CompleteAsync(CancellationToken ct)
    {
        foreach (var id in _best.Keys.ToList())
        {
            try
            {
                await FinishAsync(id, ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _logger.LogError("snapshots: track {Track} not written: {Error}", id, ex.Message);
            }
        }
    }

    /// <summary>Releases the frames still held (without writing).</summary>
    public ValueTask DisposeAsync()
    {
        foreach (var b in _best.Values) b.Frame.Dispose();
        _best.Clear();
        return ValueTask.CompletedTask;
    }
}
