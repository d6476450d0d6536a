using System.Numerics;
using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking;

/// <summary>
/// Multi-object tracker for one stream, associating detections ByteTrack-style on top of a motion model
/// (<see cref="KalmanMotionModel"/> unless another <see cref="IMotionModel"/> is given).
/// </summary>
/// <remarks>
/// <para>Call <see cref="Update(Detections, TimeSpan)"/> once per frame, in timestamp order, also when a frame has no
/// detections: time drives prediction and how long lost tracks are kept. Per frame: every track is predicted by the real
/// time step (and moved with the camera when <see cref="ByteTrackerOptions.CompensateCameraMotion"/>); high-score
/// detections are matched to tracked and lost tracks (together, or tracked ones first:
/// <see cref="ByteTrackerOptions.LostMatching"/>); low-score detections to the tracked ones still unmatched; the remaining
/// high ones to tentative tracks. Then the matches are applied (a detection shared by two objects does not move its track:
/// <see cref="ByteTrackerOptions.SharedDetectionIoU"/>), and what is left of the high detections starts tentative tracks
/// unless it sits on a tracked one (<see cref="ByteTrackerOptions.NewTrackMaxIoU"/>).</para>
/// <para>Ids: a track gets its id, from this instance's own counter (1, 2, 3, …), when it is confirmed after
/// <see cref="ByteTrackerOptions.MinHits"/> hits, so confirmed ids have no gaps. Until then a tentative track carries a
/// provisional negative id (-1, -2, …) that is never reused. Two trackers never share a counter.</para>
/// <para>Bounded: at most <see cref="ByteTrackerOptions.MaxTracks"/> tracks, each with a fixed-size state; removed tracks
/// are forgotten after the frame that reports their removal. Not thread-safe: one stream's loop owns it.</para>
/// </remarks>
public sealed partial class ByteTracker
{
    private readonly IMotionModel _model;
    private int _nextId = 1;
    private int _nextProvisionalId = -1;
    private bool _started;
    private TimeSpan _lastPts;

    /// <summary>A tracker with the given options (validated) and motion model (default: a Kalman filter with <see cref="ByteTrackerOptions.Kalman"/>).</summary>
    public ByteTracker(ByteTrackerOptions? options = null, IMotionModel? motionModel = null)
    {
        Options = (options ?? new ByteTrackerOptions()).Validate();
        _model = motionModel ?? new KalmanMotionModel(Options.Kalman);
    }

    public ByteTrackerOptions Options { get; }

    public IMotionModel MotionModel => _model;

    /// <summary>Live tracks held: tentative, tracked and lost.</summary>
    public int Count => _count;

    /// <summary>Confirmed ids handed out so far (the last id issued).</summary>
    public int ConfirmedCount => _nextId - 1;

    /// <summary>Detections that would have started a track but did not because <see cref="ByteTrackerOptions.MaxTracks"/> was reached.</summary>
    public long TracksRefused { get; private set; }

    /// <summary>
    /// Tracks the frame at <paramref name="pts"/>; <paramref name="detections"/> may be empty. Returns a new list of the
    /// frame's tracks in creation order: every live track (<see cref="TrackState.New"/>, <see cref="TrackState.Tracked"/>,
    /// <see cref="TrackState.Lost"/>) and, once, each confirmed track removed in this frame (<see cref="TrackState.Removed"/>).
    /// A track matched in this frame has <see cref="Track.DetectionIndex"/> = its row in <paramref name="detections"/>;
    /// <c>detections.SourceIndex[row]</c> maps further back to the detector's output.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="pts"/> is earlier than the previous frame's (call <see cref="Reset"/> after a discontinuity).</exception>
    public IReadOnlyList<Track> Update(Detections detections, TimeSpan pts) => Update(detections, pts, Matrix3x2.Identity);

