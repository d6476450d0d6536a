using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using StreamVision.Core;
using StreamVision.Tracking.Onnx;

namespace StreamVision.Tracking.Motion;

/// <summary>
/// A learned motion model: a small recurrent network (ONNX, trained by <c>tools/train-motion</c>) predicts a track's next box
/// and its uncertainty from the track's last observed boxes (<see cref="MotionState.History"/>). All tracks of a frame are
/// predicted in one session run (<see cref="PredictMany"/>); tracks with fewer than <see cref="MinObservations"/> observations
/// use the Kalman filter instead. Stateless and thread-safe: one instance serves every tracker of every stream.
/// </summary>
/// <remarks>
/// <para>Keeps the <see cref="MotionState"/> contract: after a prediction <c>Mean[0..3]</c> is the predicted box (centre,
/// size; pixels), <c>Mean[4..7]</c> how far the estimate moved per second over the step, and the covariance holds the
/// network's variance of each coordinate (its cross terms with the rates say the uncertainty came with the step).
/// <see cref="Update"/> is the Kalman measurement update over that covariance, so the corrected box weighs the network's
/// confidence against the detection's.</para>
/// <para>Network contract (written by <c>tools/train-motion/train.py</c>; see <c>models/README.md</c>): input
/// <c>history</c> float [tracks, K, 8] and <c>horizon</c> float [tracks, 1]; outputs <c>mean</c> and <c>log_var</c>,
/// float [tracks, 4]. Positions are relative to the newest observation in units of its width and height, times in units
/// of the model's time unit (metadata <c>streamvision.motion.tau_seconds</c>).</para>
/// </remarks>
public sealed class OnnxMotionModel : IMotionModel, IDisposable
{
    /// <summary>Observations a track needs before the network predicts it; below this the Kalman filter does.</summary>
    public const int MinObservations = 2;

    /// <summary>Features per observation in the <c>history</c> input.</summary>
    public const int FeatureCount = 8;

    private const int OutputCount = 4;
    private const double MinSide = 1.0; // pixels, as in the Kalman filter
    private const string ContractVersion = "1";
    private static readonly string[] s_inputNames = ["history", "horizon"];
    private static readonly string[] s_outputNames = ["mean", "log_var"];

    private readonly InferenceSession _session;
    private readonly KalmanMotionModel _kalman;
    private readonly int _k;
    private readonly double _tau;
    private readonly ConcurrentBag<Batch> _batches = new();
    private long _runs;
    private int _disposed;

    private readonly bool _blend;

    private OnnxMotionModel(string path, InferenceSession session, KalmanMotionModel kalman, int historyLength, double tau, bool blend)
    {
        _blend = blend;
        Path = path;
        _session = session;
        _kalman = kalman;
        _k = historyLength;
        _tau = tau;
    }

    /// <summary>The model file, as given to <see cref="Load"/>.</summary>
    public string Path { get; }

    /// <summary>Observations the network reads per track (K), at most <see cref="ObservationHistory.Capacity"/>.</summary>
    public int HistoryLength => _k;

    /// <summary>The network's time unit, seconds (0.04: one frame at 25 fps).</summary>
    public double TimeUnitSeconds => _tau;

    /// <summary>The filter for young tracks and for measurement updates.</summary>
    public KalmanMotionModel Fallback => _kalman;

    /// <summary>Whether predictions are the uncertainty-weighted blend of the network's and the Kalman filter's (<see cref="OnnxMotionModelOptions.Blend"/>).</summary>
    public bool Blends => _blend;

    /// <summary>Session runs so far: one per <see cref="PredictMany"/> call that had at least one track for the network.</summary>
    public long SessionRuns => Interlocked.Read(ref _runs);

    /// <summary>
    /// Loads a motion model; throws <see cref="MotionModelException"/> naming the file when it is missing, ONNX Runtime
    /// cannot load it, or its inputs, outputs or metadata are not those of a motion model; <see cref="OptionsException"/>
    /// for invalid options.
    /// </summary>
    public static OnnxMotionModel Load(string path, OnnxMotionModelOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        options = (options ?? new OnnxMotionModelOptions()).Validate();
        if (!File.Exists(path)) throw new MotionModelException(path, "file not found");

        return SmallModelLoader.Open(path, options.IntraOpThreads, session =>
        {
            var (k, tau) = CheckContract(path, session);
            return new OnnxMotionModel(path, session, new KalmanMotionModel(options.Kalman), k, tau, options.Blend);
        }, (p, message, inner) => new MotionModelException(p, message, inner));
    }

