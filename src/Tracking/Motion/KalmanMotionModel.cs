using StreamVision.Core;

namespace StreamVision.Tracking.Motion;

/// <summary>
/// Constant-velocity Kalman filter over the box centre, width and height and their rates:
/// state (cx, cy, w, h, vcx, vcy, vw, vh) in pixels and pixels per second; the measurement is (cx, cy, w, h).
/// Noise is proportional to the box size (<see cref="KalmanMotionOptions"/>). Stateless and thread-safe: one instance can
/// serve every tracker.
/// </summary>
public sealed class KalmanMotionModel : IMotionModel
{
    private const int N = MotionVector.Length; // 8 state elements
    private const int M = 4; // 4 measured elements
    private const double MinSide = 1.0; // pixels: sizes are kept at least this, noise never collapses to 0

    private readonly double _pos;
    private readonly double _vel;
    private readonly double _refFps;

    /// <summary>A filter with the given noise (validated), or the defaults.</summary>
    public KalmanMotionModel(KalmanMotionOptions? options = null)
    {
        Options = (options ?? new KalmanMotionOptions()).Validate();
        _pos = Options.PositionNoise;
        _vel = Options.VelocityNoise;
        _refFps = Options.ReferenceFps;
    }

    /// <summary>A shared instance with the default noise.</summary>
    public static KalmanMotionModel Default { get; } = new();

    public KalmanMotionOptions Options { get; }

    public MotionState Initiate(in Box box, double timeSeconds)
    {
        var state = new MotionState { Time = timeSeconds };
        double w = box.Width, h = box.Height;
        state.Mean[0] = box.CenterX;
        state.Mean[1] = box.CenterY;
        state.Mean[2] = w;
        state.Mean[3] = h;
        double sw = Math.Max(w, MinSide), sh = Math.Max(h, MinSide);
        for (int i = 0; i < M; i++)
        {
            double side = (i & 1) == 0 ? sw : sh;
            double ps = 2 * _pos * side;
            double vs = 10 * _vel * side * _refFps;
            state.Covariance[i * N + i] = ps * ps;
            state.Covariance[(i + M) * N + (i + M)] = vs * vs;
        }
        state.History.Add(new Observation(box, timeSeconds));
        return state;
    }

    public void Predict(ref MotionState state, double dtSeconds)
    {
        if (!(dtSeconds >= 0) || double.IsPositiveInfinity(dtSeconds))
            throw new ArgumentOutOfRangeException(nameof(dtSeconds), dtSeconds, "time step must be finite and not negative");
        if (dtSeconds == 0) return;

        Span<double> mean = state.Mean;
        Span<double> p = state.Covariance;
        double sw = Math.Max(mean[2], MinSide), sh = Math.Max(mean[3], MinSide);

        // Mean: x += dt * v.
        for (int i = 0; i < M; i++) mean[i] += dtSeconds * mean[i + M];
        mean[2] = Math.Max(mean[2], MinSide);
        mean[3] = Math.Max(mean[3], MinSide);

        // P = F P F^T with F = [[I, dt I], [0, I]]: first rows (F P), then columns (. F^T).
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++)
                p[i * N + j] += dtSeconds * p[(i + M) * N + j];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
                p[i * N + j] += dtSeconds * p[i * N + j + M];

