using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using StreamVision.App.Config;
using StreamVision.Core;
using StreamVision.Sinks;

namespace StreamVision.App.Service;

/// <summary>One stored event as the review page and <c>GET /api/events</c> show it.</summary>
public sealed record StoredEvent(long Id, DateTimeOffset Time, string Stream, string Type, string? Class, int? TrackId, string? Region,
    string? Direction, float? Score, double? DurationSeconds, Box? Box, int FrameWidth, int FrameHeight, long? SnapshotId, string Json);

/// <summary>Which events <see cref="EventStore.Query"/> returns: every filter is optional (null = any).</summary>
public sealed record EventQuery
{
    public string? Stream { get; init; }
    public string? Type { get; init; }
    public string? Class { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    /// <summary>Only events with an id below this (paging backwards); null = the newest.</summary>
    public long? Before { get; init; }
    /// <summary>1..1000.</summary>
    public int Limit { get; init; } = 100;
}

/// <summary>
/// The instance's events on disk (SQLite through Microsoft.Data.Sqlite, WAL mode): every stream's <see cref="EventStoreSink"/>
/// adds to it, the review API reads it. Bounded by age and size (<see cref="EventStoreOptions"/>): the oldest events and
/// pictures go first, checked every few seconds of writing. Writers share one connection under a lock; each query opens
/// its own (WAL lets readers run beside the writer). Thread-safe.
/// </summary>
public sealed class EventStore : IDisposable
{
    private readonly EventStoreOptions _options;
    private readonly ILogger _logger;
    private readonly SqliteConnection _writer;
    private readonly string _connectionString;
    private readonly object _gate = new();
    private long _nextRetention;
    private bool _disposed;

    public EventStore(EventStoreOptions options, string path, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _logger = logger;
        Path = System.IO.Path.GetFullPath(path);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ToString();
        _writer = new SqliteConnection(_connectionString);
        try
        {
            _writer.Open();
            Execute(_writer, """
                PRAGMA auto_vacuum = INCREMENTAL;
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = NORMAL;
                CREATE TABLE IF NOT EXISTS snapshots (
                    id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, stream TEXT NOT NULL,
                    width INTEGER NOT NULL, height INTEGER NOT NULL, jpeg BLOB NOT NULL);
                CREATE INDEX IF NOT EXISTS snapshots_time ON snapshots(time_ms);
                CREATE TABLE IF NOT EXISTS events (
                    id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, stream TEXT NOT NULL, type TEXT NOT NULL,
                    class TEXT, track_id INTEGER, region TEXT, direction TEXT, score REAL, duration REAL,
                    x1 REAL, y1 REAL, x2 REAL, y2 REAL, frame_w INTEGER NOT NULL, frame_h INTEGER NOT NULL,
                    snapshot_id INTEGER, json TEXT NOT NULL);
                CREATE INDEX IF NOT EXISTS events_time ON events(time_ms);
                CREATE INDEX IF NOT EXISTS events_stream_time ON events(stream, time_ms);
                """);
        }
        catch (SqliteException ex)
        {
            _writer.Dispose();
            throw new IOException($"ui.events.path: cannot open the event store '{Path}': {ex.Message}", ex);
        }
        Retain();
    }

    /// <summary>The SQLite file (absolute).</summary>
    public string Path { get; }
    public EventStoreOptions Options => _options;
    /// <summary>Events written since start.</summary>
    public long Written => Interlocked.Read(ref _written);
    private long _written;

