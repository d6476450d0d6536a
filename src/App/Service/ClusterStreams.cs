using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using StreamVision.App.Config;
using StreamVision.Cluster;
using StreamVision.Core;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Service;

/// <summary>
/// Runs the streams the cluster assigns to this instance on its <see cref="StreamManager"/> (the same path as
/// <c>POST /api/streams</c> on a stand-alone instance). A definition is the API's JSON for one stream; its sinks start
/// from this instance's <c>sinks:</c>, and one that came through the API (<see cref="StreamSpecs.IsFromApi"/>) is
/// confined here, where it writes, by <paramref name="outputs"/> (this instance's output root and allow-list).
/// </summary>
/// <param name="overlay">Applied to each stream before it starts here (the zones and lines drawn in the browser); null = none.</param>
public sealed class ClusterStreams(StreamManager manager, ApiOutputPolicy outputs, Func<StreamConfig, StreamConfig>? overlay = null) : IStreamRunner
{
    /// <exception cref="ConfigException">The definition is invalid, or an API stream's outputs are not allowed here.</exception>
    public async Task StartAsync(string id, string spec, CancellationToken ct)
    {
        var sinks = manager.Config.Sinks;
        var cfg = StreamSpecs.Parse(spec, sinks);
        if (cfg.Id != id) cfg = cfg with { Source = cfg.Source with { Id = id } };
        if (!cfg.Enabled) return;
        if (StreamSpecs.IsFromApi(spec))
        {
            try
            {
                cfg = outputs.Confine(cfg, sinks);
            }
            catch (OptionsException ex)
            {
                throw new ConfigException("stream", [new ConfigError(ex.Path, ex.Message)]);
            }
        }
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
    /// <summary>
    /// The key a definition added through the API carries (set by the API, whatever the body said): the instance that
    /// runs it confines its outputs as a stand-alone instance's API does. Definitions from configuration files lack it.
    /// </summary>
    public const string ApiOriginKey = "added_through_api";

    /// <summary>
    /// Binds a definition with the rules of the configuration file; with <paramref name="sinks"/> (the instance's) a
    /// <c>sinks</c> key starts from them. The API's mark (<see cref="ApiOriginKey"/>) is not a stream key and is left out.
    /// </summary>
    /// <exception cref="ConfigException">It is invalid.</exception>
    public static StreamConfig Parse(string spec, SinksConfig? sinks = null)
    {
        if (!spec.Contains(ApiOriginKey, StringComparison.Ordinal)) return ConfigLoader.LoadStream(spec, sinks: sinks);
        using var doc = JsonDocument.Parse(spec);
        var o = System.Text.Json.Nodes.JsonObject.Create(doc.RootElement)!;
        o.Remove(ApiOriginKey);
        using var clean = JsonDocument.Parse(o.ToJsonString());
        return ConfigLoader.LoadStream(clean.RootElement, sinks: sinks);
    }

    /// <summary>The definition marked as added through the API (any mark the body carried is replaced).</summary>
    public static string MarkFromApi(string spec)
    {
        var o = System.Text.Json.Nodes.JsonNode.Parse(spec)!.AsObject();
        o.Remove(ApiOriginKey);
        o[ApiOriginKey] = true;
        return o.ToJsonString();
    }

    /// <summary>True for a definition the API added (<see cref="MarkFromApi"/>).</summary>
    public static bool IsFromApi(string spec)
    {
        if (!spec.Contains(ApiOriginKey, StringComparison.Ordinal)) return false;
        try
        {
            using var doc = JsonDocument.Parse(spec);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(ApiOriginKey, out var v) && v.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

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
