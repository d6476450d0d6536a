using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking;

// Track storage: two parallel arrays (bookkeeping and motion state) so the motion model can predict all tracks as one span.
public sealed partial class ByteTracker
{
    private Slot[] _slots = new Slot[16];
    private MotionState[] _motion = new MotionState[16];
    private MotionState[] _lastHit = new MotionState[16]; // each track's motion state right after its last matched detection
    private int _count;
    private double[] _dts = new double[16];

    /// <summary>Bookkeeping of one live track; its motion state is at the same index of <see cref="_motion"/>.</summary>
    private struct Slot
    {
        public int Id;
        public TrackState State;
        public int Hits;
        public int Age;
        public int Misses; // consecutive frames without a matched detection
        public int FramesSinceUpdate; // frames since the motion model last took a detection (coasting matches count)
        public TimeSpan StartTime;
        public TimeSpan LastSeen;
        public float Score;
        public int ClassId;
        public int DetectionIndex;
        public Box Measured;
        public Box Predicted;
    }

    private int Add(in MotionState state)
    {
        if (_count == _slots.Length)
        {
            int size = Math.Min(Math.Max(16, 2 * _slots.Length), Math.Max(Options.MaxTracks, 16));
            Array.Resize(ref _slots, size);
            Array.Resize(ref _motion, size);
            Array.Resize(ref _lastHit, size);
        }
        _motion[_count] = state;
        _lastHit[_count] = state;
        return _count++;
    }

    /// <summary>Drops removed tracks, keeping the others in creation order.</summary>
    private void RemoveDead()
    {
        int w = 0;
        for (int r = 0; r < _count; r++)
        {
            if (_slots[r].State == TrackState.Removed) continue;
            if (w != r)
            {
                _slots[w] = _slots[r];
                _motion[w] = _motion[r];
                _lastHit[w] = _lastHit[r];
            }
            w++;
        }
        Array.Clear(_slots, w, _count - w);
        _count = w;
    }
}
