using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace StreamVision.Tracking.Onnx;

/// <summary>
/// The one loader of the small CPU models a stage keeps beside the detector: the learned motion model (here, in Tracking),
/// the enhancement and camera-tamper models (Inference, which references Tracking: this is the lowest project that runs
/// ONNX models, so the loader lives here). Each caller passes its own exception type, so its errors keep naming the stage.
/// </summary>
internal static class SmallModelLoader
{
    /// <summary>Builds a stage's exception: (model path, what is wrong, cause or null).</summary>
    internal delegate Exception ErrorFactory(string path, string message, Exception? inner);

    /// <summary>
    /// Opens <paramref name="path"/> in a CPU session: sequential, <paramref name="threads"/> intra-op threads (0 = ONNX
    /// Runtime's choice), one inter-op thread, worker spinning off (busy-waiting threads steal the cores decoding and
    /// encoding need), full graph optimisation, errors-only logging. <paramref name="check"/> reads the loaded session
    /// into the stage's model; when it throws, the session is disposed and the exception passes through. Throws
    /// <paramref name="error"/>'s exception when the ONNX Runtime native library cannot be loaded or it cannot load the file.
    /// </summary>
    internal static T Open<T>(string path, int threads, Func<InferenceSession, T> check, ErrorFactory error)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(error);
        InferenceSession session;
        try
        {
            using var so = new SessionOptions
            {
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
                LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                InterOpNumThreads = 1,
            };
            if (threads > 0) so.IntraOpNumThreads = threads;
            // ONNX Runtime's session config keys for worker-thread spinning (intra-op and inter-op pools).
            so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
            so.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
            session = new CountedInferenceSession(path, so);
        }
        catch (OnnxRuntimeException ex)
        {
            throw error(path, $"ONNX Runtime cannot load it: {ex.Message.Split('\n')[0]}", ex);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException or BadImageFormatException)
        {
            throw error(path, $"ONNX Runtime native library could not be loaded ({ex.GetBaseException().Message}); run ./streamvision setup", ex);
        }
        try
        {
            return check(session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>A model's inputs or outputs as error messages name them: <c>name Float [1,3,?,?]</c> (? = any size).</summary>
    internal static string DescribeNodes(IReadOnlyDictionary<string, NodeMetadata> nodes) => string.Join(", ", nodes.Select(kv =>
        $"{kv.Key} {kv.Value.ElementDataType} [{string.Join(",", kv.Value.Dimensions.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}]"));
}
