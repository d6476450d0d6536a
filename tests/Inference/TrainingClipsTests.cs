namespace StreamVision.Inference.Tests;

/// <summary>
/// The enhancement and camera-tamper training scripts (tools/train-enhance, tools/train-tamper) render their lavfi clips
/// through one shared module, tools/trainlib.py: run here with Debian's Python and PyTorch, on real ffmpeg renders.
/// </summary>
public class TrainingClipsTests
{
    private const string Check = """
import importlib.util, os, sys
import numpy as np
tools, cache = sys.argv[1], sys.argv[2]
def load(name):
    spec = importlib.util.spec_from_file_location(name.replace("-", "_"), os.path.join(tools, name, "train.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
enhance, tamper = load("train-enhance"), load("train-tamper")
import trainlib
assert enhance.trainlib is trainlib and tamper.trainlib is trainlib, "both scripts use tools/trainlib.py"
rgb = enhance.render("testsrc2=s=320x180:r=2", cache)
grey = tamper.render_lavfi("testsrc2=s=320x180:r=5", cache)
print("enhance", rgb.dtype, rgb.shape)
print("tamper", grey.dtype, grey.shape)
files = sorted(f for f in os.listdir(cache))
print("cached", len(files), all(f.startswith("lavfi-") and f.endswith(".npy") for f in files))
# Read back from the cache: the same frames, no new file.
again = tamper.render_lavfi("testsrc2=s=320x180:r=5", cache)
print("same", bool(np.array_equal(grey, again)), len(os.listdir(cache)))
# The tamper clip is the BT.601 luma of the shared RGB render, scaled with area averaging.
rgb128 = trainlib.render_lavfi("testsrc2=s=320x180:r=5", tamper.CLIP_SECONDS, tamper.CANVAS, tamper.CANVAS, cache, scale_flags="area")
print("luma", bool(np.array_equal(grey, np.clip(np.rint(tamper.grey(rgb128.astype(np.float32))), 0, 255).astype(np.uint8))))
try:
    trainlib.render_lavfi("nosuchsource=s=64x64", 1, 64, 64, cache)
    print("bad source rendered")
except Exception as e:
    print("bad source refused", type(e).__name__)
""";

    [Fact]
    public void BothScriptsRenderTheirLavfiClipsThroughTheSharedModule()
    {
        string dir = TestEnvironment.NewTempDir("svtrainlib");
        string script = Path.Combine(dir, "check.py");
        string cache = Path.Combine(dir, "cache");
        File.WriteAllText(script, Check);
        string tools = Path.Combine(TestEnvironment.RepoRoot, "tools");
        // -B: no __pycache__ folders written into tools/.
        var (stdout, _) = TestEnvironment.Run("/usr/bin/python3", $"-B \"{script}\" \"{tools}\" \"{cache}\"");
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(
        [
            "enhance uint8 (60, 180, 320, 3)", // 30 s at 2 frames/s, 320x180 RGB
            "tamper uint8 (200, 128, 128)",    // 40 s at 5 frames/s, 128x128 grey
            "cached 2 True",
            "same True 2",
            "luma True",
            "bad source refused CalledProcessError",
        ], lines);
    }
}