    /// <summary>
    /// As <see cref="Update(Detections, TimeSpan)"/>, on a moving camera: <paramref name="cameraMotion"/> maps the previous
    /// frame's pixels to this frame's (e.g. from Imaging's <c>CameraMotionEstimator</c>), and with
    /// <see cref="ByteTrackerOptions.CompensateCameraMotion"/> every track's prediction is moved with it before matching
    /// (its box, velocity, uncertainty and history). Without the option the motion is ignored.
    /// </summary>
    /// <param name="cameraMotion">Row-vector affine transform, as <see cref="Vector2.Transform(Vector2, Matrix3x2)"/> applies it.</param>
    public IReadOnlyList<Track> Update(Detections detections, TimeSpan pts, Matrix3x2 cameraMotion)
    {
        ArgumentNullException.ThrowIfNull(detections);
        if (_started && pts < _lastPts)
            throw new ArgumentOutOfRangeException(nameof(pts), pts, $"timestamps must not go back (previous frame {_lastPts}); call Reset() after a discontinuity");
        double dt = _started ? (pts - _lastPts).TotalSeconds : 0;
        bool firstFrame = !_started;
        _started = true;
        _lastPts = pts;

        PredictAll(dt);
        if (Options.CompensateCameraMotion && !cameraMotion.IsIdentity) WarpAll(cameraMotion);
        SplitDetections(detections);

        // Stage 1: high detections against tracked and lost tracks, together or tracked ones first.
        _candidates.Clear();
        bool joint = Options.LostMatching == LostTrackMatching.Joint;
        for (int i = 0; i < _count; i++)
            if (_slots[i].State == TrackState.Tracked || (joint && _slots[i].State == TrackState.Lost)) _candidates.Add(i);
        Match(_candidates, _high, detections, Options.HighMatchMinSimilarity, Options.FuseScore, pts, _unmatchedTracks, _remainingHigh);
        if (!joint)
        {
            _candidates.Clear();
            for (int i = 0; i < _count; i++)
                if (_slots[i].State == TrackState.Lost) _candidates.Add(i);
            _rows.Clear();
            _rows.AddRange(_remainingHigh);
            _tracksLeft.Clear();
            _tracksLeft.AddRange(_unmatchedTracks);
            Match(_candidates, _rows, detections, Options.LostMatchMinSimilarity, Options.FuseScore, pts, _unmatchedTracks, _remainingHigh);
            _unmatchedTracks.AddRange(_tracksLeft);
        }

        // Stage 2: low detections against tracked tracks still unmatched (lost ones are not revived by weak evidence).
        _candidates.Clear();
        foreach (int i in _unmatchedTracks)
            if (_slots[i].State == TrackState.Tracked) _candidates.Add(i);
        Match(_candidates, _low, detections, Options.LowMatchMinIoU, fuse: false, pts, _unmatchedTracks, _unmatchedDets);
        foreach (int i in _unmatchedTracks)
        {
            ref Slot s = ref _slots[i];
            if (s.State == TrackState.Tracked && Options.LostHoldsSize)
            {
                _motion[i].Mean[6] = 0;
                _motion[i].Mean[7] = 0;
            }
            s.State = TrackState.Lost;
        }

        // Stage 3: remaining high detections against tentative tracks; a tentative track that misses more frames than
        // allowed is dropped.
        _candidates.Clear();
        for (int i = 0; i < _count; i++)
            if (_slots[i].State == TrackState.New) _candidates.Add(i);
        Match(_candidates, _remainingHigh, detections, Options.TentativeMatchMinSimilarity, Options.FuseScore, pts, _unmatchedTracks, _unmatchedDets);
        foreach (int i in _unmatchedTracks)
            if (_slots[i].Misses >= Options.TentativeMaxMisses) _slots[i].State = TrackState.Removed;
        ApplyMatches(detections, pts);

        // New tentative tracks from what is left, unless they sit on a tracked track (a duplicate detection).
        int live = _count;
        foreach (int row in _unmatchedDets)
            if (detections.Scores[row] >= Options.NewTrackScore && !OverlapsTracked(detections.Boxes[row], live))
                StartTrack(detections, row, pts, firstFrame && Options.ConfirmAtStart);

        for (int i = 0; i < live; i++)
            if (_slots[i].DetectionIndex < 0) _slots[i].Misses++;

        // Lost tracks past their time are removed.
        double timeout = Options.LostTimeoutSeconds;
        for (int i = 0; i < _count; i++)
        {
            ref Slot s = ref _slots[i];
            if (s.State == TrackState.Lost && (pts - s.LastSeen).TotalSeconds > timeout) s.State = TrackState.Removed;
        }

        return Collect();
    }

