using StreamVision.Core;

namespace StreamVision.Inference.Tests;

/// <summary>
/// The tiny ONNX models of <c>models/make_models.py</c>, built once per test run into a temp folder, and frames that
/// drive them. Every model derives s = red / 255 from the centre of the image, so a one-colour frame with red = 51 k
/// gives s = 0.2 k and known outputs (see the script).
/// </summary>
internal static class TestModels
{
    private static readonly Lazy<string> s_dir = new(() =>
    {
        var dir = TestEnvironment.NewTempDir("svmodels");
        var script = Path.Combine(AppContext.BaseDirectory, "models", "make_models.py");
        // Debian's python3-onnx lives in the system interpreter, not in whatever python3 comes first on PATH.
        TestEnvironment.Run("/usr/bin/python3", $"\"{script}\" \"{dir}\"");
        return dir;
    });

    public static string YoloV8 => Get("yolov8.onnx");
    public static string YoloV8Batch1 => Get("yolov8_batch1.onnx");
    public static string YoloV5 => Get("yolov5.onnx");
    /// <summary>YoloV8 plus rows with an infinite score, an infinite width and a NaN centre (rows 5..7).</summary>
    public static string YoloV8NonFinite => Get("yolov8_nonfinite.onnx");
    public static string Ssd => Get("ssd.onnx");
    public static string TwoInputs => Get("two_inputs.onnx");
    public static string Uint8Input => Get("uint8_input.onnx");
    public static string UnknownOutputs => Get("unknown_outputs.onnx");

    public static string Get(string name) => Path.Combine(s_dir.Value, name);

    private static readonly Lazy<string> s_enhanceDir = new(() =>
    {
        var dir = TestEnvironment.NewTempDir("svenhance");
        TestEnvironment.Run("/usr/bin/python3", $"\"{Path.Combine(AppContext.BaseDirectory, "models", "make_enhance_models.py")}\" \"{dir}\"");
        return dir;
    });

    /// <summary>An image-to-image model of <c>models/make_enhance_models.py</c> (enhance_gain2.onnx, ...).</summary>
    public static string Enhance(string name) => Path.Combine(s_enhanceDir.Value, name);

    /// <summary>A frame of one BGR colour.</summary>
    public static Frame Uniform(int width, int height, byte red, byte green = 0, byte blue = 0)
    {
        var f = Frame.CreateUnpooled(width, height);
        for (int y = 0; y < height; y++)
        {
            var row = f.GetRowSpan(y);
            for (int x = 0; x < width; x++)
            {
                row[3 * x] = blue;
                row[3 * x + 1] = green;
                row[3 * x + 2] = red;
            }
        }
        return f;
    }

    /// <summary>A 320x180 frame for which the models see s = 0.2 <paramref name="k"/> (k = 0..5).</summary>
    public static Frame ForS(int k) => Uniform(320, 180, (byte)(51 * k), 30, 200);
}

/// <summary>One expected detection in frame pixels.</summary>
internal readonly record struct Expect(float X1, float Y1, float X2, float Y2, float Score, int Class)
{
    /// <summary>Asserts <paramref name="actual"/> holds exactly these rows, in this order (best score first).</summary>
    public static void Equal(IReadOnlyList<Expect> expected, Detections actual, float tolerance = 1e-3f)
    {
        var rows = string.Join("; ", Enumerable.Range(0, actual.Count).Select(i => $"{actual.Boxes[i]} {actual.Scores[i]:0.####} c{actual.ClassIds[i]}"));
        Assert.True(expected.Count == actual.Count, $"expected {expected.Count} detections, got {actual.Count}: {rows}");
        for (int i = 0; i < expected.Count; i++)
        {
            var e = expected[i];
            var b = actual.Boxes[i];
            Assert.True(Math.Abs(b.X1 - e.X1) <= tolerance && Math.Abs(b.Y1 - e.Y1) <= tolerance &&
                        Math.Abs(b.X2 - e.X2) <= tolerance && Math.Abs(b.Y2 - e.Y2) <= tolerance,
                $"row {i}: expected [{e.X1},{e.Y1},{e.X2},{e.Y2}], got [{b.X1},{b.Y1},{b.X2},{b.Y2}] ({rows})");
            Assert.True(Math.Abs(actual.Scores[i] - e.Score) <= 1e-5f, $"row {i}: expected score {e.Score}, got {actual.Scores[i]} ({rows})");
            Assert.Equal(e.Class, actual.ClassIds[i]);
            Assert.Equal(i, actual.SourceIndex[i]);
        }
    }

    /// <summary>
    /// What both YOLO models give on a 320x180 frame (letterbox: frame x = 5 x, frame y = 5 (y - 14)) at s, with the
    /// default thresholds (confidence 0.5, IoU 0.45): row 0 (person 0.9), row 3 (car 0.35 + 0.5 s, when at least 0.5),
    /// row 2 (car 0.7; suppressed by row 0 when NMS ignores classes). Row 1 is always suppressed, row 4 under threshold.
    /// </summary>
    public static List<Expect> Yolo(int k, bool agnostic = false, IReadOnlySet<int>? allow = null, int max = 300)
    {
        float s = 0.2f * k;
        var rows = new List<Expect>();
        var person = new Expect(60 + 100 * s, 75, 100 + 100 * s, 105, 0.9f, 0);
        var carApart = new Expect(235, 40 + 50 * s, 265, 60 + 50 * s, 0.35f + 0.5f * s, 1);
        var carOverlapping = new Expect(60 + 100 * s, 80, 100 + 100 * s, 110, 0.7f, 1);
        bool personKept = allow is null || allow.Contains(0);
        if (personKept) rows.Add(person);
        if (carApart.Score >= 0.5f && (allow is null || allow.Contains(1))) rows.Add(carApart);
        if ((allow is null || allow.Contains(1)) && !(agnostic && personKept)) rows.Add(carOverlapping);
        return rows.OrderByDescending(r => r.Score).Take(max).ToList();
    }

    /// <summary>
    /// What the SSD model gives on a 320x180 frame (stretch: frame x = 5 x, frame y = 2.8125 y): box 0 (label 3, 0.9)
    /// and box 1 (label 1, 0.3 + 0.5 s, when at least 0.5).
    /// </summary>
    public static List<Expect> Ssd(int k)
    {
        float s = 0.2f * k;
        var rows = new List<Expect> { new(40 + 100 * s, 45, 120 + 100 * s, 90, 0.9f, 3) };
        if (0.3f + 0.5f * s >= 0.5f) rows.Add(new(200, 112.5f, 280, 157.5f, 0.3f + 0.5f * s, 1));
        return rows;
    }
}
