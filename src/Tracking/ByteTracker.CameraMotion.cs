using System.Numerics;
using StreamVision.Core;
using StreamVision.Tracking.Motion;

namespace StreamVision.Tracking;

// Camera-motion compensation: after prediction, every track is carried along with the camera's frame-to-frame motion.
public sealed partial class ByteTracker
{
    /// <summary>Moves every track's motion state (and its snapshot at its last detection) by the camera motion <paramref name="m"/>.</summary>
    private void WarpAll(in Matrix3x2 m)
    {
        var warp = new Warp(m);
        for (int i = 0; i < _count; i++)
        {
            warp.Apply(ref _motion[i]);
            warp.Apply(ref _lastHit[i]);
            ref Slot s = ref _slots[i];
            s.Predicted = _motion[i].Box;
            s.Measured = warp.Apply(s.Measured);
        }
    }

    /// <summary>
    /// A camera motion as it acts on a motion state: centres move by the full transform; widths and heights scale by how
    /// much the transform stretches each axis; velocities turn and scale with its linear part; the covariance follows
    /// (P = T P T^T with the same block-diagonal T); past observations move like boxes.
    /// </summary>
    private readonly struct Warp
    {
        // Column-vector form: x' = a x + b y + tx, y' = c x + d y + ty.
        private readonly double _a, _b, _c, _d, _tx, _ty, _sx, _sy;

        public Warp(in Matrix3x2 m)
        {
            _a = m.M11;
            _b = m.M21;
            _c = m.M12;
            _d = m.M22;
            _tx = m.M31;
            _ty = m.M32;
            _sx = Math.Sqrt(_a * _a + _c * _c);
            _sy = Math.Sqrt(_b * _b + _d * _d);
        }

        public Box Apply(in Box box)
        {
            double cx = box.CenterX, cy = box.CenterY;
            return Box.FromCenter((float)(_a * cx + _b * cy + _tx), (float)(_c * cx + _d * cy + _ty), (float)(box.Width * _sx), (float)(box.Height * _sy));
        }

        public void Apply(ref MotionState state)
        {
            Span<double> x = state.Mean;
            double cx = x[0], cy = x[1], vx = x[4], vy = x[5];
            x[0] = _a * cx + _b * cy + _tx;
            x[1] = _c * cx + _d * cy + _ty;
            x[2] *= _sx;
            x[3] *= _sy;
            x[4] = _a * vx + _b * vy;
            x[5] = _c * vx + _d * vy;
            x[6] *= _sx;
            x[7] *= _sy;

            // T is block-diagonal: [L, S, L, S] with L the linear part and S = diag(sx, sy).
            const int n = MotionVector.Length;
            Span<double> t = stackalloc double[n * n];
            t.Clear();
            for (int block = 0; block < 4; block++)
            {
                int o = 2 * block;
                bool linear = block % 2 == 0;
                t[o * n + o] = linear ? _a : _sx;
                t[o * n + o + 1] = linear ? _b : 0;
                t[(o + 1) * n + o] = linear ? _c : 0;
                t[(o + 1) * n + o + 1] = linear ? _d : _sy;
            }
            Span<double> p = state.Covariance;
            Span<double> tp = stackalloc double[n * n];
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double v = 0;
                    for (int k = 0; k < n; k++) v += t[i * n + k] * p[k * n + j];
                    tp[i * n + j] = v;
                }
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double v = 0;
                    for (int k = 0; k < n; k++) v += tp[i * n + k] * t[j * n + k];
                    p[i * n + j] = v;
                }

            Span<Observation> history = stackalloc Observation[ObservationHistory.Capacity];
            int count = state.History.CopyLatest(history);
            state.History.Clear();
            for (int i = 0; i < count; i++) state.History.Add(new Observation(Apply(history[i].Box), history[i].Time));
        }
    }
}
