using StreamVision.Core;
using StreamVision.Imaging;

namespace StreamVision.Inference;

/// <summary>
/// Detection without a model, for fixed cameras: background subtraction (OpenCV MOG2) finds moving blobs, each blob a
/// detection of class "motion" with score 1 (or, for a box the subtractor predicted
/// from memory rather than saw, <see cref="BackgroundSubtractorOptions.PredictedScore"/>). Keeps one background model per stream (by <see cref="Frame.StreamId"/>),
/// bounded by <paramref name="maxStreams"/>; <see cref="ForgetStream"/> drops one when its stream ends.
/// </summary>
public sealed class MotionDetector(BackgroundSubtractorOptions? options = null, int maxStreams = 256) : IDetector
{
    private readonly Dictionary<string, BackgroundSubtractor> _models = new(StringComparer.Ordinal);
    private readonly BackgroundSubtractorOptions _options = options ?? new BackgroundSubtractorOptions();

    public string Name => "motion";
    public IReadOnlyList<string> ClassNames { get; } = ["motion"];
    public int MaxBatch => 16;
    public int Streams
    {
        get { lock (_models) return _models.Count; }
    }

    public Detections[] Detect(IReadOnlyList<Frame> frames)
    {
        var result = new Detections[frames.Count];
        for (int i = 0; i < frames.Count; i++)
        {
            var f = frames[i];
            BackgroundSubtractor? model;
            lock (_models)
            {
                if (!_models.TryGetValue(f.StreamId, out model))
                {
                    if (_models.Count >= maxStreams) throw new InvalidOperationException($"motion detector holds {maxStreams} streams already");
                    model = new BackgroundSubtractor(_options);
                    _models[f.StreamId] = model;
                }
            }
            Box[] boxes;
            float[] scores;
            lock (model)
            {
                boxes = model.Apply(f);
                scores = model.LastScores;
            }
            result[i] = boxes.Length == 0 ? Detections.Empty : new Detections(boxes, scores, new int[boxes.Length]);
        }
        return result;
    }

    /// <summary>Frees a stream's background model.</summary>
    public void ForgetStream(string streamId)
    {
        BackgroundSubtractor? m;
        lock (_models) _models.Remove(streamId, out m);
        if (m is not null) lock (m) m.Dispose();
    }

    public void Dispose()
    {
        lock (_models)
        {
            foreach (var m in _models.Values) m.Dispose();
            _models.Clear();
        }
    }
}
