using StreamVision.Core;
using StreamVision.Tracking.Assignment;

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
        for (int i = 0; i < nt; i++)
        {
            ref readonly Slot s = ref _slots[tracks[i]];
            Box predicted = s.Predicted;
            for (int j = 0; j < nd; j++)
            {
                int row = rows[j];
                if (classAware && classes[row] != s.ClassId)
                {
                    cost[i * nd + j] = double.NaN;
                    continue;
                }
                double similarity = predicted.IoU(boxes[row]);
                if (fuse) similarity *= Math.Clamp(scores[row], 0f, 1f);
                cost[i * nd + j] = 1 - similarity;
            }
        }

        Span<int> rowToCol = _rowToCol.AsSpan(0, nt);
        Span<int> colToRow = _colToRow.AsSpan(0, nd);
        LinearAssignment.Solve(cost, nt, nd, 1 - minSimilarity, rowToCol, colToRow, AssignmentObjective.MaxGain);

        for (int i = 0; i < nt; i++)
        {
            int j = rowToCol[i];
            if (j < 0) unmatchedTracks.Add(tracks[i]);
            else Apply(tracks[i], detections, rows[j], pts);
        }
        for (int j = 0; j < nd; j++)
            if (colToRow[j] < 0) unmatchedRows.Add(rows[j]);
    }

    /// <summary>Updates track <paramref name="slot"/> with detection <paramref name="row"/>; revives a lost track, confirms a tentative one.</summary>
    private void Apply(int slot, Detections detections, int row, TimeSpan pts)
    {
        Box box = detections.Boxes[row];
        _model.Update(ref _motion[slot], box);
        ref Slot s = ref _slots[slot];
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
}
