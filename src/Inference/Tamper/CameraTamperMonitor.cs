using StreamVision.Core;

namespace StreamVision.Inference.Tamper;

/// <summary>
/// One stream's camera-tamper state: samples a frame every <see cref="Interval"/> of stream time, shrinks it to the
/// model's grey picture, runs the shared <see cref="CameraTamperModel"/> over it and the stream's last embeddings, and
/// turns the probabilities into a state with hysteresis. Called on the stream's loop (not thread-safe); frames are
/// borrowed for the call (read once, never kept).
/// </summary>
public sealed class CameraTamperMonitor
{
    public const string Normal = "normal";

    private readonly CameraTamperModel _model;
    private readonly CameraTamperOptions _options;
    private readonly int _size, _normal;
    private readonly bool[] _reported;
    private readonly float[] _frames, _history, _embedding, _probs;
    private readonly double[] _sum;
    private readonly int[] _count;
    private int[] _column = [];
    private int _columnWidth = -1;
    private int _filled;          // embeddings in the history (up to HistoryLength)
    private bool _hasPrevious;
    private TimeSpan _lastSample = TimeSpan.MinValue, _lastPts = TimeSpan.MinValue;
    private int _pending = -1, _pendingRun, _normalRun;

    public CameraTamperMonitor(CameraTamperModel model, CameraTamperOptions? options = null)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        _options = options ?? new CameraTamperOptions();
        _options.Validate();
        _size = model.Size;
        _normal = model.NormalIndex;
        _reported = model.Classes.Select(c => c != Normal && (_options.States.Count == 0 || _options.States.Contains(c))).ToArray();
        _frames = new float[2 * _size * _size];
        _history = new float[model.HistoryLength * model.EmbeddingLength];
        _embedding = new float[model.EmbeddingLength];
        _probs = new float[model.Classes.Count];
        _sum = new double[_size * _size];
        _count = new int[_size * _size];
        Interval = TimeSpan.FromSeconds(_options.IntervalSeconds > 0 ? _options.IntervalSeconds : model.SampleSeconds);
    }

    /// <summary>Stream time between samples.</summary>
    public TimeSpan Interval { get; }
    /// <summary>The camera's state: <c>normal</c> or a tampered one (covered, defocused, moved, frozen).</summary>
    public string State { get; private set; } = Normal;
    /// <summary>Probability of <see cref="State"/> at the sample that set it (or the latest sample while normal).</summary>
    public float Score { get; private set; }
    /// <summary>Samples the model has classified.</summary>
    public long Samples { get; private set; }
    /// <summary>Class probabilities of the latest sample, in the order of the model's classes (zeros before the first).</summary>
    public IReadOnlyList<float> LatestProbabilities => _probs;
    public IReadOnlyList<string> Classes => _model.Classes;

    /// <summary>
    /// Looks at <paramref name="frame"/> if a sample is due: returns <c>camera_tampered</c> when a tampered state is
    /// confirmed (or another one replaces it), <c>camera_restored</c> when normal is confirmed again; otherwise no event.
    /// </summary>
    /// <returns>True when the frame was sampled (the model ran).</returns>
    public bool Process(Frame frame, out AnalyticsEvent? change)
    {
        change = null;
        // A looped file or a restarted camera jumps back in time: the history no longer leads up to this frame.
        if (frame.Pts < _lastPts) ResetHistory();
        _lastPts = frame.Pts;
        // 1 ms of slack: frame times are rounded to the stream's time base.
        if (_lastSample != TimeSpan.MinValue && frame.Pts - _lastSample < Interval - TimeSpan.FromMilliseconds(1)) return false;
        _lastSample = frame.Pts;
        int plane = _size * _size;
        // The previous picture moves to the first plane; the current one is drawn into the second.
        if (_hasPrevious) Array.Copy(_frames, plane, _frames, 0, plane);
        Shrink(frame, _frames.AsSpan(plane, plane));
        if (!_hasPrevious)
        {
            _hasPrevious = true;
            return false;
        }
        _model.Run(_frames, _history, _embedding, _probs);
        Samples++;
        PushEmbedding();
        change = Decide(frame);
        return true;
    }

    private AnalyticsEvent? Decide(Frame frame)
    {
        int best = -1;
        for (int i = 0; i < _probs.Length; i++)
            if (_reported[i] && (best < 0 || _probs[i] > _probs[best])) best = i;
        // A tampered state counts when it is the most likely class overall and clears the threshold.
        bool tampered = best >= 0 && _probs[best] >= _options.Threshold && _probs.AsSpan().IndexOf(_probs.Max()) == best;
        if (tampered)
        {
            _pendingRun = best == _pending ? _pendingRun + 1 : 1;
            _pending = best;
            _normalRun = 0;
            string name = _model.Classes[best];
            if (_pendingRun >= _options.ConfirmSamples && name != State)
            {
                State = name;
                Score = _probs[best];
                return Event(frame, EventTypes.CameraTampered, name, Score);
            }
            return null;
        }
        _pending = -1;
        _pendingRun = 0;
        _normalRun++;
        if (State == Normal)
        {
            Score = _probs[_normal];
            return null;
        }
        if (_normalRun < _options.RestoreSamples) return null;
        string left = State;
        State = Normal;
        Score = _probs[_normal];
        return Event(frame, EventTypes.CameraRestored, left, Score);
    }

    private static AnalyticsEvent Event(Frame f, string type, string state, float score) => new()
    {
        Type = type, StreamId = f.StreamId, Time = f.CaptureTime, Pts = f.Pts, FrameSequence = f.Sequence, ClassName = state, Score = score,
    };

    private void PushEmbedding()
    {
        int e = _embedding.Length, h = _model.HistoryLength;
        // Oldest first, newest last; fewer than h rows stay zero on the left (the model skips zero rows).
        Array.Copy(_history, e, _history, 0, (h - 1) * e);
        Array.Copy(_embedding, 0, _history, (h - 1) * e, e);
        _filled = Math.Min(h, _filled + 1);
    }

    private void ResetHistory()
    {
        Array.Clear(_history);
        _filled = 0;
        _hasPrevious = false;
        _lastSample = TimeSpan.MinValue;
        _pending = -1;
        _pendingRun = 0;
        _normalRun = 0;
    }

    /// <summary>Area average of the frame's grey (BT.601 luma, full range) into <paramref name="dst"/> (size x size, 0..255).</summary>
    private void Shrink(Frame frame, Span<float> dst)
    {
        int w = frame.Width, h = frame.Height, s = _size;
        if (_columnWidth != w)
        {
            _column = new int[w];
            for (int x = 0; x < w; x++) _column[x] = (int)((long)x * s / w);
            _columnWidth = w;
        }
        Array.Clear(_sum);
        Array.Clear(_count);
        var data = frame.Data;
        for (int y = 0; y < h; y++)
        {
            var row = data.Slice(y * frame.Stride, w * 3);
            int ty = (int)((long)y * s / h) * s;
            for (int x = 0, i = 0; x < w; x++, i += 3)
            {
                int cell = ty + _column[x];
                _sum[cell] += 0.114 * row[i] + 0.587 * row[i + 1] + 0.299 * row[i + 2];
                _count[cell]++;
            }
        }
        for (int i = 0; i < dst.Length; i++)
        {
            if (_count[i] > 0)
            {
                dst[i] = (float)(_sum[i] / _count[i]);
                continue;
            }
            // A frame smaller than the model's picture leaves cells without a pixel: the nearest one fills them.
            int px = (int)((long)(i % s) * w / s), py = (int)((long)(i / s) * h / s);
            var p = data.Slice(py * frame.Stride + px * 3, 3);
            dst[i] = (float)(0.114 * p[0] + 0.587 * p[1] + 0.299 * p[2]);
        }
    }
}
