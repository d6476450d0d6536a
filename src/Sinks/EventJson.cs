using System.Globalization;
using System.Text;
using System.Text.Json;
using StreamVision.Core;

namespace StreamVision.Sinks;

/// <summary>
/// The event JSON schema (README, section Events), version <see cref="SchemaVersion"/>: one object per event, snake_case fields,
/// <c>time</c> in UTC ISO-8601, <c>pts</c> in seconds of stream time, boxes as <c>[x, y, w, h]</c> pixels.
/// <c>counts</c> events carry <c>counts: {region: {key: n}}</c>: zones have <c>inside</c> (now), <c>entered</c> (since the
/// start) and <c>inside:CLASS</c>/<c>entered:CLASS</c>; lines have <c>in</c>, <c>out</c> and <c>in:CLASS</c>/<c>out:CLASS</c>.
/// <c>zone_exit</c> has <c>duration_s</c> = dwell time in the zone; <c>line_crossed</c> has <c>direction</c> in/out.
/// Track events of a classified track carry <c>attributes: {label, score, model, top_k: [{label, score}]}</c> (the
/// classifier's latest answer; <c>track_classified</c> when it first labels a track or changes its label); tracks of a
/// segmentation model carry <c>polygon: [[x, y], ...]</c>, their mask's outline in pixels.
/// </summary>
public static class EventJson
{
    public const string SchemaVersion = "streamvision.event/1";

    public static string Serialize(AnalyticsEvent e, string instanceId)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(w, e, instanceId);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>One event as UTF-8 JSON bytes (MQTT payloads, HTTP bodies).</summary>
    public static byte[] SerializeUtf8(AnalyticsEvent e, string instanceId)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            Write(w, e, instanceId);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Several events as one UTF-8 JSON array.</summary>
    public static byte[] SerializeUtf8(IReadOnlyList<AnalyticsEvent> events, string instanceId)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512 * Math.Max(1, events.Count));
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            foreach (var e in events) Write(w, e, instanceId);
            w.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(Utf8JsonWriter w, AnalyticsEvent e, string instanceId)
    {
        w.WriteStartObject();
        w.WriteString("schema", SchemaVersion);
        w.WriteString("type", e.Type);
        w.WriteString("instance", instanceId);
        w.WriteString("stream", e.StreamId);
        w.WriteString("time", e.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        w.WriteNumber("pts", Math.Round(e.Pts.TotalSeconds, 6));
        w.WriteNumber("frame", e.FrameSequence);
        if (e.TrackId is { } id) w.WriteNumber("track_id", id);
        if (e.ClassId is { } cid) w.WriteNumber("class_id", cid);
        if (e.ClassName is { } cn) w.WriteString("class", cn);
        if (e.Score is { } sc) w.WriteNumber("score", Math.Round(sc, 4));
        if (e.Box is { } b)
        {
            w.WriteStartArray("box");
            w.WriteNumberValue(Math.Round(b.X1, 1));
            w.WriteNumberValue(Math.Round(b.Y1, 1));
            w.WriteNumberValue(Math.Round(b.Width, 1));
            w.WriteNumberValue(Math.Round(b.Height, 1));
            w.WriteEndArray();
        }
        if (e.Region is { } r) w.WriteString("region", r);
        if (e.Direction is { } d) w.WriteString("direction", d);
        if (e.DurationSeconds is { } du) w.WriteNumber("duration_s", Math.Round(du, 3));
        if (e.Classification is { } cl)
        {
            w.WriteStartObject("attributes");
            w.WriteString("label", cl.Label);
            w.WriteNumber("score", Math.Round(cl.Score, 4));
            w.WriteString("model", cl.Model);
            w.WriteStartArray("top_k");
            foreach (var (label, score) in cl.TopK)
            {
                w.WriteStartObject();
                w.WriteString("label", label);
                w.WriteNumber("score", Math.Round(score, 4));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        if (e.Polygon is { Count: >= 2 } poly)
        {
            w.WriteStartArray("polygon");
            for (int i = 0; i + 1 < poly.Count; i += 2)
            {
                w.WriteStartArray();
                w.WriteNumberValue(Math.Round(poly[i], 1));
                w.WriteNumberValue(Math.Round(poly[i + 1], 1));
                w.WriteEndArray();
            }
            w.WriteEndArray();
        }
        if (e.Path is { } p)
        {
            w.WriteStartObject("path");
            w.WriteStartArray("start");
            w.WriteNumberValue(Math.Round(p.StartX, 1));
            w.WriteNumberValue(Math.Round(p.StartY, 1));
            w.WriteEndArray();
            w.WriteStartArray("end");
            w.WriteNumberValue(Math.Round(p.EndX, 1));
            w.WriteNumberValue(Math.Round(p.EndY, 1));
            w.WriteEndArray();
            w.WriteNumber("length_px", Math.Round(p.LengthPixels, 1));
            w.WriteNumber("points", p.Points);
            w.WriteEndObject();
        }
        if (e.Counts is { } counts)
        {
            w.WriteStartObject("counts");
            foreach (var (region, perClass) in counts)
            {
                w.WriteStartObject(region);
                foreach (var (k, v) in perClass) w.WriteNumber(k, v);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
