using StreamVision.Core;

namespace StreamVision.Inference.Classification;

/// <summary>
/// The classify stage of one stream: decides which confirmed tracks are due (their first frames, every N frames, a box
/// grown by a factor; only the chosen detector classes, only boxes big enough), asks the shared
/// <see cref="ClassifierBatcher"/> for as many as the budget allows, and attaches each track's latest answer to it
/// (<see cref="Track.Classification"/>). Per-track state lives while the track does. One instance per stream, called
/// from its loop.
/// </summary>
public sealed class TrackClassifier : IDisposable
{
    private readonly ClassifierBatcher _batcher;
    private readonly HashSet<int>? _classes;
    private readonly Dictionary<int, State> _states = new();
    private readonly Prometheus.Counter.Child _crops, _deferred;
    private readonly Prometheus.Counter _labels;
    private readonly string _streamId;
    private readonly List<int> _due = new();
    private readonly List<CropRequest> _crops_ = new();
    private bool _disposed;

    private sealed class State
    {
        public TrackClassification? Result;
        public int Count;
        public int LastHits;
        public float LastArea;
    }

    /// <param name="detectorClassNames">The detector's class names (to resolve <see cref="ClassifierOptions.Classes"/>).</param>
    public TrackClassifier(string streamId, ClassifierBatcher batcher, IReadOnlyList<string> detectorClassNames, PipelineMetrics? metrics = null)
    {
        _streamId = streamId ?? throw new ArgumentNullException(nameof(streamId));
        _batcher = batcher ?? throw new ArgumentNullException(nameof(batcher));
        _classes = ResolveClasses(batcher.Options.Classes, detectorClassNames ?? []);
        metrics ??= PipelineMetrics.Default;
        _crops = metrics.ClassifierCrops.WithLabels(streamId);
        _deferred = metrics.ClassifierDeferred.WithLabels(streamId);
        _labels = metrics.ClassifierLabels;
        batcher.Register();
    }

    /// <summary>Tracks with per-track state now (bounded by the live tracks).</summary>
    public int TrackStates => _states.Count;

    /// <summary>Class ids from names or ids; null = every class. Unknown names throw <see cref="OptionsException"/>.</summary>
    internal static HashSet<int>? ResolveClasses(IReadOnlyList<string> classes, IReadOnlyList<string> names) =>
        classes.Count == 0 ? null : ClassSelection.Resolve(classes, names, "classifier.classes", "the detector");

    /// <summary>
    /// The frame's tracks with their classifications attached (the same list when no track has one). Runs the classifier
    /// on the tracks due; <paramref name="frame"/> is borrowed until the returned task completes.
    /// </summary>
    public async ValueTask<IReadOnlyList<Track>> ProcessAsync(Frame frame, IReadOnlyList<Track> tracks, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(tracks);
        var o = _batcher.Options;
        var classifier = _batcher.Classifier;
        _due.Clear();
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            if (t.Id <= 0 || t.State != TrackState.Tracked || t.DetectionIndex < 0) continue;
            if (_classes is not null && !_classes.Contains(t.ClassId)) continue;
            _states.TryGetValue(t.Id, out var s);
            bool due = s is null || s.Count < o.FirstFrames
                || (o.EveryFrames > 0 && t.Hits - s.LastHits >= o.EveryFrames)
                || (o.Growth > 0 && s.LastArea > 0 && t.Box.Area >= s.LastArea * o.Growth);
            if (due && classifier.CropRegion(t.Box, frame.Width, frame.Height) is not null) _due.Add(i);
        }
        if (_due.Count > 0)
        {
            // Tracks without an answer first, then those asked least often.
            _due.Sort((a, b) => Rank(tracks[a]).CompareTo(Rank(tracks[b])));
            int granted = _batcher.TryTake(_due.Count);
            if (granted < _due.Count) _deferred.Inc(_due.Count - granted);
            if (granted > 0)
            {
                _crops_.Clear();
                for (int k = 0; k < granted; k++) _crops_.Add(new CropRequest(frame, tracks[_due[k]].Box));
                var answers = await _batcher.ClassifyAsync(_crops_).WaitAsync(ct).ConfigureAwait(false);
                _crops.Inc(granted);
                for (int k = 0; k < granted; k++)
                {
                    var t = tracks[_due[k]];
                    if (!_states.TryGetValue(t.Id, out var s)) _states[t.Id] = s = new State();
                    s.Result = answers[k] with { ClassifiedAtHits = t.Hits };
                    s.Count++;
                    s.LastHits = t.Hits;
                    s.LastArea = t.Box.Area;
                    _labels.WithLabels(_streamId, s.Result.Label).Inc();
                }
            }
        }
        if (_states.Count == 0) return tracks;
        var result = new Track[tracks.Count];
        for (int i = 0; i < tracks.Count; i++)
        {
            var t = tracks[i];
            if (t.Id > 0 && _states.TryGetValue(t.Id, out var s))
            {
                t = t with { Classification = s.Result };
                if (t.State == TrackState.Removed) _states.Remove(t.Id);
            }
            result[i] = t;
        }
        return result;

        int Rank(in Track t) => _states.TryGetValue(t.Id, out var s) ? s.Count + 1 : 0;
    }

    /// <summary>Forgets every track (the tracker restarted, ids start over).</summary>
    public void Reset() => _states.Clear();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _batcher.Unregister();
    }
}
