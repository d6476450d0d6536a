using StreamVision.Core;

namespace StreamVision.Inference.Tamper;

/// <summary>
/// The camera-tamper stage of a stream: every <see cref="IntervalSeconds"/> of stream time a small CNN embeds the frame
/// (64x64 grey) and a GRU over the last embeddings classifies the camera as normal, covered, defocused, moved or frozen;
/// a state that wins <see cref="ConfirmSamples"/> samples in a row raises <c>camera_tampered</c>, normal winning
/// <see cref="RestoreSamples"/> in a row raises <c>camera_restored</c>.
/// </summary>
public sealed record CameraTamperOptions
{
    /// <summary>Our model, trained here (models/README.md).</summary>
    public const string DefaultModel = "models/tamper-cnn-gru.onnx";

    /// <summary>Run the stage on this stream. Default false.</summary>
    public bool Enabled { get; init; }
    /// <summary>The ONNX tamper model (inputs <c>frames</c>, <c>history</c>; outputs <c>embedding</c>, <c>probs</c>; see models/README.md). Default models/tamper-cnn-gru.onnx.</summary>
    public string Model { get; init; } = DefaultModel;
    /// <summary>
    /// Seconds of stream time between two samples; 0 (default) = the model's own (0.2 s for ours, what it was trained at:
    /// other values change what "moved" and "frozen" look like to it).
    /// </summary>
    [OptionRange(0, 10)]
    public double IntervalSeconds { get; init; }
    /// <summary>Probability a tampered state needs to count for a sample (higher: fewer false alarms, later or missed events). Default 0.6.</summary>
    [OptionRange(0.2, 1)]
    public double Threshold { get; init; } = 0.6;
    /// <summary>Samples in a row a tampered state must win before <c>camera_tampered</c> (more: fewer false alarms, later events). Default 2.</summary>
    [OptionRange(1, 100, Unit = "samples")]
    public int ConfirmSamples { get; init; } = 2;
    /// <summary>Samples in a row "normal" must win before <c>camera_restored</c> (more: fewer flaps, later restore). Default 3.</summary>
    [OptionRange(1, 100, Unit = "samples")]
    public int RestoreSamples { get; init; } = 3;
    /// <summary>
    /// Tampered states to report, of covered, defocused, moved, frozen (e.g. leave out moved for a camera that pans on
    /// purpose); the others count as normal. Empty (default) = all.
    /// </summary>
    public IReadOnlyList<string> States { get; init; } = [];

    /// <summary>Throws <see cref="OptionsException"/> naming the first bad key under <paramref name="path"/>.</summary>
    public void Validate(string path = "tamper")
    {
        if (string.IsNullOrWhiteSpace(Model)) throw new OptionsException($"{path}.model", "must be the path of an ONNX tamper model, e.g. " + DefaultModel);
        if (IntervalSeconds is < 0 or > 10 || double.IsNaN(IntervalSeconds)) throw new OptionsException($"{path}.interval_seconds", $"must be 0..10, got {IntervalSeconds}");
        if (Threshold is < 0.2 or > 1 || double.IsNaN(Threshold)) throw new OptionsException($"{path}.threshold", $"must be 0.2..1, got {Threshold}");
        if (ConfirmSamples is < 1 or > 100) throw new OptionsException($"{path}.confirm_samples", $"must be 1..100, got {ConfirmSamples}");
        if (RestoreSamples is < 1 or > 100) throw new OptionsException($"{path}.restore_samples", $"must be 1..100, got {RestoreSamples}");
        foreach (var s in States)
            if (!CameraTamperModel.TamperedStates.Contains(s))
                throw new OptionsException($"{path}.states", $"unknown state '{s}': must be some of {string.Join(", ", CameraTamperModel.TamperedStates)}");
    }
}