    /// <summary>History length and time unit, after checking inputs, outputs and metadata.</summary>
    private static (int K, double Tau) CheckContract(string path, InferenceSession session)
    {
        static string Describe(IReadOnlyDictionary<string, NodeMetadata> nodes) => SmallModelLoader.DescribeNodes(nodes);
        string expected = $"inputs history float [tracks, K, {FeatureCount}] and horizon float [tracks, 1], outputs mean and log_var float [tracks, {OutputCount}]";
        string found = $"inputs {Describe(session.InputMetadata)}; outputs {Describe(session.OutputMetadata)}";

        bool Is(IReadOnlyDictionary<string, NodeMetadata> nodes, string name, params int[] dims) =>
            nodes.TryGetValue(name, out var m) && m.ElementDataType == TensorElementType.Float && m.Dimensions.Length == dims.Length &&
            dims.Select((d, i) => d == 0 || m.Dimensions[i] == d).All(x => x);
        if (session.InputMetadata.Count != 2 || session.OutputMetadata.Count != 2 ||
            !Is(session.InputMetadata, "history", 0, 0, FeatureCount) || !Is(session.InputMetadata, "horizon", 0, 1) ||
            !Is(session.OutputMetadata, "mean", 0, OutputCount) || !Is(session.OutputMetadata, "log_var", 0, OutputCount))
            throw new MotionModelException(path, $"expected {expected}; the model has {found}");

        int k = session.InputMetadata["history"].Dimensions[1];
        if (k < MinObservations || k > ObservationHistory.Capacity)
            throw new MotionModelException(path, $"history length K must be {MinObservations}..{ObservationHistory.Capacity} (what a track keeps), got {k}");

        var meta = session.ModelMetadata.CustomMetadataMap;
        string Meta(string key) => meta.TryGetValue(key, out var v) ? v
            : throw new MotionModelException(path, $"metadata '{key}' is missing (train it with tools/train-motion/train.py)");
        if (Meta("streamvision.motion.version") != ContractVersion)
            throw new MotionModelException(path, $"feature contract version {meta["streamvision.motion.version"]} is not the supported {ContractVersion}");
        if (!double.TryParse(Meta("streamvision.motion.tau_seconds"), NumberStyles.Float, CultureInfo.InvariantCulture, out double tau) || !(tau > 0) || !double.IsFinite(tau))
            throw new MotionModelException(path, $"metadata streamvision.motion.tau_seconds must be a positive number of seconds, got '{meta["streamvision.motion.tau_seconds"]}'");
        return (k, tau);
    }

    /// <summary>The Kalman filter's initial state: the box, zero rates, the history holding this one observation.</summary>
    public MotionState Initiate(in Box box, double timeSeconds)
    {
        ThrowIfDisposed();
        return _kalman.Initiate(box, timeSeconds);
    }

    /// <summary>Predicts one state (a batch of one; a tracker calls <see cref="PredictMany"/> once per frame instead).</summary>
    public void Predict(ref MotionState state, double dtSeconds) =>
        PredictMany(new Span<MotionState>(ref state), new ReadOnlySpan<double>(in dtSeconds));

    /// <summary>
    /// The Kalman measurement update over the state's covariance (after a network prediction: the network's variance),
    /// then the box is appended to the history.
    /// </summary>
    public void Update(ref MotionState state, in Box box)
    {
        ThrowIfDisposed();
        _kalman.Update(ref state, box);
    }

