using System.Text;

namespace StreamVision.Ingest;

/// <summary>What kind of input a source URI names.</summary>
public enum SourceKind
{
    /// <summary>A local file (any container and codec the local FFmpeg decodes).</summary>
    File,
    Rtsp,
    /// <summary>http(s):// that is not an HLS playlist: MPEG-TS, MJPEG or a file served over HTTP.</summary>
    Http,
    /// <summary>An HLS playlist (<c>.m3u8</c>) over http(s)://.</summary>
    Hls,
    Udp,
    Srt,
    Rtmp,
    Tcp,
    /// <summary>A V4L2 capture device (USB webcam): <c>/dev/videoN</c>.</summary>
    Device,
    /// <summary>An FFmpeg lavfi graph (test pattern) for demos and tests.</summary>
    TestPattern,
    /// <summary>Any other FFmpeg protocol; live by default.</summary>
    Other,
}

/// <summary>A source URI turned into what FFmpeg opens.</summary>
/// <param name="Url">What FFmpeg opens (a path, a URL, a device path or a lavfi graph).</param>
/// <param name="Format">Input format to force (<c>v4l2</c>, <c>lavfi</c>), or null to let FFmpeg probe.</param>
/// <param name="Kind">What kind of input it is.</param>
/// <param name="IsLive">Whether it is live by default: network streams, devices and test patterns are; files and
/// files served over HTTP (a path ending in a container extension such as <c>.mp4</c>) are not.</param>
public sealed record ResolvedSource(string Url, string? Format, SourceKind Kind, bool IsLive);

/// <summary>Turns what a user types as a source into an FFmpeg URL and input format, and names streams.</summary>
public static class SourceUri
{
    /// <summary>Test pattern the shorthand <c>testsrc</c> stands for: 1280x720 at 25 fps, paced in real time like a camera.</summary>
    public const string DefaultTestPattern = "testsrc2=size=1280x720:rate=25,realtime";

    private static readonly string[] s_fileExtensions =
        [".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".mpg", ".mpeg", ".wmv", ".3gp", ".mxf", ".y4m"];

    /// <summary>
    /// <c>/dev/videoN</c> and <c>v4l2:///dev/videoN</c> become the v4l2 device; <c>lavfi:GRAPH</c> a lavfi graph and
    /// <c>testsrc</c> <see cref="DefaultTestPattern"/>; <c>file://PATH</c> the path; anything else passes through
    /// (paths, rtsp://, http(s)://, udp://, srt://, rtmp://, tcp://). An explicit <paramref name="format"/> wins.
    /// </summary>
    public static ResolvedSource Resolve(string uri, string? format = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        uri = uri.Trim();
        string url = uri;
        string? fmt = string.IsNullOrEmpty(format) ? null : format;
        if (fmt is null)
        {
            if (uri.StartsWith("/dev/video", StringComparison.Ordinal)) fmt = "v4l2";
            else if (uri.StartsWith("v4l2://", StringComparison.Ordinal)) (url, fmt) = (uri["v4l2://".Length..], "v4l2");
            else if (uri.StartsWith("lavfi:", StringComparison.Ordinal)) (url, fmt) = (uri["lavfi:".Length..], "lavfi");
            else if (uri == "testsrc") (url, fmt) = (DefaultTestPattern, "lavfi");
            else if (uri.StartsWith("file://", StringComparison.Ordinal)) url = Uri.UnescapeDataString(uri["file://".Length..]);
        }
        var kind = fmt switch
        {
            "v4l2" or "video4linux2" => SourceKind.Device,
            "lavfi" => SourceKind.TestPattern,
            _ => KindOfUrl(url),
        };
        bool live = kind switch
        {
            SourceKind.File => false,
            SourceKind.Http => !HasFileExtension(url),
            _ => true,
        };
        return new ResolvedSource(url, fmt, kind, live);
    }

    /// <summary>
    /// A stream id derived from a URI when the configuration gives none: the file name without extension, the device
    /// name, <c>host_port_path</c> for URLs (credentials left out). Only letters, digits, <c>-</c>, <c>_</c> and <c>.</c>.
    /// </summary>
    public static string DeriveStreamId(string uri)
    {
        var r = Resolve(uri);
        string raw = r.Kind switch
        {
            SourceKind.File => Path.GetFileNameWithoutExtension(r.Url),
            SourceKind.Device => Path.GetFileName(r.Url),
            SourceKind.TestPattern => r.Url.Split('=', ',', ':')[0],
            _ => Uri.TryCreate(r.Url, UriKind.Absolute, out var u)
                ? $"{u.Host}_{(u.IsDefaultPort || u.Port < 0 ? "" : u.Port + "_")}{u.AbsolutePath.Trim('/')}"
                : r.Url,
        };
        var sb = new StringBuilder(raw.Length);
        foreach (char c in raw)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
        string id = sb.ToString().Trim('_').TrimStart('.');
        return id.Length == 0 ? "stream" : id;
    }

    /// <summary>The URL with the password of any <c>user:password@</c> part replaced by <c>***</c>, for logs and errors.</summary>
    public static string Redact(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return url;
        int start = scheme + 3;
        int end = url.IndexOfAny(['/', '?', '#'], start);
        if (end < 0) end = url.Length;
        int at = url.LastIndexOf('@', end - 1, end - start);
        if (at < 0) return url;
        int colon = url.IndexOf(':', start, at - start);
        return colon < 0 ? url : string.Concat(url.AsSpan(0, colon + 1), "***", url.AsSpan(at));
    }

    private static SourceKind KindOfUrl(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (scheme <= 0) return SourceKind.File;
        string s = url[..scheme].ToLowerInvariant();
        return s switch
        {
            "rtsp" or "rtsps" => SourceKind.Rtsp,
            "http" or "https" => PathOf(url).EndsWith(".m3u8", StringComparison.OrdinalIgnoreCase) ? SourceKind.Hls : SourceKind.Http,
            "udp" or "rtp" => SourceKind.Udp,   // rtp:// is RTP over UDP
            "srt" => SourceKind.Srt,
            "rtmp" or "rtmps" => SourceKind.Rtmp,
            "tcp" => SourceKind.Tcp,
            "file" => SourceKind.File,
            _ => SourceKind.Other,
        };
    }

    private static bool HasFileExtension(string url)
    {
        string path = PathOf(url);
        foreach (var ext in s_fileExtensions)
        {
            if (path.EndsWith(ext, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    private static string PathOf(string url)
    {
        int q = url.IndexOfAny(['?', '#']);
        return q < 0 ? url : url[..q];
    }
}
