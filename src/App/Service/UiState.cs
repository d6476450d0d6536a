using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Core;

namespace StreamVision.App.Service;

/// <summary>
/// What was changed in the browser (or over the API) and must outlive the process: streams added or edited (their
/// request bodies), streams removed (ids), and zones and lines drawn (per stream). Kept in one JSON file (written whole
/// to a temporary name, then renamed), applied over the configuration file at start and on every reload
/// (<see cref="Apply"/>); the configuration file itself is never rewritten. Thread-safe.
/// </summary>
public sealed class UiState
{
    private static readonly JsonSerializerOptions s_json = new() { WriteIndented = true };
    private readonly object _gate = new();
    private readonly string? _path;
    private readonly ILogger _logger;
    private readonly SortedDictionary<string, string> _streams = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _removed = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _regions = new(StringComparer.Ordinal);

    /// <param name="path">The state file; null or empty = kept in memory only.</param>
    /// <param name="logger">Entries of the file that no longer bind (logged and skipped).</param>
    public UiState(string? path, ILogger logger)
    {
        _path = string.IsNullOrWhiteSpace(path) ? null : path;
        _logger = logger;
        if (_path is null || !File.Exists(_path)) return;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(_path));
        }
        catch (JsonException ex)
        {
            throw new ConfigException(_path, [new ConfigError("(state file)", $"not valid JSON: {ex.Message}")]);
        }
        if (root?["streams"] is JsonObject streams)
            foreach (var (id, body) in streams) if (body is JsonValue v && v.TryGetValue(out string? text)) _streams[id] = text;
        if (root?["removed"] is JsonArray removed)
            foreach (var id in removed) if (id is JsonValue v && v.TryGetValue(out string? text)) _removed.Add(text);
        if (root?["regions"] is JsonObject regions)
            foreach (var (id, r) in regions) if (r is JsonObject o) _regions[id] = o.ToJsonString();
    }

    /// <summary>The file, or null when changes are kept in memory only.</summary>
    public string? Path => _path;

    /// <summary>A stream added or edited: its body (YAML or JSON, as <see cref="ConfigLoader.LoadStream(string, int, SinksConfig?)"/> reads it) replaces any earlier one.</summary>
    public void StreamSaved(string id, string body)
    {
        lock (_gate)
        {
            _streams[id] = body;
            _removed.Remove(id);
            Save();
        }
    }

    /// <summary>A stream removed: it stays removed after a restart, also when the configuration file lists it.</summary>
    public void StreamRemoved(string id)
    {
        lock (_gate)
        {
            _streams.Remove(id);
            _regions.Remove(id);
            _removed.Add(id);
            Save();
        }
    }

    /// <summary>Forgets a stream's zones and lines (in a cluster they live in the stream's definition instead).</summary>
    public void RegionsForgotten(string id)
    {
        lock (_gate)
        {
            if (_regions.Remove(id)) Save();
        }
    }

    /// <summary>A stream's zones and lines, as <c>{"zones": [...], "lines": [...]}</c> in the configuration's shape.</summary>
    public void RegionsSaved(string id, string regionsJson)
    {
        lock (_gate)
        {
            _regions[id] = regionsJson;
            Save();
        }
    }

    /// <summary>
    /// <paramref name="config"/> with the changes applied: removed streams dropped, saved bodies replacing or adding
    /// streams, saved zones and lines replacing a stream's. An entry that no longer binds is logged and skipped.
    /// </summary>
    public SvConfig Apply(SvConfig config)
    {
        lock (_gate)
        {
            if (_streams.Count == 0 && _removed.Count == 0 && _regions.Count == 0) return config;
            var list = config.Streams.Where(s => !_removed.Contains(s.Id)).ToList();
            foreach (var (id, body) in _streams)
            {
                StreamConfig s;
                try
                {
                    s = ConfigLoader.LoadStream(body, Math.Max(0, list.FindIndex(x => x.Id == id)), sinks: config.Sinks);
                }
                catch (ConfigException ex)
                {
                    _logger.LogError("state file: stream {Stream} skipped: {Errors}", id, string.Join("; ", ex.Errors));
                    continue;
                }
                int i = list.FindIndex(x => x.Id == s.Id);
                if (i >= 0) list[i] = s;
                else list.Add(s);
            }
            foreach (var (id, json) in _regions)
            {
                int i = list.FindIndex(x => x.Id == id);
                if (i < 0) continue;
                try
                {
                    var (zones, lines) = BindRegions(list[i], json, i);
                    list[i] = list[i] with { Analytics = list[i].Analytics with { Zones = zones, Lines = lines } };
                }
                catch (ConfigException ex)
                {
                    _logger.LogError("state file: zones and lines of stream {Stream} skipped: {Errors}", id, string.Join("; ", ex.Errors));
                }
            }
            return config with { Streams = list };
        }
    }

    /// <summary>
    /// <paramref name="stream"/> with the zones and lines saved for it, or as it is when none were saved (or they no
    /// longer bind: logged). In a cluster, what a stream gets as it starts on this instance.
    /// </summary>
    public StreamConfig ApplyRegions(StreamConfig stream)
    {
        string? json;
        lock (_gate)
        {
            if (!_regions.TryGetValue(stream.Id, out json)) return stream;
        }
        try
        {
            var (zones, lines) = BindRegions(stream, json, 0);
            return stream with { Analytics = stream.Analytics with { Zones = zones, Lines = lines } };
        }
        catch (Exception ex) when (ex is ConfigException or OptionsException)
        {
            _logger.LogError("state file: zones and lines of stream {Stream} skipped: {Error}", stream.Id, ex is ConfigException c ? string.Join("; ", c.Errors) : ex.Message);
            return stream;
        }
    }

    /// <summary>
    /// Binds <c>{"zones": [...], "lines": [...]}</c> for <paramref name="stream"/> with the configuration's rules; errors
    /// carry the key paths of a configuration file (<c>streams[INDEX].zones[1].polygon</c>).
    /// </summary>
    public static (IReadOnlyList<Analytics.ZoneOptions> Zones, IReadOnlyList<Analytics.LineOptions> Lines) BindRegions(StreamConfig stream, string regionsJson, int index)
    {
        JsonObject regions;
        try
        {
            regions = JsonNode.Parse(regionsJson) as JsonObject ?? throw new ConfigException("regions", [new ConfigError("(body)", "must be an object {\"zones\": [...], \"lines\": [...]}")]);
        }
        catch (JsonException ex)
        {
            throw new ConfigException("regions", [new ConfigError("(body)", $"not valid JSON: {ex.Message}")]);
        }
        foreach (var (key, _) in regions)
            if (key is not ("zones" or "lines")) throw new ConfigException("regions", [new ConfigError($"streams[{index}].{key}", "unknown key: only zones and lines")]);
        var body = new JsonObject
        {
            ["id"] = stream.Id,
            ["uri"] = stream.Source.Uri,
            ["zones"] = regions["zones"]?.DeepClone() ?? new JsonArray(),
            ["lines"] = regions["lines"]?.DeepClone() ?? new JsonArray(),
        };
        var bound = ConfigLoader.LoadStream(body.ToJsonString(), index);
        bound.Analytics.Validate($"streams[{index}]");
        return (bound.Analytics.Zones, bound.Analytics.Lines);
    }

    private void Save()
    {
        if (_path is null) return;
        var root = new JsonObject
        {
            ["version"] = 1,
            ["streams"] = new JsonObject(_streams.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
            ["removed"] = new JsonArray(_removed.Select(id => (JsonNode?)JsonValue.Create(id)).ToArray()),
            ["regions"] = new JsonObject(_regions.Select(kv => KeyValuePair.Create(kv.Key, JsonNode.Parse(kv.Value)))),
        };
        string dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!;
        Directory.CreateDirectory(dir);
        string tmp = _path + ".tmp";
        File.WriteAllText(tmp, root.ToJsonString(s_json));
        File.Move(tmp, _path, overwrite: true);
    }
}