    /// <summary>
    /// Stores one frame's events, with <paramref name="jpeg"/> (the frame's picture, <paramref name="pictureWidth"/> x
    /// <paramref name="pictureHeight"/>) linked to those that concern a track; <paramref name="trackSnapshots"/> is
    /// asked for events of tracks not in the picture (a track's end) and told the new picture's id. Returns the picture's id.
    /// </summary>
    public long? Add(IReadOnlyList<AnalyticsEvent> events, string instanceId, int frameWidth, int frameHeight, byte[]? jpeg, int pictureWidth, int pictureHeight,
        IDictionary<int, long> trackSnapshots)
    {
        if (events.Count == 0) return null;
        lock (_gate)
        {
            if (_disposed) return null;
            using var tx = _writer.BeginTransaction();
            long? snapshot = null;
            if (jpeg is not null)
            {
                using var cmd = _writer.CreateCommand();
                cmd.Transaction = tx;
                cmd.CommandText = "INSERT INTO snapshots(time_ms, stream, width, height, jpeg) VALUES ($t, $s, $w, $h, $j); SELECT last_insert_rowid();";
                cmd.Parameters.AddWithValue("$t", events[0].Time.ToUnixTimeMilliseconds());
                cmd.Parameters.AddWithValue("$s", events[0].StreamId);
                cmd.Parameters.AddWithValue("$w", pictureWidth);
                cmd.Parameters.AddWithValue("$h", pictureHeight);
                cmd.Parameters.AddWithValue("$j", jpeg);
                snapshot = (long)cmd.ExecuteScalar()!;
            }
            using (var cmd = _writer.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = """
                    INSERT INTO events(time_ms, stream, type, class, track_id, region, direction, score, duration, x1, y1, x2, y2, frame_w, frame_h, snapshot_id, json)
                    VALUES ($t, $s, $type, $c, $tr, $r, $d, $sc, $du, $x1, $y1, $x2, $y2, $fw, $fh, $sn, $j)
                    """;
                var p = new Dictionary<string, SqliteParameter>();
                foreach (var name in new[] { "$t", "$s", "$type", "$c", "$tr", "$r", "$d", "$sc", "$du", "$x1", "$y1", "$x2", "$y2", "$fw", "$fh", "$sn", "$j" })
                    p[name] = cmd.Parameters.Add(new SqliteParameter { ParameterName = name });
                foreach (var e in events)
                {
                    long? sn = null;
                    if (e.TrackId is { } track)
                    {
                        if (snapshot is { } s && e.Box is not null)
                        {
                            sn = s;
                            trackSnapshots[track] = s;
                        }
                        else if (trackSnapshots.TryGetValue(track, out long known))
                        {
                            sn = known;
                        }
                        if (e.Type == EventTypes.TrackEnded) trackSnapshots.Remove(track);
                    }
                    p["$t"].Value = e.Time.ToUnixTimeMilliseconds();
                    p["$s"].Value = e.StreamId;
                    p["$type"].Value = e.Type;
                    p["$c"].Value = (object?)e.ClassName ?? DBNull.Value;
                    p["$tr"].Value = (object?)e.TrackId ?? DBNull.Value;
                    p["$r"].Value = (object?)e.Region ?? DBNull.Value;
                    p["$d"].Value = (object?)e.Direction ?? DBNull.Value;
                    p["$sc"].Value = e.Score is { } score ? (double)score : DBNull.Value;
                    p["$du"].Value = (object?)e.DurationSeconds ?? DBNull.Value;
                    p["$x1"].Value = e.Box is { } b1 ? (double)b1.X1 : DBNull.Value;
                    p["$y1"].Value = e.Box is { } b2 ? (double)b2.Y1 : DBNull.Value;
                    p["$x2"].Value = e.Box is { } b3 ? (double)b3.X2 : DBNull.Value;
                    p["$y2"].Value = e.Box is { } b4 ? (double)b4.Y2 : DBNull.Value;
                    p["$fw"].Value = frameWidth;
                    p["$fh"].Value = frameHeight;
                    p["$sn"].Value = (object?)sn ?? DBNull.Value;
                    p["$j"].Value = EventJson.Serialize(e, instanceId);
                    cmd.ExecuteNonQuery();
                }
            }
            tx.Commit();
            Interlocked.Add(ref _written, events.Count);
            if (Environment.TickCount64 >= _nextRetention) Retain();
            return snapshot;
        }
    }

