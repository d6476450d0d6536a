using System.Diagnostics;
using System.Globalization;
using System.Text;
using StreamVision.Core;

namespace StreamVision.Bench;

/// <summary>
/// The bench's input clips, made with the ffmpeg CLI into the bench's temp folder on first use: 720p and 1080p H.264
/// test patterns (lavfi testsrc2), a 720p clip with faces (the set-up's Megamind sample scaled and padded to 1280x720;
/// testsrc2 when the sample is absent), and MOTChallenge detection files of synthetic moving objects.
/// </summary>
public sealed class BenchInputs
{
    /// <summary>The sample video set-up installs (Debian opencv-doc): 720x528, 270 frames, faces in almost every frame.</summary>
    public const string FacesSample = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";
    public const double Fps = 25;

    private readonly string _dir;
    private readonly bool _quick;
    private readonly Action<string> _progress;
    private readonly Dictionary<string, string> _made = new(StringComparer.Ordinal);
    private readonly object _gate = new();

    public BenchInputs(string dir, bool quick, Action<string> progress)
    {
        _dir = dir;
        _quick = quick;
        _progress = progress;
        Directory.CreateDirectory(dir);
    }

    public string Folder => _dir;

    /// <summary>1280x720 25 fps H.264 test pattern, 12 s (quick: 2 s).</summary>
    public string Pattern720 => Make("testsrc2-720p", () => Pattern(1280, 720, _quick ? 2 : 12));

    /// <summary>1920x1080 25 fps H.264 test pattern, 8 s (quick: 1 s).</summary>
    public string Pattern1080 => Make("testsrc2-1080p", () => Pattern(1920, 1080, _quick ? 1 : 8));

    /// <summary>Whether <see cref="Faces720"/> really has faces (the sample was found).</summary>
    public bool HasFaces => File.Exists(FacesSample);

    /// <summary>1280x720 25 fps H.264 with faces: all 270 frames of the sample (quick: 50).</summary>
    public string Faces720 => Make("faces-720p", () => Faces(_quick ? 50 : 0));

    /// <summary>The first 100 frames of <see cref="Faces720"/> (quick: 25), for runs that read a file many times at once.</summary>
    public string Faces720Short => Make("faces-720p-short", () => Faces(_quick ? 25 : 100));

    /// <summary>
    /// The YOLO-sized workload (issue 15): a network with the published YOLOv8n layer structure and random weights,
    /// Ultralytics output [1, 84, 8400], made by tools/make-yolo-workload/make.py with Debian's PyTorch on first use and
    /// kept in .deps/bench/ (never committed). Throws naming what is missing when torch or the script is absent.
    /// </summary>
    public string YoloWorkload => Make("yolov8n-structure", () =>
    {
        string root = EndToEndBenchmark.RepoRoot()
            ?? throw new InvalidOperationException("the YOLO workload is made by tools/make-yolo-workload/make.py, which is not beside this bench build");
        string path = Path.Combine(root, ".deps", "bench", "yolov8n-structure.onnx");
        string script = Path.Combine(root, "tools", "make-yolo-workload", "make.py");
        if (File.Exists(path) && File.GetLastWriteTimeUtc(path) >= File.GetLastWriteTimeUtc(script)) return path;
        var r = ToolProcess.Run(EndToEndBenchmark.Python, [script, "--out", path]);
        if (r.ExitCode != 0)
            throw new InvalidOperationException(r.Stderr.Contains("No module named 'torch'", StringComparison.Ordinal)
                ? "the YOLO workload needs Debian's PyTorch: run `./streamvision setup --training` (installs python3-torch), then the bench again"
                : $"tools/make-yolo-workload/make.py failed: {r.Stderr.Trim()}");
        return path;
    });

    /// <summary>A MOTChallenge detection file (<c>frame,-1,x,y,w,h,score,-1,-1,-1</c>) of <paramref name="objects"/> moving boxes for frames 1..<paramref name="frames"/>.</summary>
    public string DetectionFile(int frames, int objects) => Make($"det-{frames}x{objects}", () =>
    {
        string path = Path.Combine(_dir, $"det-{frames}x{objects}.txt");
        var scene = new SyntheticScene(objects, 1280, 720, seed: 7);
        var sb = new StringBuilder();
        for (int f = 1; f <= frames; f++)
        {
            var d = scene.Next();
            for (int i = 0; i < d.Count; i++)
            {
                var b = d.Boxes[i];
                sb.Append(CultureInfo.InvariantCulture, $"{f},-1,{b.X1:F1},{b.Y1:F1},{b.Width:F1},{b.Height:F1},{d.Scores[i]:F3},-1,-1,-1\n");
            }
        }
        File.WriteAllText(path, sb.ToString());
        return path;
    });

    /// <summary>
    /// A lavfi graph that plays <paramref name="file"/> in a loop at its own rate, as a camera would (<c>lavfi:</c> source,
    /// live). <paramref name="decoderThreads"/>: the movie source's H.264 decoder threads (0 = FFmpeg picks, one per core).
    /// </summary>
    public static string LiveLoop(string file, int decoderThreads = 0) =>
        // The graph's own syntax: ':' ',' '\' and quotes in the path are escaped (bench paths are temp paths without them).
        $"lavfi:movie={file.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal).Replace(",", "\\,", StringComparison.Ordinal)}:loop=0" +
        (decoderThreads > 0 ? $":dec_threads={decoderThreads.ToString(CultureInfo.InvariantCulture)}" : "") +
        $",setpts=N/({Fps.ToString(CultureInfo.InvariantCulture)}*TB)";

