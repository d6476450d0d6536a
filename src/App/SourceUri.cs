namespace StreamVision.App;

/// <summary>What a user types as a source, as an FFmpeg URL and input format. The rules live in Ingest (<see cref="Ingest.SourceUri"/>).</summary>
public static class SourceUri
{
    /// <summary>See <see cref="Ingest.SourceUri.Resolve"/>: devices, lavfi/testsrc, file://, everything else passed through; an explicit format wins.</summary>
    public static (string Url, string? Format) Resolve(string uri, string? format = null)
    {
        var r = Ingest.SourceUri.Resolve(uri, format);
        return (r.Url, r.Format);
    }
}
