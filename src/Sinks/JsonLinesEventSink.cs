using System.Text;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>Events as JSON lines (one object per line, schema <see cref="EventJson.SchemaVersion"/>).</summary>
public sealed record JsonLinesOptions
{
    /// <summary>
    /// The file events are appended to (created with its folder when missing). In a configuration file <c>{instance}</c>
    /// and <c>{stream}</c> are replaced.
    /// </summary>
    [OptionShorthand]
    public required string Path { get; init; }
    /// <summary>Bytes after which the file is rotated to <c>NAME.1</c> (older ones shift up); 0 = never. Default 0.</summary>
    [OptionRange(0, long.MaxValue, Unit = "bytes")]
    public long RotateBytes { get; init; }
    /// <summary>Rotated files kept (<c>NAME.1</c> .. <c>NAME.N</c>); older ones are deleted. 0 = none kept. Default 5.</summary>
    [OptionRange(0, 1000)]
    public int Keep { get; init; } = 5;
    /// <summary>This instance's id (the <c>instance</c> field of each event). Default "local".</summary>
    [OptionIgnore("the configuration's instance")]
    public string InstanceId { get; init; } = "local";
}

/// <summary>Appends every event of every frame to a JSON-lines file, rotating by size.</summary>
public sealed class JsonLinesEventSink : ISink
{
    private readonly JsonLinesOptions _options;
    private StreamWriter _writer;
    private long _bytes;

    public JsonLinesEventSink(JsonLinesOptions options)
    {
        _options = options;
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(options.Path));
        if (dir is not null) Directory.CreateDirectory(dir);
        _writer = OpenNew();
    }

    public string Name => "events";
    public long EventsWritten { get; private set; }

    private StreamWriter OpenNew()
    {
        _bytes = File.Exists(_options.Path) ? new FileInfo(_options.Path).Length : 0;
        return new StreamWriter(new FileStream(_options.Path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    public async ValueTask WriteAsync(AnalyzedFrame item, CancellationToken ct)
    {
        foreach (var e in item.Events)
        {
            string line = EventJson.Serialize(e, _options.InstanceId);
            await _writer.WriteLineAsync(line.AsMemory(), ct).ConfigureAwait(false);
            _bytes += Encoding.UTF8.GetByteCount(line) + 1;
            EventsWritten++;
            if (_options.RotateBytes > 0 && _bytes >= _options.RotateBytes) await RotateAsync().ConfigureAwait(false);
        }
        if (item.Events.Count > 0) await _writer.FlushAsync(ct).ConfigureAwait(false);
    }

    private async Task RotateAsync()
    {
        await _writer.DisposeAsync().ConfigureAwait(false);
        for (int i = _options.Keep - 1; i >= 1; i--)
        {
            string from = $"{_options.Path}.{i}", to = $"{_options.Path}.{i + 1}";
            if (File.Exists(from)) File.Move(from, to, overwrite: true);
        }
        if (_options.Keep > 0) File.Move(_options.Path, $"{_options.Path}.1", overwrite: true);
        else File.Delete(_options.Path);
        _writer = OpenNew();
    }

    public async ValueTask CompleteAsync(CancellationToken ct) => await _writer.FlushAsync(ct).ConfigureAwait(false);

    public async ValueTask DisposeAsync() => await _writer.DisposeAsync().ConfigureAwait(false);
}
