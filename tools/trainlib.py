"""What StreamVision's training scripts share (tools/train-enhance, tools/train-tamper): clips rendered by FFmpeg's
lavfi sources (nothing downloaded, nothing we may not ship weights from), cached as .npy, and the end of a run
(the evaluation report, the exported model with its size and hash).

A script imports it with its own folder's parent on sys.path:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import trainlib
"""
import hashlib
import json
import os
import subprocess

import numpy as np


def lavfi_command(spec, seconds, width, height, scale_flags=None):
    """The ffmpeg command that renders `seconds` of the lavfi source `spec` as raw RGB24 frames of width x height."""
    scale = f"scale={width}:{height}" + (f":flags={scale_flags}" if scale_flags else "")
    return ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", spec, "-t", str(seconds),
            "-vf", f"{scale},format=rgb24", "-f", "rawvideo", "-"]


def render_lavfi(spec, seconds, width, height, cache, scale_flags=None):
    """uint8 [frames, height, width, 3] RGB of a lavfi source, rendered once and then read from `cache` (a folder):
    the cache file is named by a hash of the whole ffmpeg command, so another size or length renders anew."""
    cmd = lavfi_command(spec, seconds, width, height, scale_flags)
    key = hashlib.sha256("\0".join(cmd).encode()).hexdigest()[:16]
    os.makedirs(cache, exist_ok=True)
    path = os.path.join(cache, f"lavfi-{key}.npy")
    if os.path.exists(path):
        return np.load(path)
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    clip = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3).copy()
    if len(clip) == 0:
        raise RuntimeError(f"ffmpeg rendered no frames of lavfi source {spec!r}")
    np.save(path, clip)
    return clip


def finish(report, report_path, out_path, export):
    """Prints the evaluation `report` (and writes it as JSON to `report_path` when given); when `out_path` is given,
    `export(out_path)` writes the model and its size and sha256 prefix are printed."""
    print(json.dumps(report, indent=1))
    if report_path:
        with open(report_path, "w") as f:
            json.dump(report, f, indent=1)
    if out_path:
        export(out_path)
        with open(out_path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()[:16]
        print(f"wrote {out_path}: {os.path.getsize(out_path)} bytes, sha256 {digest}")
