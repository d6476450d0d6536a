using StreamVision.Core;

namespace StreamVision.App.Config;

/// <summary>
/// The web interface's own storage: the event store behind the review page, the charts' sample ring, and the state file
/// where changes made in the browser (streams added, edited or removed; zones and lines drawn) are kept across restarts.
/// </summary>
public sealed record UiConfig
{
    /// <summary>
    /// JSON file holding what was changed in the browser or over the API (streams added, edited, removed; zones and lines),
    /// applied over the configuration file at start and at every reload; the configuration file itself is never rewritten.
    /// A relative path is relative to the configuration file's folder (started without a file: kept in memory only);
    /// <c>{instance}</c> is replaced. Empty = changes last until the service stops. Default <c>streamvision-state.json</c>.
    /// </summary>
    public string StateFile { get; init; } = "streamvision-state.json";
    /// <summary>The event store behind the review page and <c>GET /api/events</c>.</summary>
    public EventStoreOptions Events { get; init; } = new();
    /// <summary>The in-process ring of samples behind the charts page and <c>GET /api/charts</c>.</summary>
    public ChartOptions Charts { get; init; } = new();
}

/// <summary>
/// Every event the streams raise (with a JPEG of the frame for events that concern a track), kept in an SQLite file so that
/// the review survives restarts; bounded by age and size, oldest first.
/// </summary>
public sealed record EventStoreOptions
{
    /// <summary>
    /// SQLite file (created when missing; <c>{instance}</c> is replaced). A relative path is relative to the configuration
    /// file's folder (started without a file: no store). Empty = no store: the review page stays empty. Off as well when
    /// the HTTP server is. Default <c>streamvision-events.db</c>.
    /// </summary>
    public string Path { get; init; } = "streamvision-events.db";
    /// <summary>Events older than this many hours are deleted (with their pictures). 0 = no age limit. Default 168 (a week).</summary>
    [OptionRange(0, 87600)]
    public double MaxAgeHours { get; init; } = 168;
    /// <summary>Most MiB the store's data may take; beyond it the oldest events and pictures go first. Default 512; 1..1,048,576.</summary>
    [OptionRange(1, 1_048_576)]
    public int MaxMb { get; init; } = 512;
    /// <summary>Store a JPEG of the frame (scaled to <see cref="SnapshotWidth"/>) with each event that concerns a track. Default true.</summary>
    public bool Snapshots { get; init; } = true;
    /// <summary>Width of the stored pictures in pixels (narrower frames are kept as they are). 64..3840, default 640.</summary>
    [OptionRange(64, 3840, Unit = "pixels")]
    public int SnapshotWidth { get; init; } = 640;
    /// <summary>JPEG quality of the stored pictures, 1..100. Default 70.</summary>
    [OptionRange(1, 100)]
    public int SnapshotQuality { get; init; } = 70;
    /// <summary>Store <c>counts</c> events too (one per stream and interval). Default false: they fill the list and the charts show counts anyway.</summary>
    public bool Counts { get; init; }

    public void Validate(string path = "ui.events")
    {
        if (!(MaxAgeHours >= 0 && MaxAgeHours <= 87600)) throw new OptionsException($"{path}.max_age_hours", $"must be 0 (no limit) ..87600, got {MaxAgeHours}");
        if (MaxMb is < 1 or > 1_048_576) throw new OptionsException($"{path}.max_mb", $"must be 1..1048576, got {MaxMb}");
        if (SnapshotWidth is < 64 or > 3840) throw new OptionsException($"{path}.snapshot_width", $"must be 64..3840, got {SnapshotWidth}");
        if (SnapshotQuality is < 1 or > 100) throw new OptionsException($"{path}.snapshot_quality", $"must be 1..100, got {SnapshotQuality}");
    }
}

/// <summary>
/// The charts' samples, kept in memory per stream and for the instance: a fine ring (every <see cref="SampleSeconds"/>
/// for <see cref="FineMinutes"/>) and a coarse one (averages of <see cref="CoarseSeconds"/> for <see cref="CoarseHours"/>).
/// </summary>
public sealed record ChartOptions
{
    /// <summary>Seconds between samples of the fine ring. 0.5..60, default 2.</summary>
    [OptionRange(0.5, 60)]
    public double SampleSeconds { get; init; } = 2;
    /// <summary>Minutes the fine ring covers. 1..1440, default 60.</summary>
    [OptionRange(1, 1440)]
    public int FineMinutes { get; init; } = 60;
    /// <summary>Seconds each sample of the coarse ring covers (a whole multiple of <see cref="SampleSeconds"/> is best). 10..3600, default 60.</summary>
    [OptionRange(10, 3600)]
    public double CoarseSeconds { get; init; } = 60;
    /// <summary>Hours the coarse ring covers. 0 = no coarse ring. 0..168, default 24.</summary>
    [OptionRange(0, 168)]
    public int CoarseHours { get; init; } = 24;

    public void Validate(string path = "ui.charts")
    {
        if (!(SampleSeconds >= 0.5 && SampleSeconds <= 60)) throw new OptionsException($"{path}.sample_seconds", $"must be 0.5..60, got {SampleSeconds}");
        if (FineMinutes is < 1 or > 1440) throw new OptionsException($"{path}.fine_minutes", $"must be 1..1440, got {FineMinutes}");
        if (!(CoarseSeconds >= 10 && CoarseSeconds <= 3600)) throw new OptionsException($"{path}.coarse_seconds", $"must be 10..3600, got {CoarseSeconds}");
        if (CoarseSeconds < SampleSeconds) throw new OptionsException($"{path}.coarse_seconds", $"must be at least sample_seconds ({SampleSeconds}), got {CoarseSeconds}");
        if (CoarseHours is < 0 or > 168) throw new OptionsException($"{path}.coarse_hours", $"must be 0..168, got {CoarseHours}");
    }
}
