using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVision.App.Config;
using StreamVision.Cluster;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Service;

/// <summary>
/// Runs the streams the cluster assigns to this instance on its <see cref="StreamManager"/> (the same path as
/// <c>POST /api/streams</c> on a stand-alone instance). A definition is the API's JSON for one stream.
/// </summary>
/// <param name="overlay">Applied to each stream before it starts here (the zones and lines drawn in the browser); null = none.</param>
public sealed class ClusterStreams(StreamManager manager, Func<StreamConfig, StreamConfig>? overlay = null) : IStreamRunner
{
    /// <exception cref="ConfigException">The definition is invalid.</exception>
    public async Task StartAsync(string id, string spec, CancellationToken ct)
    {
        var cfg = StreamSpecs.Parse(spec);
        if (cfg.Id != id) cfg = cfg with { Source = cfg.Source with { Id = id } };
        if (!cfg.Enabled) return;
        if (overlay is not null) cfg = overlay(cfg);
        await manager.AddAsync(cfg).ConfigureAwait(false);
    }

    public Task StopAsync(string id) => manager.RemoveAsync(id);

    /// <summary>
    /// Stops every stream of this instance (etcd lost, leaving the cluster) and keeps the manager usable: its own
    /// <see cref="StreamManager.StopAllAsync"/> is for shutting down and refuses every later start.
    /// </summary>
    public async Task StopAllAsync()
    {
        foreach (var s in manager.Streams) await manager.RemoveAsync(s.Id).ConfigureAwait(false);
    }
}

/// <summary>Stream definitions as the cluster stores them: one JSON object per stream, with the keys of a <c>streams:</c> item.</summary>
public static partial class StreamSpecs
{
    /// <summary>Binds a definition with the rules of the configuration file.</summary>
    /// <exception cref="ConfigException">It is invalid.</exception>
    public static StreamConfig Parse(string spec) => ConfigLoader.LoadStream(spec);

    /// <summary>A stream given as JSON or YAML (the API's POST body) as compact JSON.</summary>
    /// <exception cref="ConfigException">It is not a mapping.</exception>
    public static string Normalize(string jsonOrYaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(jsonOrYaml));
        }
        catch (YamlDotNet.Core.YamlException ex)
        {
            throw new ConfigException("stream", [new ConfigError("(body)", $"not valid JSON/YAML: {ex.Message}")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
            throw new ConfigException("stream", [new ConfigError("(body)", "must be an object with at least id and uri")]);
        return ToJson(m);
    }

    /// <summary>
    /// The <c>streams:</c> of a configuration file as definitions (id, JSON), as written in the file: what a clustered
    /// instance puts in the cluster's list when missing. Ids left out are derived from the URI as the file loader does.
    /// </summary>
    public static IReadOnlyList<(string Id, string Spec)> FromConfigFile(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root) return [];
        if (!root.Children.TryGetValue(new YamlScalarNode("streams"), out var node) || node is not YamlSequenceNode seq) return [];
        var list = new List<(string, string)>();
        foreach (var item in seq.OfType<YamlMappingNode>())
        {
            string json = ToJson(item);
            list.Add((Parse(json).Id, json));
        }
        return list;
    }

    /// <summary>The <c>uri</c> of a definition (for a stream no instance describes), or "".</summary>
    public static string UriOf(string spec)
    {
        try
        {
            using var doc = JsonDocument.Parse(spec);
            return doc.RootElement.TryGetProperty("uri", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() ?? "" : "";
        }
        catch (JsonException)
        {
            return "";
        }
    }

    private static string ToJson(YamlNode node)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer)) Write(w, node);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter w, YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                w.WriteStartObject();
                foreach (var (key, value) in map.Children)
                {
                    w.WritePropertyName(key is YamlScalarNode ks ? ks.Value ?? "" : key.ToString());
                    Write(w, value);
                }
                w.WriteEndObject();
                break;
            case YamlSequenceNode seq:
                w.WriteStartArray();
                foreach (var item in seq) Write(w, item);
                w.WriteEndArray();
                break;
            case YamlScalarNode s:
                string v = s.Value ?? "";
                bool plain = s.Style is YamlDotNet.Core.ScalarStyle.Plain or YamlDotNet.Core.ScalarStyle.Any;
                if (plain && v is "" or "~" or "null") w.WriteNullValue();
                else if (plain && v is "true" or "false") w.WriteBooleanValue(v == "true");
                else if (plain && JsonNumber().IsMatch(v)) w.WriteRawValue(v);
                else w.WriteStringValue(v);
                break;
            default:
                w.WriteNullValue();
                break;
        }
    }

    [GeneratedRegex(@"^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$")]
    private static partial Regex JsonNumber();
}