    /// <summary>
    /// Predicts every state by its own time step: states with at least <see cref="MinObservations"/> observations in one
    /// session run, the rest with the Kalman filter; a time step of 0 leaves a state unchanged.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A time step is negative, infinite or NaN (nothing is changed).</exception>
    public void PredictMany(Span<MotionState> states, ReadOnlySpan<double> dtSeconds)
    {
        if (dtSeconds.Length != states.Length)
            throw new ArgumentException($"dtSeconds has {dtSeconds.Length} entries, states {states.Length}", nameof(dtSeconds));
        ThrowIfDisposed();
        int n = 0;
        for (int i = 0; i < states.Length; i++)
        {
            double dt = dtSeconds[i];
            if (!(dt >= 0) || double.IsPositiveInfinity(dt))
                throw new ArgumentOutOfRangeException(nameof(dtSeconds), dt, $"time step {i} must be finite and not negative");
            if (dt > 0 && states[i].History.Count >= MinObservations) n++;
        }

        if (n == 0)
        {
            for (int i = 0; i < states.Length; i++)
                if (dtSeconds[i] > 0) _kalman.Predict(ref states[i], dtSeconds[i]);
            return;
        }

        Batch batch = Rent(n);
        try
        {
            int stride = _k * FeatureCount;
            int row = 0;
            for (int i = 0; i < states.Length; i++)
            {
                double dt = dtSeconds[i];
                if (dt == 0) continue;
                if (states[i].History.Count < MinObservations)
                {
                    _kalman.Predict(ref states[i], dt);
                    continue;
                }
                batch.Horizon[row] = WriteFeatures(in states[i], dt, batch.History.AsSpan(row * stride, stride));
                batch.Rows[row] = i;
                row++;
            }
            Run(batch, n);
            for (int r = 0; r < n; r++)
            {
                int i = batch.Rows[r];
                Apply(ref states[i], dtSeconds[i], batch.Mean.AsSpan(r * OutputCount, OutputCount), batch.LogVar.AsSpan(r * OutputCount, OutputCount));
            }
        }
        finally
        {
            _batches.Add(batch);
        }
    }

    /// <summary>
    /// Writes the network input of one state into <paramref name="features"/> (K x 8, oldest first, right-aligned, zero
    /// padding) and returns the horizon; mirrors <c>features()</c> in <c>tools/train-motion/train.py</c>.
    /// </summary>
    private float WriteFeatures(in MotionState state, double dt, Span<float> features)
    {
        Span<Observation> obs = stackalloc Observation[ObservationHistory.Capacity];
        int n = state.History.CopyLatest(obs[.._k]);
        Observation last = obs[n - 1];
        double lw = Math.Max(last.Box.Width, MinSide), lh = Math.Max(last.Box.Height, MinSide);
        double lcx = last.Box.CenterX, lcy = last.Box.CenterY, lt = last.Time;

        features.Clear();
        double prevX = 0, prevY = 0, prevT = 0;
        for (int j = 0; j < n; j++)
        {
            Box b = obs[j].Box;
            double t = obs[j].Time;
            double x = (b.CenterX - lcx) / lw, y = (b.CenterY - lcy) / lh;
            Span<float> f = features.Slice((_k - n + j) * FeatureCount, FeatureCount);
            f[0] = (float)x;
            f[1] = (float)y;
            f[2] = (float)Math.Log(Math.Max(b.Width, MinSide) / lw);
            f[3] = (float)Math.Log(Math.Max(b.Height, MinSide) / lh);
            f[4] = (float)((t - lt) / _tau / 10);
            f[5] = 1;
            double steps = (t - prevT) / _tau;
            if (j > 0 && steps > 0)
            {
                f[6] = (float)((x - prevX) / steps);
                f[7] = (float)((y - prevY) / steps);
            }
            prevX = x;
            prevY = y;
            prevT = t;
        }
        return (float)((state.Time + dt - lt) / _tau);
    }