    /// <summary>Events matching <paramref name="q"/>, newest first.</summary>
    public IReadOnlyList<StoredEvent> Query(EventQuery q)
    {
        ArgumentNullException.ThrowIfNull(q);
        using var c = new SqliteConnection(_connectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        var where = new List<string>();
        void Filter(string sql, string name, object? value)
        {
            if (value is null) return;
            where.Add(sql);
            cmd.Parameters.AddWithValue(name, value);
        }
        Filter("stream = $stream", "$stream", q.Stream);
        Filter("type = $type", "$type", q.Type);
        Filter("class = $class", "$class", q.Class);
        Filter("time_ms >= $since", "$since", q.Since?.ToUnixTimeMilliseconds());
        Filter("time_ms <= $until", "$until", q.Until?.ToUnixTimeMilliseconds());
        Filter("id < $before", "$before", q.Before);
        cmd.CommandText = "SELECT id, time_ms, stream, type, class, track_id, region, direction, score, duration, x1, y1, x2, y2, frame_w, frame_h, snapshot_id, json FROM events"
            + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "")
            + " ORDER BY time_ms DESC, id DESC LIMIT $limit";
        cmd.Parameters.AddWithValue("$limit", Math.Clamp(q.Limit, 1, 1000));
        var list = new List<StoredEvent>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            float? F(int i) => r.IsDBNull(i) ? null : (float)r.GetDouble(i);
            Box? box = r.IsDBNull(10) ? null : new Box(F(10)!.Value, F(11)!.Value, F(12)!.Value, F(13)!.Value);
            list.Add(new StoredEvent(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1)), r.GetString(2), r.GetString(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetInt32(5), r.IsDBNull(6) ? null : r.GetString(6),
                r.IsDBNull(7) ? null : r.GetString(7), F(8), r.IsDBNull(9) ? null : r.GetDouble(9), box, r.GetInt32(14), r.GetInt32(15),
                r.IsDBNull(16) ? null : r.GetInt64(16), r.GetString(17)));
        }
        return list;
    }

    /// <summary>Distinct streams, types and classes present (for the review page's filters).</summary>
    public (IReadOnlyList<string> Streams, IReadOnlyList<string> Types, IReadOnlyList<string> Classes) Facets()
    {
        using var c = new SqliteConnection(_connectionString);
        c.Open();
        List<string> Distinct(string column)
        {
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"SELECT DISTINCT {column} FROM events WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 500";
            var l = new List<string>();
            using var r = cmd.ExecuteReader();
            while (r.Read()) l.Add(r.GetString(0));
            return l;
        }
        return (Distinct("stream"), Distinct("type"), Distinct("class"));
    }

    /// <summary>The JPEG of a stored picture, or false when there is none (never stored, or retention removed it).</summary>
    public bool TryGetSnapshot(long id, out byte[] jpeg)
    {
        using var c = new SqliteConnection(_connectionString);
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT jpeg FROM snapshots WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", id);
        jpeg = cmd.ExecuteScalar() as byte[] ?? [];
        return jpeg.Length > 0;
    }

    /// <summary>Bytes the store's pages hold (free pages excluded).</summary>
    public long UsedBytes()
    {
        lock (_gate) return UsedBytesCore();
    }

    private long UsedBytesCore()
    {
        long Pragma(string name)
        {
            using var cmd = _writer.CreateCommand();
            cmd.CommandText = $"PRAGMA {name}";
            return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
        }
        return (Pragma("page_count") - Pragma("freelist_count")) * Pragma("page_size");
    }

    /// <summary>Applies retention now: events and pictures older than the age limit, then the oldest until under the size limit.</summary>
    public void Retain()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _nextRetention = Environment.TickCount64 + 5000;
            int deleted = 0;
            if (_options.MaxAgeHours > 0)
            {
                long cutoff = DateTimeOffset.UtcNow.AddHours(-_options.MaxAgeHours).ToUnixTimeMilliseconds();
                deleted += DeleteBefore(cutoff);
            }
            long max = (long)_options.MaxMb << 20;
            for (int round = 0; round < 200 && UsedBytesCore() > max; round++)
            {
                // The oldest tenth (by time) of what is left, events and pictures alike.
                using var cmd = _writer.CreateCommand();
                cmd.CommandText = """
                    SELECT MAX(t) FROM (SELECT time_ms AS t FROM snapshots ORDER BY time_ms LIMIT MAX(1, (SELECT COUNT(*) FROM snapshots) / 10))
                    UNION ALL SELECT MAX(t) FROM (SELECT time_ms AS t FROM events ORDER BY time_ms LIMIT MAX(1, (SELECT COUNT(*) FROM events) / 10))
                    """;
                long cutoff = long.MinValue;
                using (var r = cmd.ExecuteReader())
                    while (r.Read()) if (!r.IsDBNull(0)) cutoff = Math.Max(cutoff, r.GetInt64(0));
                if (cutoff == long.MinValue) break;
                int n = DeleteBefore(cutoff + 1);
                deleted += n;
                if (n == 0) break;
            }
            if (deleted > 0)
            {
                Execute(_writer, "PRAGMA incremental_vacuum;");
                _logger.LogDebug("event store: retention removed {Count} rows", deleted);
            }
        }
    }

    private int DeleteBefore(long cutoffMs)
    {
        using var cmd = _writer.CreateCommand();
        cmd.CommandText = "DELETE FROM events WHERE time_ms < $c; DELETE FROM snapshots WHERE time_ms < $c;";
        cmd.Parameters.AddWithValue("$c", cutoffMs);
        return cmd.ExecuteNonQuery();
    }

    private static void Execute(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _writer.Dispose();
        }
    }
}
