namespace StreamVision.App;

/// <summary>Turns what a user types as a source into an FFmpeg URL and input format.</summary>
public static class SourceUri
{
    /// <summary>
    /// <c>/dev/videoN</c> and <c>v4l2:///dev/videoN</c> become the v4l2 device; <c>lavfi:SPEC</c> or <c>testsrc</c> a lavfi test
    /// pattern; anything else is passed through (files, rtsp://, http(s)://, udp://, srt://). An explicit format wins.
    /// </summary>
    public static (string Url, string? Format) Resolve(string uri, string? format = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uri);
        if (!string.IsNullOrEmpty(format)) return (uri, format);
        if (uri.StartsWith("/dev/video", StringComparison.Ordinal)) return (uri, "v4l2");
        if (uri.StartsWith("v4l2://", StringComparison.Ordinal)) return (uri["v4l2://".Length..], "v4l2");
        if (uri.StartsWith("lavfi:", StringComparison.Ordinal)) return (uri["lavfi:".Length..], "lavfi");
        if (uri == "testsrc") return ("testsrc2=size=1280x720:rate=25", "lavfi");
        return (uri, null);
    }
}
