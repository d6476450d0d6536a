using StreamVision.Core;
using StreamVision.Tracking.Assignment;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking;

// Association: similarity matrices between predicted track boxes and detections, solved optimally.
public sealed partial class ByteTracker
{
    private readonly List<int> _high = [];
    private readonly List<int> _low = [];
    private readonly List<int> _candidates = [];
    private readonly List<int> _remainingHigh = [];
    private readonly List<int> _unmatchedTracks = [];
    private readonly List<int> _unmatchedDets = [];
    private readonly List<int> _rows = [];
    private readonly List<int> _matched = [];
    private readonly List<int> _tracksLeft = [];
    private double[] _cost = new double[256];
    private int[] _rowToCol = new int[16];
    private int[] _colToRow = new int[16];

    /// <summary>
    /// Optimal assignment of <paramref name="tracks"/> (slot indices) to <paramref name="rows"/> (detection rows) on
    /// similarity = IoU(predicted box, detection box), times the clamped score when <paramref name="fuse"/>; pairs below
    /// <paramref name="minSimilarity"/> (or of different classes, when class-aware) never match. Matched tracks are updated.
    /// Fills <paramref name="unmatchedTracks"/> and <paramref name="unmatchedRows"/> (which may alias none of the inputs).
    /// </summary>
    private void Match(List<int> tracks, List<int> rows, Detections detections, float minSimilarity, bool fuse, TimeSpan pts,
        List<int> unmatchedTracks, List<int> unmatchedRows)
    {
        int nt = tracks.Count, nd = rows.Count;
        unmatchedTracks.Clear();
        unmatchedRows.Clear();
        if (nt == 0 || nd == 0)
        {
            unmatchedTracks.AddRange(tracks);
            unmatchedRows.AddRange(rows);
            return;
        }

        if (_cost.Length < nt * nd) _cost = new double[Math.Max(nt * nd, 2 * _cost.Length)];
        if (_rowToCol.Length < nt) _rowToCol = new int[Math.Max(nt, 2 * _rowToCol.Length)];
        if (_colToRow.Length < nd) _colToRow = new int[Math.Max(nd, 2 * _colToRow.Length)];
        Span<double> cost = _cost.AsSpan(0, nt * nd);
        ReadOnlySpan<Box> boxes = detections.Boxes;
        ReadOnlySpan<float> scores = detections.Scores;
        ReadOnlySpan<int> classes = detections.ClassIds;
        bool classAware = Options.ClassAware;
        float directionWeight = Options.DirectionWeight;
        for (int i = 0; i < nt; i++)
        {
            ref readonly Slot s = ref _slots[tracks[i]];
            Box predicted = s.Predicted;
            double anchorX = 0, anchorY = 0, dirX = 0, dirY = 0;
            bool hasDirection = directionWeight > 0 && TryGetDirection(tracks[i], out anchorX, out anchorY, out dirX, out dirY);
            float buffer = s.State == TrackState.Lost ? Options.LostBoxBuffer : 0f;
            if (buffer > 0) predicted = Grow(predicted, buffer);
            for (int j = 0; j < nd; j++)
            {
                int row = rows[j];
                if (classAware && classes[row] != s.ClassId)
                {
                    cost[i * nd + j] = double.NaN;
                    continue;
                }
                double similarity = buffer > 0 ? predicted.IoU(Grow(boxes[row], buffer)) : predicted.IoU(boxes[row]);
                if (fuse) similarity *= Math.Clamp(scores[row], 0f, 1f);
                if (similarity < minSimilarity)
                {
                    cost[i * nd + j] = double.NaN;
                    continue;
                }
                if (hasDirection)
                {
                    // OC-SORT's direction consistency: the angle between the track's heading and the way to this
                    // detection, from +w/2 (same way) to -w/2 (opposite), weighted by the detection's score.
                    double tx = boxes[row].CenterX - anchorX, ty = boxes[row].CenterY - anchorY;
                    double norm = Math.Sqrt(tx * tx + ty * ty);
                    if (norm > 1e-6)
                    {
                        double cos = Math.Clamp((tx * dirX + ty * dirY) / norm, -1, 1);
                        similarity += directionWeight * Math.Clamp(scores[row], 0f, 1f) * (Math.PI / 2 - Math.Acos(cos)) / Math.PI;
                    }
                }
                cost[i * nd + j] = 1 - similarity;
            }
        }

        Span<int> rowToCol = _rowToCol.AsSpan(0, nt);
        Span<int> colToRow = _colToRow.AsSpan(0, nd);
        // Pairs below minSimilarity are already excluded (NaN); the direction term may move a pair below it without excluding it.
        LinearAssignment.Solve(cost, nt, nd, 1 - minSimilarity + directionWeight, rowToCol, colToRow, AssignmentObjective.MaxGain);

        for (int i = 0; i < nt; i++)
        {
            int j = rowToCol[i];
            if (j < 0)
            {
                unmatchedTracks.Add(tracks[i]);
            }
            else
            {
                // Updates wait until every stage has matched (see ApplyMatches), so they can tell shared detections.
                _slots[tracks[i]].DetectionIndex = rows[j];
                _matched.Add(tracks[i]);
            }
        }
        for (int j = 0; j < nd; j++)
            if (colToRow[j] < 0) unmatchedRows.Add(rows[j]);
    }

    /// <summary>Observations back from the newest that give a track's heading for <see cref="ByteTrackerOptions.DirectionWeight"/>.</summary>
    private const int DirectionSpan = 3;

