using System.Collections;
using System.Globalization;
using StreamVision.Core;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace StreamVision.App.Config;

/// <summary>One problem in a configuration: the key path (<c>streams[2].uri</c>) and what is expected.</summary>
public sealed record ConfigError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}

/// <summary>The configuration could not be loaded; <see cref="Errors"/> lists every problem with its key path.</summary>
public sealed class ConfigException : StreamVisionException
{
    public ConfigException(string source, IReadOnlyList<ConfigError> errors)
        : base($"{source}: {errors.Count} error(s)\n  " + string.Join("\n  ", errors)) => Errors = errors;

    public IReadOnlyList<ConfigError> Errors { get; }
}

/// <summary>
/// Loads the YAML configuration, applies environment overrides and binds it to <see cref="SvConfig"/> with
/// <see cref="OptionsBinder"/> (every option of every stage, validated by the options types), listing every error at once.
/// Overrides: <c>SV__KEY__SUBKEY=value</c>, list items by index, e.g. <c>SV__DETECTOR__CONFIDENCE=0.6</c>,
/// <c>SV__STREAMS__0__URI=rtsp://cam/1</c>, <c>SV__HTTP__LISTEN=http://0.0.0.0:8080</c>.
/// </summary>
public static class ConfigLoader
{
    public const string EnvPrefix = "SV__";

    public static SvConfig LoadFile(string path, IDictionary? environment = null)
    {
        if (!File.Exists(path)) throw new ConfigException(path, [new ConfigError("(file)", "not found")]);
        return LoadText(File.ReadAllText(path), path, environment);
    }

    public static SvConfig LoadText(string yaml, string source = "(config)", IDictionary? environment = null)
    {
        var errors = new List<ConfigError>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException ex)
        {
            throw new ConfigException(source, [new ConfigError($"(line {ex.Start.Line}, column {ex.Start.Column})", $"not valid YAML: {ex.InnerException?.Message ?? ex.Message}")]);
        }
        YamlMappingNode root;
        if (stream.Documents.Count == 0) root = new YamlMappingNode();
        else if (stream.Documents[0].RootNode is YamlMappingNode m) root = m;
        else throw new ConfigException(source, [new ConfigError("(root)", "must be a mapping (key: value lines)")]);

        ApplyEnvironment(root, environment ?? Environment.GetEnvironmentVariables(), errors);
        var config = Bind(root, errors);
        if (errors.Count > 0) throw new ConfigException(source, errors);
        return config;
    }

    /// <summary>Binds a stream given as a mapping (the HTTP API's POST body), with the same rules.</summary>
    public static StreamConfig LoadStream(string yamlOrJson, int index = 0)
    {
        var errors = new List<ConfigError>();
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yamlOrJson));
        }
        catch (YamlException ex)
        {
            throw new ConfigException("stream", [new ConfigError("(body)", $"not valid JSON/YAML: {ex.Message}")]);
        }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
            throw new ConfigException("stream", [new ConfigError("(body)", "must be an object with at least id and uri")]);
        var s = BindStream(m, index, errors);
        if (errors.Count > 0) throw new ConfigException("stream", errors);
        return s;
    }

    private static void ApplyEnvironment(YamlMappingNode root, IDictionary env, List<ConfigError> errors)
    {
        foreach (DictionaryEntry e in env)
        {
            if (e.Key is not string name || !name.StartsWith(EnvPrefix, StringComparison.Ordinal) || e.Value is not string value) continue;
            var parts = name[EnvPrefix.Length..].ToLowerInvariant().Split("__", StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            YamlNode node = root;
            for (int i = 0; i < parts.Length; i++)
            {
                bool last = i == parts.Length - 1;
                string part = parts[i];
                if (node is YamlMappingNode map)
                {
                    var key = new YamlScalarNode(part);
                    if (last) { map.Children[key] = new YamlScalarNode(value); break; }
                    if (!map.Children.TryGetValue(key, out var next))
                    {
                        next = int.TryParse(parts[i + 1], out _) ? new YamlSequenceNode() : new YamlMappingNode();
                        map.Children[key] = next;
                    }
                    node = next;
                }
                else if (node is YamlSequenceNode seq && int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int idx) && idx <= seq.Children.Count)
                {
                    if (idx == seq.Children.Count) seq.Children.Add(last ? new YamlScalarNode(value) : new YamlMappingNode());
                    else if (last) seq.Children[idx] = new YamlScalarNode(value);
                    if (last) break;
                    node = seq.Children[idx];
                }
                else
                {
                    errors.Add(new ConfigError(name, $"environment override does not fit the configuration at '{part}'"));
                    break;
                }
            }
        }
    }

    private static SvConfig Bind(YamlMappingNode root, List<ConfigError> errors)
    {
        var binder = new OptionsBinder(errors, typeof(SvConfig));
        var config = binder.Bind<SvConfig>(root, "", validate: false, deferred: "streams");
        // A stream's own sinks start from the instance's: the keys it gives override, the rest are inherited.
        binder.Inherit[typeof(SinksConfig)] = config.Sinks;
        var streams = binder.BindList<StreamConfig>(Find(root, "streams"), "streams").Select(WithId).ToList();
        config = config with { Streams = streams };
        // The cluster membership is named by the instance id (the section has no key of its own for it).
        if (config.Cluster is { } cluster) config = config with { Cluster = cluster with { InstanceId = config.Instance } };
        binder.Validate(config, "");
        return config;
    }

    private static StreamConfig BindStream(YamlMappingNode map, int index, List<ConfigError> errors)
    {
        string path = $"streams[{index}]";
        var binder = new OptionsBinder(errors, typeof(StreamConfig), path);
        return WithId(binder.Bind<StreamConfig>(map, path));
    }

    /// <summary>The effective id: given, or derived from the URI (so that it is printed and compared as the stream runs).</summary>
    private static StreamConfig WithId(StreamConfig s) =>
        s.Source.Id.Length == 0 && !string.IsNullOrWhiteSpace(s.Source.Uri) ? s with { Source = s.Source with { Id = s.Source.StreamId } } : s;

    private static YamlNode? Find(YamlMappingNode map, string key) =>
        map.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode { Value: { } k } && k == key).Value;
}
