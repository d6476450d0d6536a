using System.Collections.Concurrent;
using StreamVision.App.Config;
using StreamVision.Core;
using StreamVision.Sinks;

namespace StreamVision.App.Service;

/// <summary>
/// What a stream added through the HTTP API may write and where it may send: every file under the output root
/// (<see cref="HttpConfig.OutputRoot"/>; relative paths only, no <c>..</c>, no symbolic link leading out, checked on the
/// real path of the nearest existing folder), never an existing file the service did not create (single files are
/// created here with create-new before the sink opens them), network targets only when <see cref="HttpConfig.AllowedTargets"/>
/// lists them, FFmpeg muxers and options only from a short list (no <c>tee</c>, no options that name files).
/// Configuration-file streams (the operator's) do not pass through here.
/// </summary>
/// <remarks>
/// The checks hold against an API client. A local user who can create symbolic links inside the root between the check
/// and the open is not in scope: give the service a root that only it can write.
/// </remarks>
public sealed class ApiOutputPolicy
{
    /// <summary>Muxers an API stream may name in <c>video.format</c> (none of them writes files of its own choosing).</summary>
    public static readonly IReadOnlySet<string> Formats = new HashSet<string>(StringComparer.Ordinal) { "mp4", "mov", "matroska", "webm", "mpegts", "hls", "rtsp", "flv" };

    /// <summary>FFmpeg options an API stream may give in <c>video.extra_options</c> (none names a file; x264-params can: not listed).</summary>
    public static readonly IReadOnlySet<string> ExtraOptions = new HashSet<string>(StringComparer.Ordinal)
    {
        "tune", "profile", "level", "g", "bf", "b", "maxrate", "bufsize", "movflags", "hls_time", "hls_list_size", "hls_flags",
        "rtsp_transport", "threads",
    };

    private readonly HttpConfig _http;
    private readonly string _instance;
    /// <summary>Full paths of files and file families (a prefix such as <c>/root/cam-</c>) this service created, so a stream re-added under the same id may write them again.</summary>
    private readonly ConcurrentDictionary<string, byte> _created = new(StringComparer.Ordinal);