        // Q: per-frame noise at the reference rate, scaled by the number of reference frames elapsed.
        double steps = dtSeconds * _refFps;
        for (int i = 0; i < M; i++)
        {
            double side = (i & 1) == 0 ? sw : sh;
            double ps = _pos * side;
            double vs = _vel * side * _refFps;
            p[i * N + i] += ps * ps * steps;
            p[(i + M) * N + (i + M)] += vs * vs * steps;
        }
        state.Time += dtSeconds;
    }

    public void Update(ref MotionState state, in Box box)
    {
        Span<double> mean = state.Mean;
        Span<double> p = state.Covariance;
        double sw = Math.Max(mean[2], MinSide), sh = Math.Max(mean[3], MinSide);

        // S = H P H^T + R (the top-left 4x4 block plus measurement noise).
        Span<double> s = stackalloc double[M * M];
        for (int i = 0; i < M; i++)
            for (int j = 0; j < M; j++)
                s[i * M + j] = p[i * N + j];
        for (int i = 0; i < M; i++)
        {
            double ms = _pos * ((i & 1) == 0 ? sw : sh);
            s[i * M + i] += ms * ms;
        }
        if (!Cholesky4(s))
        {
            // Numerically broken covariance (should not happen): restart from the measurement, keeping the history.
            var history = state.History;
            state = Initiate(box, state.Time);
            history.Add(new Observation(box, state.Time));
            state.History = history;
            return;
        }

        // K = P H^T S^-1, one row at a time: S k_i = (P H^T)_i.
        Span<double> k = stackalloc double[N * M];
        for (int i = 0; i < N; i++)
        {
            Span<double> row = k.Slice(i * M, M);
            for (int j = 0; j < M; j++) row[j] = p[i * N + j];
            SolveCholesky4(s, row);
        }

        Span<double> innovation = [box.CenterX - mean[0], box.CenterY - mean[1], box.Width - mean[2], box.Height - mean[3]];
        for (int i = 0; i < N; i++)
        {
            double d = 0;
            for (int j = 0; j < M; j++) d += k[i * M + j] * innovation[j];
            mean[i] += d;
        }
        mean[2] = Math.Max(mean[2], MinSide);
        mean[3] = Math.Max(mean[3], MinSide);

        // P -= K (P H^T)^T, computed from the old P's first four columns, then symmetrised.
        Span<double> pht = stackalloc double[N * M];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
                pht[i * M + j] = p[i * N + j];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
            {
                double d = 0;
                for (int q = 0; q < M; q++) d += k[i * M + q] * pht[j * M + q];
                p[i * N + j] -= d;
            }
        for (int i = 0; i < N; i++)
            for (int j = i + 1; j < N; j++)
            {
                double avg = 0.5 * (p[i * N + j] + p[j * N + i]);
                p[i * N + j] = avg;
                p[j * N + i] = avg;
            }

        state.History.Add(new Observation(box, state.Time));
    }

    /// <summary>Predicts each state by its own time step (a plain loop: the filter gains nothing from batching).</summary>
    public void PredictMany(Span<MotionState> states, ReadOnlySpan<double> dtSeconds)
    {
        if (dtSeconds.Length != states.Length)
            throw new ArgumentException($"dtSeconds has {dtSeconds.Length} entries, states {states.Length}", nameof(dtSeconds));
        for (int i = 0; i < states.Length; i++) Predict(ref states[i], dtSeconds[i]);
    }

    /// <summary>In-place Cholesky factor (lower triangle) of a symmetric 4x4 matrix; false when not positive definite.</summary>
    private static bool Cholesky4(Span<double> a)
    {
        for (int j = 0; j < M; j++)
        {
            double d = a[j * M + j];
            for (int q = 0; q < j; q++) d -= a[j * M + q] * a[j * M + q];
            if (!(d > 0)) return false;
            double l = Math.Sqrt(d);
            a[j * M + j] = l;
            for (int i = j + 1; i < M; i++)
            {
                double v = a[i * M + j];
                for (int q = 0; q < j; q++) v -= a[i * M + q] * a[j * M + q];
                a[i * M + j] = v / l;
            }
        }
        return true;
    }

    /// <summary>Solves L L^T x = b in place, with L from <see cref="Cholesky4"/>.</summary>
    private static void SolveCholesky4(ReadOnlySpan<double> l, Span<double> b)
    {
        for (int i = 0; i < M; i++)
        {
            double v = b[i];
            for (int q = 0; q < i; q++) v -= l[i * M + q] * b[q];
            b[i] = v / l[i * M + i];
        }
        for (int i = M - 1; i >= 0; i--)
        {
            double v = b[i];
            for (int q = i + 1; q < M; q++) v -= l[q * M + i] * b[q];
            b[i] = v / l[i * M + i];
        }
    }
}
