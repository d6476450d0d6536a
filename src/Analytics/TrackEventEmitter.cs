using StreamVision.Core;

namespace StreamVision.Analytics;

/// <summary>
/// Turns a stream's track life cycle into events: track_started when a track is confirmed, track_ended (with duration,
/// class, path summary and the classifier's last answer) when it is removed, and track_classified when the classifier
/// labels a track for the first time or changes its label. Per-track state is dropped when the track ends, so it stays bounded.
/// </summary>
public sealed class TrackEventEmitter
{
    private readonly IReadOnlyList<string> _classNames;
    private readonly Dictionary<int, State> _live = new();

    public TrackEventEmitter(IReadOnlyList<string> classNames) => _classNames = classNames;

    public int LiveTracks => _live.Count;

    private sealed class State
    {
        public TimeSpan Start;
        public float StartX, StartY, LastX, LastY, Length;
        public int Points;
        public int ClassId;
        public float BestScore;
        public TrackClassification? Classification;
    }

    /// <summary>Events of one frame (empty list when nothing happened).</summary>
    public IReadOnlyList<AnalyticsEvent> Process(Frame frame, IReadOnlyList<Track> tracks)
    {
        List<AnalyticsEvent>? events = null;
        foreach (var t in tracks)
        {
            if (t.Id <= 0) continue; // tentative
            float cx = t.Box.CenterX, cy = t.Box.CenterY;
            if (t.State == TrackState.Removed)
            {
                if (_live.Remove(t.Id, out var s))
                {
                    (events ??= new()).Add(Make(EventTypes.TrackEnded, frame, t) with
                    {
                        DurationSeconds = (frame.Pts - s.Start).TotalSeconds,
                        Path = new PathSummary(s.StartX, s.StartY, s.LastX, s.LastY, s.Length, s.Points),
                        ClassId = s.ClassId,
                        ClassName = Name(s.ClassId),
                        Score = s.BestScore,
                        Classification = s.Classification ?? t.Classification,
                    });
                }
                continue;
            }
            if (!_live.TryGetValue(t.Id, out var st))
            {
                st = new State { Start = frame.Pts, StartX = cx, StartY = cy, LastX = cx, LastY = cy, ClassId = t.ClassId, BestScore = t.Score };
                _live[t.Id] = st;
                (events ??= new()).Add(Make(EventTypes.TrackStarted, frame, t));
            }
            if (t.Classification is { } c && (st.Classification is null || st.Classification.Label != c.Label))
                (events ??= new()).Add(Make(EventTypes.TrackClassified, frame, t));
            if (t.Classification is not null) st.Classification = t.Classification;
            if (t.DetectionIndex >= 0)
            {
                st.Length += MathF.Sqrt((cx - st.LastX) * (cx - st.LastX) + (cy - st.LastY) * (cy - st.LastY));
                st.LastX = cx;
                st.LastY = cy;
                st.Points++;
                st.BestScore = Math.Max(st.BestScore, t.Score);
            }
        }
        return events ?? (IReadOnlyList<AnalyticsEvent>)Array.Empty<AnalyticsEvent>();
    }

    /// <summary>track_ended for every live track (end of stream), stamped with the last frame's times.</summary>
    public IReadOnlyList<AnalyticsEvent> Flush(Frame lastFrame)
    {
        var events = new List<AnalyticsEvent>();
        foreach (var (id, s) in _live)
        {
            events.Add(new AnalyticsEvent
            {
                Type = EventTypes.TrackEnded, StreamId = lastFrame.StreamId, Time = lastFrame.CaptureTime, Pts = lastFrame.Pts,
                FrameSequence = lastFrame.Sequence, TrackId = id, ClassId = s.ClassId, ClassName = Name(s.ClassId), Score = s.BestScore,
                Classification = s.Classification,
                DurationSeconds = (lastFrame.Pts - s.Start).TotalSeconds,
                Path = new PathSummary(s.StartX, s.StartY, s.LastX, s.LastY, s.Length, s.Points),
            });
        }
        _live.Clear();
        return events;
    }

    private AnalyticsEvent Make(string type, Frame f, in Track t) => new()
    {
        Type = type, StreamId = f.StreamId, Time = f.CaptureTime, Pts = f.Pts, FrameSequence = f.Sequence,
        TrackId = t.Id, ClassId = t.ClassId, ClassName = Name(t.ClassId), Score = t.Score, Box = t.Box,
        Classification = t.Classification, Polygon = t.Mask is { PolygonPoints: > 0 } m ? m.PolygonArray() : null,
    };

    private string Name(int id) => id >= 0 && id < _classNames.Count ? _classNames[id] : id.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
