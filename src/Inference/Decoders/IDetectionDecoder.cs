namespace StreamVision.Inference.Decoders;

/// <summary>One output of a model run, as floats for the whole batch (integer outputs are converted).</summary>
public sealed class OutputTensor
{
    public OutputTensor(string name, int[] shape, float[] data)
    {
        Name = name;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }
    /// <summary>Shape of this run's output (batch first when the model has a batch dimension).</summary>
    public int[] Shape { get; internal set; }
    /// <summary>Values; may be longer than the shape's product (buffers are reused).</summary>
    public float[] Data { get; internal set; }

    public int Rank => Shape.Length;
    public int Length
    {
        get
        {
            int n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }
}

/// <summary>
/// Turns a model family's raw outputs into candidate detections (before NMS) in model-input pixels.
/// Implement this to support another model family; the detector does mapping to frame pixels, thresholds and NMS.
/// </summary>
public interface IDetectionDecoder
{
    /// <summary>Family name (blazeface, yolov8, yolov5, ssd, ...).</summary>
    string Family { get; }

    /// <summary>Keypoints per detection this family gives (0 when none).</summary>
    int KeypointsPerBox { get; }

    /// <summary>Adds batch item <paramref name="batchIndex"/>'s candidates with score at least <paramref name="minScore"/>.</summary>
    void Decode(IReadOnlyList<OutputTensor> outputs, int batchIndex, float minScore, CandidateBuffer candidates);
}