    private string Make(string key, Func<string> make)
    {
        lock (_gate)
        {
            if (_made.TryGetValue(key, out var p)) return p;
            var sw = Stopwatch.StartNew();
            p = make();
            _progress($"input {Path.GetFileName(p)} made in {sw.Elapsed.TotalSeconds:0.0} s");
            _made[key] = p;
            return p;
        }
    }

    private string Pattern(int width, int height, double seconds)
    {
        string path = Path.Combine(_dir, $"testsrc2-{height}p{Fps}-{seconds}s.mp4");
        Ffmpeg($"-f lavfi -i testsrc2=size={width}x{height}:rate={Fps} -t {seconds} -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p \"{path}\"");
        return path;
    }

    private string Faces(int frames)
    {
        if (!HasFaces) return frames is > 0 and <= 100 ? Make("pattern-short", () => Pattern(1280, 720, frames / Fps)) : Pattern720;
        string path = Path.Combine(_dir, $"faces-720p{Fps}-{(frames > 0 ? frames.ToString(CultureInfo.InvariantCulture) : "all")}.mp4");
        string limit = frames > 0 ? $"-frames:v {frames}" : "";
        Ffmpeg($"-i \"{FacesSample}\" -an -vf scale=-2:720,pad=1280:720:(ow-iw)/2:0,fps={Fps} {limit} -c:v libx264 -preset veryfast -g 50 -pix_fmt yuv420p \"{path}\"");
        return path;
    }

    /// <summary>Runs the ffmpeg CLI quietly; throws with its error output when it fails.</summary>
    public static void Ffmpeg(string args)
    {
        var r = ToolProcess.Run("ffmpeg", "-hide_banner -nostdin -loglevel error -y " + args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"ffmpeg {args} failed: {r.Stderr.Trim()}");
    }
}

/// <summary>
/// Synthetic detections of moving objects for the tracker and the replayed detector: boxes 40..120 px moving at
/// constant velocity (bouncing off the edges), scores 0.55..0.95, one in thirty missed per frame, plus a few low-score
/// false positives. Deterministic for a seed.
/// </summary>
public sealed class SyntheticScene
{
    private readonly Random _rng;
    private readonly int _width, _height;
    private readonly float[] _x, _y, _w, _h, _vx, _vy;

    public SyntheticScene(int objects, int width, int height, int seed)
    {
        _rng = new Random(seed);
        _width = width;
        _height = height;
        _x = new float[objects]; _y = new float[objects]; _w = new float[objects]; _h = new float[objects];
        _vx = new float[objects]; _vy = new float[objects];
        for (int i = 0; i < objects; i++)
        {
            _w[i] = 40 + 80 * _rng.NextSingle();
            _h[i] = _w[i] * (0.8f + 0.8f * _rng.NextSingle());
            _x[i] = _rng.NextSingle() * (width - _w[i]);
            _y[i] = _rng.NextSingle() * (height - _h[i]);
            _vx[i] = (_rng.NextSingle() - 0.5f) * 12;
            _vy[i] = (_rng.NextSingle() - 0.5f) * 8;
        }
    }

    public int Objects => _x.Length;

    /// <summary>The next frame's detections.</summary>
    public Detections Next()
    {
        var boxes = new List<Box>(_x.Length + 4);
        var scores = new List<float>(_x.Length + 4);
        for (int i = 0; i < _x.Length; i++)
        {
            _x[i] += _vx[i];
            _y[i] += _vy[i];
            if (_x[i] < 0 || _x[i] + _w[i] > _width) { _vx[i] = -_vx[i]; _x[i] = Math.Clamp(_x[i], 0, _width - _w[i]); }
            if (_y[i] < 0 || _y[i] + _h[i] > _height) { _vy[i] = -_vy[i]; _y[i] = Math.Clamp(_y[i], 0, _height - _h[i]); }
            if (_rng.Next(30) == 0) continue; // missed this frame
            float jx = (_rng.NextSingle() - 0.5f) * 3, jy = (_rng.NextSingle() - 0.5f) * 3;
            boxes.Add(Box.FromXywh(_x[i] + jx, _y[i] + jy, _w[i], _h[i]));
            scores.Add(0.55f + 0.4f * _rng.NextSingle());
        }
        for (int k = 0; k < Math.Max(1, _x.Length / 10); k++)
        {
            if (_rng.Next(3) != 0) continue;
            boxes.Add(Box.FromXywh(_rng.NextSingle() * (_width - 60), _rng.NextSingle() * (_height - 60), 30 + 30 * _rng.NextSingle(), 30 + 30 * _rng.NextSingle()));
            scores.Add(0.15f + 0.3f * _rng.NextSingle());
        }
        return new Detections(boxes.ToArray(), scores.ToArray(), new int[boxes.Count]);
    }
}
