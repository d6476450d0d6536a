#!/usr/bin/python3
"""Measures models/colour-classifier.onnx in the pipeline, on clips it never saw: the card's second table.

    /usr/bin/python3 tools/train-classifier/evaluate.py [--model models/colour-classifier.onnx] [--work DIR]

For each colour class, FFmpeg's lavfi draws clips of three boxes of named shades of that colour (sizes 64x48, 48x36,
32x24) sliding over a plain background of another colour (two backgrounds per class, chosen for contrast). Each clip
is H.264-encoded (yuv420p, so colours go through chroma subsampling and compression like a camera's), then
`streamvision annotate --detections DET --classifier MODEL --events E` runs the real pipeline: decode, the drawn boxes
replayed as detections with a detector's error (each side moved by up to 10 % of the box's size, seeded), the tracker,
the classifier on the crops (defaults: a track's first confirmed frame, then every 30 frames). Every classification
(`track_classified` events: the first answer and each change) and every track's final answer (the `attributes` of its `track_ended` event) is compared with the clip's
colour class. None of these shades or backgrounds is drawn by the training renderer (train.py), which paints random
colours with texture and noise. (The motion detector is no judge here: on a plain moving box it reports only the
leading and trailing edge strips, and a trailing strip shows the background.)
Run from the repository root after a build.
"""
import argparse
import colorsys
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict

CLASSES = ["black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple"]
SHADES = {
    "black": ["0x101010", "0x1c1c28", "0x2a2420"],
    "white": ["0xffffff", "0xf0f0ea", "0xe6ecf2"],
    "grey": ["0x808080", "0x6e7074", "0xa0a0a0"],
    "red": ["0xd01010", "0xb22222", "0xff3030"],
    "orange": ["0xff8c00", "0xff7f00", "0xe67e22"],
    "yellow": ["0xffd700", "0xffff00", "0xf1c40f"],
    "green": ["0x228b22", "0x2ecc71", "0x00a000"],
    "blue": ["0x1e40ff", "0x0000cd", "0x3060e0"],
    "purple": ["0x800080", "0x8e44ad", "0x9932cc"],
}
BACKGROUNDS = ["0x303030", "0xc8c8c8", "0x2f4f2f", "0xd2b48c", "0x283c5a"]
SIZES = [(64, 48), (48, 36), (32, 24)]


def rgb(hex_colour):
    v = int(hex_colour, 16)
    return (v >> 16) / 255, ((v >> 8) & 255) / 255, (v & 255) / 255


def distance(a, b):
    return sum((x - y) ** 2 for x, y in zip(rgb(a), rgb(b))) ** 0.5


def clip(path, det_path, shades, background, rng, frames=60):
    """Three boxes of the given shades in three rows, moving right at 2, 3 and 4 pixels a frame; their boxes, jittered
    like a detector's, as a MOTChallenge detection file (frame n+1 for decoded frame n)."""
    inputs = [f"color=c={background}:s=320x240:r=25:d={frames / 25}[bg]"]
    chain, last, rows = [], "bg", []
    for i, (shade, (w, h)) in enumerate(zip(shades, SIZES)):
        inputs.append(f"color=c={shade}:s={w}x{h}:r=25:d={frames / 25}[o{i}]")
        y = 12 + 80 * i
        chain.append(f"[{last}][o{i}]overlay=x='10+{2 + i}*n':y={y}[v{i}]")
        last = f"v{i}"
        for n in range(frames):
            x0, y0, x1, y1 = 10 + (2 + i) * n, y, 10 + (2 + i) * n + w, y + h
            x0, x1 = x0 + rng.uniform(-0.1, 0.1) * w, x1 + rng.uniform(-0.1, 0.1) * w
            y0, y1 = y0 + rng.uniform(-0.1, 0.1) * h, y1 + rng.uniform(-0.1, 0.1) * h
            rows.append((n + 1, x0, y0, x1 - x0, y1 - y0))
    graph = ";".join(inputs + chain)
    graph = graph[: graph.rfind("[")]  # the last output is the graph's
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", graph, "-frames:v", str(frames),
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path], check=True)
    with open(det_path, "w") as f:
        for r in sorted(rows):
            f.write(f"{r[0]},-1,{r[1]:.1f},{r[2]:.1f},{r[3]:.1f},{r[4]:.1f},0.95,-1,-1,-1\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="models/colour-classifier.onnx")
    ap.add_argument("--app", default="src/App/bin/Release/net10.0/streamvision.dll")
    ap.add_argument("--work", default=None)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    work = a.work or tempfile.mkdtemp(prefix="colour-eval-")
    os.makedirs(work, exist_ok=True)
    confusion = defaultdict(Counter)  # final answer per track
    answers = defaultdict(Counter)    # every track_classified event
    scores = []
    clips = 0
    rng = random.Random(a.seed)
    for truth in CLASSES:
        bgs = sorted(BACKGROUNDS, key=lambda b: -min(distance(b, s) for s in SHADES[truth]))[:2]
        for bg in bgs:
            name = f"{truth}-on-{bg[2:]}"
            video = os.path.join(work, name + ".mp4")
            events = os.path.join(work, name + ".jsonl")
            det = os.path.join(work, name + ".det.txt")
            clip(video, det, SHADES[truth], bg, rng)
            subprocess.run(["dotnet", a.app, "annotate", video, "-o", os.path.join(work, name + ".out.mp4"), "--detections", det,
                            "--classifier", a.model, "--events", events, "--preset", "ultrafast"],
                           check=True, stdout=subprocess.DEVNULL)
            clips += 1
            ended = 0
            with open(events) as f:
                for line in f:
                    e = json.loads(line)
                    if e["type"] == "track_classified":
                        answers[truth][e["attributes"]["label"]] += 1
                    if e["type"] == "track_ended" and "attributes" in e:
                        confusion[truth][e["attributes"]["label"]] += 1
                        scores.append(e["attributes"]["score"])
                        ended += 1
            print(f"{name}: {ended} tracks; {truth} clips so far: {dict(confusion[truth])}", flush=True)
    total = sum(sum(c.values()) for c in confusion.values())
    right = sum(confusion[c][c] for c in CLASSES)
    asked = sum(sum(c.values()) for c in answers.values())
    answered_right = sum(answers[c][c] for c in CLASSES)
    print("\n| class | tracks | final answer right | track_classified events right | wrong answers |")
    print("|---|---|---|---|---|")
    for c in CLASSES:
        n = sum(confusion[c].values())
        wrong = ", ".join(f"{k} {v}" for k, v in (confusion[c] + answers[c]).most_common() if k != c)
        print(f"| {c} | {n} | {confusion[c][c]} | {answers[c][c]} of {sum(answers[c].values())} | {wrong or '-'} |")
    print(f"\nfinal answers right {right}/{total} = {right / max(1, total):.3f}; track_classified events right "
          f"{answered_right}/{asked} = {answered_right / max(1, asked):.3f}; {clips} clips; "
          f"median final score {sorted(scores)[len(scores) // 2] if scores else 0:.3f}")
    return 0 if total > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