    /// <summary>
    /// Forgets every track (e.g. after a stream discontinuity or a seek) but keeps the id counters, so ids stay unique
    /// for the stream. The next <see cref="Update(Detections, TimeSpan)"/> may have any timestamp.
    /// </summary>
    public void Reset()
    {
        Array.Clear(_slots, 0, _count);
        _count = 0;
        _started = false;
    }

    /// <summary>True when <paramref name="box"/> overlaps one of the first <paramref name="live"/> tracked tracks by more than <see cref="ByteTrackerOptions.NewTrackMaxIoU"/>.</summary>
    private bool OverlapsTracked(in Box box, int live)
    {
        float limit = Options.NewTrackMaxIoU;
        if (limit >= 1) return false;
        for (int i = 0; i < live; i++)
            if (_slots[i].State == TrackState.Tracked && _motion[i].Box.IoU(box) > limit) return true;
        return false;
    }

    private void PredictAll(double dt)
    {
        if (_count == 0) return;
        if (_dts.Length < _count) _dts = new double[Math.Max(_count, 2 * _dts.Length)];
        Span<double> dts = _dts.AsSpan(0, _count);
        dts.Fill(dt);
        _model.PredictMany(_motion.AsSpan(0, _count), dts);
        for (int i = 0; i < _count; i++)
        {
            ref Slot s = ref _slots[i];
            s.Age++;
            s.FramesSinceUpdate++;
            s.DetectionIndex = -1;
            s.Predicted = _motion[i].Box;
        }
    }

    private void SplitDetections(Detections detections)
    {
        _high.Clear();
        _low.Clear();
        ReadOnlySpan<float> scores = detections.Scores;
        for (int row = 0; row < scores.Length; row++)
        {
            float score = scores[row];
            if (score >= Options.HighScore) _high.Add(row);
            else if (score >= Options.LowScore) _low.Add(row);
        }
    }

    private void StartTrack(Detections detections, int row, TimeSpan pts, bool confirm)
    {
        if (_count >= Options.MaxTracks)
        {
            TracksRefused++;
            return;
        }
        Box box = detections.Boxes[row];
        int slot = Add(_model.Initiate(box, pts.TotalSeconds));
        bool confirmed = confirm || Options.MinHits <= 1;
        _slots[slot] = new Slot
        {
            Id = confirmed ? _nextId++ : _nextProvisionalId--,
            State = confirmed ? TrackState.Tracked : TrackState.New,
            Hits = 1,
            Age = 0,
            StartTime = pts,
            LastSeen = pts,
            Score = detections.Scores[row],
            ClassId = detections.ClassIds[row],
            DetectionIndex = row,
            Measured = box,
            Predicted = box,
        };
    }

    private Track[] Collect()
    {
        int reported = 0;
        for (int i = 0; i < _count; i++)
            if (_slots[i].State != TrackState.Removed || _slots[i].Id > 0) reported++;
        var tracks = new Track[reported];
        int k = 0;
        for (int i = 0; i < _count; i++)
        {
            ref Slot s = ref _slots[i];
            if (s.State == TrackState.Removed && s.Id <= 0) continue;
            bool matched = s.DetectionIndex >= 0;
            Box box = matched && Options.ReportDetectionBox ? s.Measured : _motion[i].Box;
            tracks[k++] = new Track(s.Id, box, s.Score, s.ClassId, s.State, s.Hits, s.Age, s.StartTime,
                (float)_motion[i].VelocityX, (float)_motion[i].VelocityY, s.DetectionIndex);
        }
        RemoveDead();
        return tracks;
    }
}