    /// <summary>
    /// The heading of track <paramref name="slot"/>: the unit vector from the centre of its observation
    /// <see cref="DirectionSpan"/> back (the anchor) to its newest one. False when it has fewer than two observations or
    /// moved less than a tenth of its width between them (a standing object has no heading).
    /// </summary>
    private bool TryGetDirection(int slot, out double anchorX, out double anchorY, out double dirX, out double dirY)
    {
        ref readonly ObservationHistory history = ref _motion[slot].History;
        anchorX = anchorY = dirX = dirY = 0;
        int n = history.Count;
        if (n < 2) return false;
        Box newest = history[n - 1].Box, anchor = history[Math.Max(0, n - 1 - DirectionSpan)].Box;
        anchorX = anchor.CenterX;
        anchorY = anchor.CenterY;
        double dx = newest.CenterX - anchorX, dy = newest.CenterY - anchorY;
        double norm = Math.Sqrt(dx * dx + dy * dy);
        if (norm < 0.1 * Math.Max(1, newest.Width)) return false;
        dirX = dx / norm;
        dirY = dy / norm;
        return true;
    }

    /// <summary><paramref name="box"/> grown on every side by <paramref name="fraction"/> of its width and height.</summary>
    private static Box Grow(in Box box, float fraction)
    {
        float dx = fraction * box.Width, dy = fraction * box.Height;
        return new Box(box.X1 - dx, box.Y1 - dy, box.X2 + dx, box.Y2 + dy);
    }

    /// <summary>
    /// Applies this frame's matches (<see cref="_matched"/>, each slot's <c>DetectionIndex</c>). A detection wider than
    /// its track's prediction that also covers a track seen in the previous frame and unmatched now
    /// (<see cref="ByteTrackerOptions.SharedDetectionIoU"/>, <see cref="ByteTrackerOptions.SharedDetectionWidthRatio"/>) is
    /// likely two objects in one box: the matched track then keeps its prediction instead of being pulled by it.
    /// </summary>
    private void ApplyMatches(Detections detections, TimeSpan pts)
    {
        float shared = Options.SharedDetectionIoU;
        foreach (int slot in _matched)
        {
            int row = _slots[slot].DetectionIndex;
            bool coast = shared > 0 && detections.Boxes[row].Width > Options.SharedDetectionWidthRatio * _slots[slot].Predicted.Width
                && CoversUnmatched(slot, detections.Boxes[row], shared);
            Apply(slot, detections, row, pts, coast);
        }
        _matched.Clear();
    }

    /// <summary>True when <paramref name="box"/> overlaps, by at least <paramref name="minIoU"/>, the prediction of a track other than <paramref name="slot"/> that is unmatched now but was matched in the previous frame.</summary>
    private bool CoversUnmatched(int slot, in Box box, float minIoU)
    {
        for (int k = 0; k < _count; k++)
        {
            ref readonly Slot other = ref _slots[k];
            if (k == slot || other.DetectionIndex >= 0 || other.Misses > 0) continue;
            if (other.Predicted.IoU(box) >= minIoU) return true;
        }
        return false;
    }

    /// <summary>
    /// Updates track <paramref name="slot"/> with detection <paramref name="row"/> (only the bookkeeping when
    /// <paramref name="coast"/>: the motion state keeps its prediction); revives a lost track, confirms a tentative one.
    /// </summary>
    private void Apply(int slot, Detections detections, int row, TimeSpan pts, bool coast = false)
    {
        Box box = detections.Boxes[row];
        ref Slot s = ref _slots[slot];
        if (!coast)
        {
            if (s.State == TrackState.Lost && Options.RefindReupdate && s.FramesSinceUpdate > 1) Reupdate(slot, box, pts);
            _model.Update(ref _motion[slot], box);
            _lastHit[slot] = _motion[slot];
            s.FramesSinceUpdate = 0;
        }
        s.Misses = 0;
        s.Hits++;
        s.LastSeen = pts;
        s.Score = detections.Scores[row];
        s.ClassId = detections.ClassIds[row];
        s.DetectionIndex = row;
        s.Measured = box;
        if (s.State == TrackState.Lost)
        {
            s.State = TrackState.Tracked;
        }
        else if (s.State == TrackState.New && s.Hits >= Options.MinHits)
        {
            s.State = TrackState.Tracked;
            s.Id = _nextId++;
        }
    }

    /// <summary>
    /// Re-runs the motion model of re-found track <paramref name="slot"/> from its state at its last detection, along a
    /// straight virtual path to <paramref name="box"/>: one predict and update per frame it went without one, then the
    /// predict to <paramref name="pts"/> (the caller applies the real detection). The history keeps only real observations.
    /// </summary>
    private void Reupdate(int slot, in Box box, TimeSpan pts)
    {
        ref Slot s = ref _slots[slot];
        MotionState state = _lastHit[slot];
        ObservationHistory history = state.History;
        int steps = s.FramesSinceUpdate;
        double dt = (pts.TotalSeconds - state.Time) / steps;
        if (!(dt > 0)) return;
        Box from = history.Latest.Box;
        for (int k = 1; k < steps; k++)
        {
            float f = (float)k / steps;
            _model.Predict(ref state, dt);
            _model.Update(ref state, new Box(from.X1 + f * (box.X1 - from.X1), from.Y1 + f * (box.Y1 - from.Y1),
                from.X2 + f * (box.X2 - from.X2), from.Y2 + f * (box.Y2 - from.Y2)));
        }
        _model.Predict(ref state, dt);
        state.History = history;
        _motion[slot] = state;
    }
}