    public ApiOutputPolicy(HttpConfig http, string instance, string? workingDirectory = null)
    {
        _http = http;
        _instance = instance;
        string root = Path.GetFullPath(http.OutputRoot, workingDirectory ?? Environment.CurrentDirectory);
        try
        {
            Directory.CreateDirectory(root);
            Root = RealPath(root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new OptionsException("http.output_root", $"cannot create {root}: {ex.Message}");
        }
    }

    /// <summary>The output root, its real path (symbolic links resolved).</summary>
    public string Root { get; }

    /// <summary>
    /// Checks the sinks an API request gave for <paramref name="stream"/> and returns them with every path made absolute
    /// under <see cref="Root"/>; creates the single files (create-new) and their folders. What the stream inherits
    /// unchanged from <paramref name="instance"/> (the operator's <c>sinks:</c>: file templates, brokers, webhook URLs) is
    /// the operator's and passes, except a single-file template without <c>{stream}</c>, which would make the new stream
    /// write another stream's file. Throws <see cref="OptionsException"/> naming the key (<c>sinks.video.path</c>,
    /// <c>sinks.webhook.url</c>, ...) and why. With <paramref name="dryRun"/> only the rules that do not depend on this
    /// disk are checked and nothing is created (a cluster instance taking a request another instance will run).
    /// </summary>
    public StreamConfig Confine(StreamConfig stream, SinksConfig? instance = null, bool dryRun = false)
    {
        CheckSource(stream.Source);
        if ((stream.Sinks ?? instance) is not { } s) return stream;
        var op = instance ?? new SinksConfig();
        string id = stream.Id;
        var planned = new List<(string Key, string Path)>();
        VideoSinkOptions? video = null;
        if (s.Video is { } v)
        {
            if (v.Path == op.Video?.Path) SharedTemplate("sinks.video.path", v.Path, single: !v.Path.Contains("://", StringComparison.Ordinal));
            video = v == op.Video ? v : ConfineVideo(v, id, planned, operatorPath: op.Video?.Path, dryRun);
        }
        string? tracks = s.Tracks;
        if (s.Tracks is { } t)
        {
            if (t == op.Tracks) SharedTemplate("sinks.tracks", t, single: true);
            else tracks = File("sinks.tracks", t, id, planned, dryRun);
        }
        JsonLinesOptions? events = s.Events;
        if (s.Events is { } e)
        {
            if (e.Path == op.Events?.Path) SharedTemplate("sinks.events.path", e.Path, single: true);
            else
            {
                string p = File("sinks.events.path", e.Path, id, planned, dryRun);
                // Rotation renames to PATH.1 .. PATH.keep: none of those may be someone else's file either.
                if (!dryRun) Family("sinks.events.path", Path.GetDirectoryName(p)!, Path.GetFileName(p) + ".");
                events = e with { Path = p };
            }
        }
        SnapshotOptions? snapshots = s.Snapshots;
        if (s.Snapshots is { } sn && sn.Directory != op.Snapshots?.Directory)
        {
            string dir = Resolve("sinks.snapshots.directory", sn.Directory, id);
            if (!dryRun) OwnDirectory("sinks.snapshots.directory", dir);
            snapshots = sn with { Directory = dir };
        }
        if (s.Mqtt is { } m && m != op.Mqtt)
        {
            if (m.Tls != op.Mqtt?.Tls && m.Tls is { CaFile: not null } or { CertFile: not null } or { KeyFile: not null })
                throw new OptionsException("sinks.mqtt.tls", "certificate and key files cannot be given through the API; configure TLS files in the configuration file");
            if (!(op.Mqtt is { } om && om.Host == m.Host && om.Port == m.Port && om.Tls is null == m.Tls is null))
                Target("sinks.mqtt.host", $"{(m.Tls is null ? "mqtt" : "mqtts")}://{m.Host}:{m.Port}/");
        }
        if (s.Webhook is { } w && w.Url != op.Webhook?.Url) Target("sinks.webhook.url", w.Url);
        if (s.Kafka is { } k && k != op.Kafka)
        {
            if (k.CaFile is not null && k.CaFile != op.Kafka?.CaFile)
                throw new OptionsException("sinks.kafka.ca_file", "certificate files cannot be given through the API; configure them in the configuration file");
            // Each bootstrap broker not the operator's must be listed, as kafka://host:port.
            var operatorBrokers = (op.Kafka?.Brokers ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            foreach (var broker in k.Brokers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Except(operatorBrokers))
                Target("sinks.kafka.brokers", $"kafka://{broker}/");
        }
        if (!dryRun)
        {
            foreach (var (key, path) in planned.Where(p => p.Path.Length > 0)) CreateOwn(key, path);
        }
        return stream with { Sinks = s with { Video = video, Tracks = tracks, Events = events, Snapshots = snapshots } };
    }

    /// <summary>
    /// An output template the stream inherits from the instance: the operator's, written as configured, but a single file
    /// must carry <c>{stream}</c> or the new stream would write the file another stream writes.
    /// </summary>
    private static void SharedTemplate(string key, string template, bool single)
    {
        if (single && !template.Contains("{stream}", StringComparison.Ordinal))
            throw new OptionsException(key, $"the instance's '{template}' has no {{stream}}: a stream added through the API would write the same file as the others; give this stream its own (a path under http.output_root) or switch it off (false)");
    }

    /// <summary>
    /// Filters an API stream's lavfi graph may use: generators and filters that only draw or change the picture. None reads
    /// or writes a file (movie, vidstabdetect, signature, psnr/ssim stats, drawtext's textfile, life's pattern file are
    /// why there is a list at all).
    /// </summary>
    public static readonly IReadOnlySet<string> LavfiFilters = new HashSet<string>(StringComparer.Ordinal)
    {
        "testsrc", "testsrc2", "smptebars", "smptehdbars", "rgbtestsrc", "yuvtestsrc", "pal75bars", "pal100bars", "color", "mandelbrot",
        "gradients", "sierpinski", "allrgb", "allyuv", "nullsrc", "zoneplate",
        "realtime", "scale", "fps", "format", "setpts", "hflip", "vflip", "noise", "null", "overlay", "drawbox", "drawgrid", "crop",
        "pad", "rotate", "transpose", "hstack", "vstack", "boxblur", "gblur", "eq", "hue", "negate", "split", "trim", "loop",
    };

    /// <summary>Demuxer and protocol options an API stream may give in <c>ffmpeg_options</c> (none names a file or widens what may be opened).</summary>
    public static readonly IReadOnlySet<string> SourceOptions = new HashSet<string>(StringComparer.Ordinal)
    {
        "rtsp_transport", "rtsp_flags", "stimeout", "timeout", "rw_timeout", "probesize", "analyzeduration", "fflags", "max_delay",
        "reorder_queue_size", "buffer_size", "fifo_size", "reconnect", "reconnect_streamed", "reconnect_delay_max", "user_agent",
        "video_size", "framerate", "pixel_format", "input_format", "listen_timeout", "latency",
    };

    /// <summary>
    /// An API stream's source: <c>ffmpeg_options</c> from <see cref="SourceOptions"/> only, and a lavfi graph of filters
    /// from <see cref="LavfiFilters"/> (chains, labels and quoted expressions are fine: only the filter names count).
    /// </summary>
    private static void CheckSource(Ingest.SourceOptions source)
    {
        foreach (var key in (source.FfmpegOptions ?? new Dictionary<string, string>()).Keys)
        {
            if (!SourceOptions.Contains(key))
                throw new OptionsException($"ffmpeg_options.{key}", $"cannot be given through the API; allowed: {string.Join(", ", SourceOptions.Order())}");
        }
        if (string.IsNullOrWhiteSpace(source.Uri)) return;
        var r = Ingest.SourceUri.Resolve(source.Uri, source.Format);
        if (r.Kind != Ingest.SourceKind.TestPattern) return;
        foreach (var filter in LavfiFilterNames(r.Url))
        {
            if (!LavfiFilters.Contains(filter))
                throw new OptionsException("uri", $"lavfi filter '{filter}' cannot be used through the API; allowed: {string.Join(", ", LavfiFilters.Order())}");
        }
    }

    /// <summary>
    /// The filter names of a filtergraph as libavfilter reads it: filters separated by ',' and chains by ';' outside
    /// quotes ('...') and backslash escapes, each with optional [labels] before and after, then NAME[@id][=args].
    /// </summary>
    public static IEnumerable<string> LavfiFilterNames(string graph)
    {
        var names = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i <= graph.Length; i++)
        {
            char c = i < graph.Length ? graph[i] : ';';
            if (i < graph.Length && c == '\\' && i + 1 < graph.Length)
            {
                current.Append(c).Append(graph[++i]);
                continue;
            }
            if (c == '\'') quoted = !quoted;
            if (quoted || c is not (',' or ';'))
            {
                current.Append(c);
                continue;
            }
            string f = current.ToString().Trim();
            current.Clear();
            // Leading labels [in]: skip them; the name runs to '=', '@', '[' or the end.
            while (f.StartsWith('['))
            {
                int close = f.IndexOf(']', StringComparison.Ordinal);
                f = close < 0 ? "" : f[(close + 1)..].TrimStart();
            }
            int stop = f.IndexOfAny(['=', '@', '[']);
            string name = (stop < 0 ? f : f[..stop]).Trim();
            if (name.Length == 0 && f.Length == 0) continue;
            names.Add(name);
        }
        if (quoted) names.Add("(unbalanced quote)");
        return names;
    }

    private VideoSinkOptions ConfineVideo(VideoSinkOptions v, string id, List<(string Key, string Path)> planned, string? operatorPath, bool dryRun)
    {
        if (v.Format is { } f && !Formats.Contains(f))
            throw new OptionsException("sinks.video.format", $"'{f}' cannot be used through the API; one of {string.Join(", ", Formats.Order())}");
        foreach (var k in (v.ExtraOptions ?? new Dictionary<string, string>()).Keys)
        {
            if (!ExtraOptions.Contains(k))
                throw new OptionsException($"sinks.video.extra_options.{k}", $"cannot be given through the API; allowed: {string.Join(", ", ExtraOptions.Order())}");
        }
        // The operator's path with options of the request's (a preset, a format): the path stays as configured.
        if (v.Path == operatorPath) return v;
        string expanded = SinkFactory.Expand(v.Path, _instance, id);
        if (expanded.Contains("://", StringComparison.Ordinal) && !expanded.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            Target("sinks.video.path", expanded);
            return v;
        }
        if (v.Format is "rtsp" or "flv")
            throw new OptionsException("sinks.video.format", $"'{v.Format}' is a network output: give a URL the allow-list (http.allowed_targets) names");
        string path = Resolve("sinks.video.path", v.Path, id);
        string dir = Path.GetDirectoryName(path)!, name = Path.GetFileName(path);
        bool hls = v.Format == "hls" || path.EndsWith(".m3u8", StringComparison.OrdinalIgnoreCase);
        int token = name.IndexOf('{', StringComparison.Ordinal);
        if (dryRun) return v with { Path = path };
        if (hls)
        {
            // The playlist and its segments NAME0.ts, NAME1.ts ... beside it.
            Family("sinks.video.path", dir, Path.GetFileNameWithoutExtension(name));
        }
        else if (token >= 0 || v.SegmentSeconds > 0)
        {
            // Segments: the name up to the first {index}/{time}, or up to the -{index} the sink puts before the extension.
            Family("sinks.video.path", dir, token >= 0 ? name[..token] : Path.GetFileNameWithoutExtension(name) + "-");
        }
        else
        {
            CheckNotForeign("sinks.video.path", path);
            planned.Add(("sinks.video.path", path));
        }
        return v with { Path = path };
    }

    /// <summary>A single output file: resolved, checked and planned for creation (after every other key checked out).</summary>
    private string File(string key, string template, string id, List<(string Key, string Path)> planned, bool dryRun)
    {
        string path = Resolve(key, template, id);
        if (dryRun) return path;
        CheckNotForeign(key, path);
        planned.Add((key, path));
        return path;
    }

    /// <summary>The absolute path of <paramref name="template"/> (expanded) under the root, or an error naming <paramref name="key"/>.</summary>
    public string Resolve(string key, string template, string id)
    {
        string p = SinkFactory.Expand(template, _instance, id);
        if (p.Length == 0 || p.Contains('\0', StringComparison.Ordinal)) throw new OptionsException(key, "must be a file name");
        if (p.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || Path.IsPathRooted(p) || p.StartsWith('~'))
            throw new OptionsException(key, $"must be a path relative to the output root (http.output_root), got '{p}'");
        var parts = p.Split('/', '\\');
        if (parts.Any(part => part == ".."))
            throw new OptionsException(key, $"must not contain '..', got '{p}'");
        string full = Path.GetFullPath(Path.Combine(Root, p));
        if (!Inside(full)) throw new OptionsException(key, $"'{p}' leads outside the output root");
        if (full.EndsWith(Path.DirectorySeparatorChar)) throw new OptionsException(key, $"must name a file, got '{p}'");
        // The real path of the nearest folder that exists: a symbolic link inside the root must not lead out of it.
        string? existing = Path.GetDirectoryName(full);
        while (existing is not null && !Directory.Exists(existing) && !System.IO.File.Exists(existing) && new FileInfo(existing).LinkTarget is null)
            existing = Path.GetDirectoryName(existing);
        if (existing is null || !Inside(RealPath(existing)) && RealPath(existing) != Root)
            throw new OptionsException(key, $"'{p}' leads outside the output root through a symbolic link");
        if (new FileInfo(full).LinkTarget is not null)
            throw new OptionsException(key, $"'{p}' is a symbolic link; the API writes only files of its own");
        return full;
    }

    private bool Inside(string full) => full.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>Refuses a path that exists (file, folder, link) unless this service created it.</summary>
    private void CheckNotForeign(string key, string path)
    {
        bool exists = System.IO.File.Exists(path) || Directory.Exists(path) || new FileInfo(path).LinkTarget is not null;
        if (exists && !_created.ContainsKey(path))
            throw new OptionsException(key, $"'{Relative(path)}' exists and was not created by this service; the API never overwrites it: choose another name or remove the file");
    }

    /// <summary>Creates <paramref name="path"/> empty with create-new (or keeps it when this service made it earlier) and remembers it.</summary>
    private void CreateOwn(string key, string path)
    {
        if (_created.ContainsKey(path)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        try
        {
            using var _ = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (IOException) when (System.IO.File.Exists(path) || Directory.Exists(path))
        {
            throw new OptionsException(key, $"'{Relative(path)}' exists and was not created by this service; the API never overwrites it");
        }
        _created[path] = 0;
    }

    /// <summary>Files the sink names itself (segments, rotated files) start with <paramref name="prefix"/> in <paramref name="dir"/>: none may exist unless this service made the family.</summary>
    private void Family(string key, string dir, string prefix)
    {
        string family = Path.Combine(dir, prefix);
        if (_created.ContainsKey(family)) return;
        if (Directory.Exists(dir))
        {
            var foreign = Directory.EnumerateFileSystemEntries(dir, "*", SearchOption.TopDirectoryOnly)
                .FirstOrDefault(f => Path.GetFileName(f).StartsWith(prefix, StringComparison.Ordinal) && !_created.ContainsKey(f));
            if (foreign is not null)
                throw new OptionsException(key, $"'{Relative(foreign)}' exists and was not created by this service, and this output would write files named '{prefix}*' beside it: choose another name");
        }
        Directory.CreateDirectory(dir);
        _created[family] = 0;
    }

    /// <summary>A folder the sink fills: it must not exist unless this service created it (or be empty).</summary>
    private void OwnDirectory(string key, string dir)
    {
        if (!_created.ContainsKey(dir))
        {
            if (System.IO.File.Exists(dir)) throw new OptionsException(key, $"'{Relative(dir)}' is a file");
            if (Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any())
                throw new OptionsException(key, $"'{Relative(dir)}' exists, is not empty and was not created by this service: choose another folder");
        }
        Directory.CreateDirectory(dir);
        _created[dir] = 0;
    }

    /// <summary>Refuses a network target unless <see cref="HttpConfig.AllowedTargets"/> has a prefix of it (same scheme, host, port; path under).</summary>
    public void Target(string key, string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Host.Length == 0)
            throw new OptionsException(key, $"must be a URL, got '{url}'");
        foreach (var allowed in _http.AllowedTargets)
        {
            var a = new Uri(allowed);
            if (a.Scheme.Equals(u.Scheme, StringComparison.OrdinalIgnoreCase) && a.Host.Equals(u.Host, StringComparison.OrdinalIgnoreCase)
                && a.Port == u.Port && u.AbsolutePath.StartsWith(a.AbsolutePath, StringComparison.Ordinal) && u.UserInfo.Length == 0 == (a.UserInfo.Length == 0))
                return;
        }
        throw new OptionsException(key, _http.AllowedTargets.Count == 0
            ? $"'{u.Scheme}://{u.Authority}' is not allowed: streams added through the API may not send anywhere unless http.allowed_targets lists the server"
            : $"'{u.Scheme}://{u.Authority}{u.AbsolutePath}' is not under any of http.allowed_targets");
    }

    private string Relative(string path) => Path.GetRelativePath(Root, path);

    /// <summary>The path with every symbolic link along it resolved (as realpath(3)), for a path that exists.</summary>
    public static string RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        var parts = full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0, hops = 0; i < parts.Length; i++)
        {
            string next = Path.Combine(current, parts[i]);
            var info = new FileInfo(next);
            if (info.LinkTarget is { } target)
            {
                if (++hops > 40) throw new IOException($"too many symbolic links under {path}");
                // Resolve the link's target (relative to the link's folder), then carry on with the rest.
                string resolved = Path.GetFullPath(target, current);
                var rest = parts.Skip(i + 1);
                full = Path.Combine([resolved, .. rest]);
                current = Path.GetPathRoot(full)!;
                parts = full[current.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
                i = -1;
                continue;
            }
            current = next;
        }
        return current;
    }
}