    private void Run(Batch batch, int n)
    {
        using var history = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.History.AsMemory(0, n * _k * FeatureCount), [n, _k, FeatureCount]);
        using var horizon = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.Horizon.AsMemory(0, n), [n, 1]);
        using var mean = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.Mean.AsMemory(0, n * OutputCount), [n, OutputCount]);
        using var logVar = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, batch.LogVar.AsMemory(0, n * OutputCount), [n, OutputCount]);
        _session.Run(null, s_inputNames, [history, horizon], s_outputNames, [mean, logVar]);
        Interlocked.Increment(ref _runs);
    }

    /// <summary>Writes one network prediction (relative to the newest observation) into the state; Kalman if it is not finite.</summary>
    private void Apply(ref MotionState state, double dt, ReadOnlySpan<float> output, ReadOnlySpan<float> logVar)
    {
        if (_blend)
        {
            ApplyBlend(ref state, dt, output, logVar);
            return;
        }
        Box last = state.History.Latest.Box;
        double lw = Math.Max(last.Width, MinSide), lh = Math.Max(last.Height, MinSide);
        Span<double> box =
        [
            last.CenterX + output[0] * lw,
            last.CenterY + output[1] * lh,
            Math.Max(lw * Math.Exp(output[2]), MinSide),
            Math.Max(lh * Math.Exp(output[3]), MinSide),
        ];
        Span<double> variance =
        [
            Math.Exp(logVar[0]) * lw * lw,
            Math.Exp(logVar[1]) * lh * lh,
            Math.Exp(logVar[2]) * box[2] * box[2],
            Math.Exp(logVar[3]) * box[3] * box[3],
        ];
        for (int k = 0; k < OutputCount; k++)
        {
            if (!double.IsFinite(box[k]) || !double.IsFinite(variance[k]))
            {
                _kalman.Predict(ref state, dt);
                return;
            }
        }

        const int N = MotionVector.Length;
        Span<double> mean = state.Mean;
        Span<double> p = state.Covariance;
        p.Clear();
        for (int k = 0; k < OutputCount; k++)
        {
            mean[k + OutputCount] = (box[k] - mean[k]) / dt;
            mean[k] = box[k];
            // The uncertainty arrived with this step, so it is shared with the rate: a measurement that moves the box by d
            // moves the rate by d / dt.
            double v = variance[k];
            p[k * N + k] = v;
            p[k * N + k + OutputCount] = v / dt;
            p[(k + OutputCount) * N + k] = v / dt;
            p[(k + OutputCount) * N + k + OutputCount] = v / (dt * dt);
        }
        state.Time += dt;
    }

    /// <summary>
    /// The uncertainty-gated blend (<see cref="OnnxMotionModelOptions.Blend"/>): the Kalman filter predicts the state; each
    /// coordinate then moves towards the network's box by <c>w = v_k / (v_k + v_n)</c>, its rate by the same weight
    /// towards the network's rate over the step, and the Kalman covariance gains the spread between the two
    /// (<c>w (1 - w) d^2</c>, the variance of their mixture).
    /// </summary>
    private void ApplyBlend(ref MotionState state, double dt, ReadOnlySpan<float> output, ReadOnlySpan<float> logVar)
    {
        Box last = state.History.Latest.Box;
        double lw = Math.Max(last.Width, MinSide), lh = Math.Max(last.Height, MinSide);
        Span<double> before = stackalloc double[OutputCount];
        for (int k = 0; k < OutputCount; k++) before[k] = state.Mean[k];
        _kalman.Predict(ref state, dt);
        double nw = Math.Max(lw * Math.Exp(output[2]), MinSide), nh = Math.Max(lh * Math.Exp(output[3]), MinSide);
        Span<double> box = [last.CenterX + output[0] * lw, last.CenterY + output[1] * lh, nw, nh];
        Span<double> variance =
        [
            Math.Exp(logVar[0]) * lw * lw,
            Math.Exp(logVar[1]) * lh * lh,
            Math.Exp(logVar[2]) * nw * nw,
            Math.Exp(logVar[3]) * nh * nh,
        ];
        for (int k = 0; k < OutputCount; k++)
            if (!double.IsFinite(box[k]) || !(variance[k] > 0) || !double.IsFinite(variance[k])) return; // the Kalman prediction stands

        const int N = MotionVector.Length;
        Span<double> mean = state.Mean;
        Span<double> p = state.Covariance;
        for (int k = 0; k < OutputCount; k++)
        {
            double vk = p[k * N + k];
            double w = vk > 0 && double.IsFinite(vk) ? vk / (vk + variance[k]) : 0;
            double d = box[k] - mean[k];
            mean[k] += w * d;
            mean[k + OutputCount] += w * ((box[k] - before[k]) / dt - mean[k + OutputCount]);
            p[k * N + k] += w * (1 - w) * d * d;
        }
        mean[2] = Math.Max(mean[2], MinSide);
        mean[3] = Math.Max(mean[3], MinSide);
    }

    private Batch Rent(int rows)
    {
        if (!_batches.TryTake(out var batch)) batch = new Batch();
        batch.Ensure(rows, _k * FeatureCount);
        return batch;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    /// <summary>Releases the session; later calls throw <see cref="ObjectDisposedException"/>. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _session.Dispose();
    }

    /// <summary>Input and output buffers for one batch, reused across calls (one per concurrent caller).</summary>
    private sealed class Batch
    {
        public float[] History = [];
        public float[] Horizon = [];
        public float[] Mean = [];
        public float[] LogVar = [];
        public int[] Rows = [];

        public void Ensure(int rows, int stride)
        {
            if (Rows.Length >= rows) return;
            int size = Math.Max(rows, 2 * Rows.Length);
            History = new float[size * stride];
            Horizon = new float[size];
            Mean = new float[size * OutputCount];
            LogVar = new float[size * OutputCount];
            Rows = new int[size];
        }
    }
}
