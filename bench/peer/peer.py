#!/usr/bin/python3
"""The peer baseline: what a user writes with Python and OpenCV instead of StreamVision.

cv2.VideoCapture -> letterbox resize -> cv2.dnn on the BlazeFace ONNX model -> the same anchor decoding, confidence
and NMS as StreamVision's BlazeFace decoder -> draw boxes and labels -> cv2.VideoWriter ('avc1', libx264).

    /usr/bin/python3 bench/peer/peer.py IN.avi -o OUT.mp4 --model face_detection_front_128x128_barracuda.onnx \
        [--preset medium] [--crf 23] [--confidence 0.75] [--no-write]

The writer's x264 settings are offered through OPENCV_FFMPEG_WRITER_OPTIONS (preset, crf, GOP of 2 s as StreamVision's
writer), set before the writer opens; OpenCV 4.6 (Debian's python3-opencv) ignores it and encodes with x264's defaults
(preset medium, crf 23, a key frame every 250 frames), which is what such a user gets, so the benchmark runs it at medium. Prints one line: frames, faces, seconds, frames/s. Needs Debian's python3-opencv (set-up
installs it for the benchmarks only).
"""
import argparse
import os
import sys
import time

import numpy as np


def anchors(size, fine, coarse):
    """Anchor centres in input pixels: a fine grid with 2 anchors per cell, then a coarse grid with 6 per cell."""
    out = []
    for count, per_cell in ((fine, 2), (coarse, 6)):
        grid = int(round((count / per_cell) ** 0.5))
        ys, xs = np.mgrid[0:grid, 0:grid]
        cx = np.repeat(((xs.ravel() + 0.5) / grid), per_cell)
        cy = np.repeat(((ys.ravel() + 0.5) / grid), per_cell)
        out.append(np.stack([cx, cy], axis=1))
    return (np.concatenate(out) * size).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("-o", "--output")
    ap.add_argument("--model", required=True)
    ap.add_argument("--confidence", type=float, default=0.75)
    ap.add_argument("--nms-iou", type=float, default=0.45)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--crf", type=int, default=23)
    ap.add_argument("--no-write", action="store_true", help="detect and draw nothing to a file (analytics only)")
    a = ap.parse_args()
    if not a.no_write and not a.output:
        ap.error("-o/--output is required unless --no-write")

    import cv2  # after argument checks: importing OpenCV takes a while

    cap = cv2.VideoCapture(a.input)
    if not cap.isOpened():
        sys.exit(f"peer: cannot open {a.input}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    net = cv2.dnn.readNetFromONNX(a.model)
    size = 128
    names = net.getUnconnectedOutLayersNames()
    writer = None
    if not a.no_write:
        gop = max(1, int(round(2 * fps)))
        os.environ["OPENCV_FFMPEG_WRITER_OPTIONS"] = f"preset;{a.preset}|crf;{a.crf}|g;{gop}"
        writer = cv2.VideoWriter(a.output, cv2.VideoWriter_fourcc(*"avc1"), fps, (w, h))
        if not writer.isOpened():
            sys.exit(f"peer: cannot open a writer for {a.output}")

    # Letterbox into the square input, as StreamVision's preprocessing does.
    s = min(size / w, size / h)
    rw, rh = max(1, round(w * s)), max(1, round(h * s))
    px, py = (size - rw) // 2, (size - rh) // 2
    sx, sy = rw / w, rh / h
    min_logit = np.log(a.confidence / (1 - a.confidence))
    anc = None
    canvas = np.zeros((size, size, 3), np.uint8)
    frames = faces = 0
    t0 = time.perf_counter()
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        canvas[py:py + rh, px:px + rw] = cv2.resize(frame, (rw, rh), interpolation=cv2.INTER_LINEAR)
        blob = (cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB).astype(np.float32) / 127.5 - 1.0)[None]
        net.setInput(blob)
        outs = net.forward(names)
        scores = [o for o in outs if o.shape[-1] == 1]
        regs = [o for o in outs if o.shape[-1] == 16]
        scores.sort(key=lambda o: -o.shape[1])
        regs.sort(key=lambda o: -o.shape[1])
        logits = np.concatenate([o.reshape(-1) for o in scores])
        reg = np.concatenate([o.reshape(-1, 16) for o in regs])
        if anc is None:
            anc = anchors(size, scores[0].shape[1], scores[1].shape[1])
        keep = np.nonzero(logits >= min_logit)[0]
        boxes, confs = [], []
        for i in keep:
            cx, cy = anc[i, 0] + reg[i, 0], anc[i, 1] + reg[i, 1]
            bw, bh = reg[i, 2], reg[i, 3]
            x1 = max(0.0, ((cx - bw / 2) - px) / sx)
            y1 = max(0.0, ((cy - bh / 2) - py) / sy)
            x2 = min(float(w), ((cx + bw / 2) - px) / sx)
            y2 = min(float(h), ((cy + bh / 2) - py) / sy)
            boxes.append([x1, y1, x2 - x1, y2 - y1])
            confs.append(float(1 / (1 + np.exp(-logits[i]))))
        idx = cv2.dnn.NMSBoxes(boxes, confs, a.confidence, a.nms_iou) if boxes else []
        for j in np.array(idx).reshape(-1):
            x, y, bw, bh = (int(round(v)) for v in boxes[j])
            faces += 1
            if writer is not None:
                cv2.rectangle(frame, (x, y), (x + bw, y + bh), (0, 255, 0), 2)
                cv2.putText(frame, f"face {confs[j]:.2f}", (x, max(12, y - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 0), 1, cv2.LINE_AA)
        if writer is not None:
            writer.write(frame)
        frames += 1
    if writer is not None:
        writer.release()
    cap.release()
    dt = time.perf_counter() - t0
    print(f"peer: {frames} frames, {faces} faces, {dt:.2f} s, {frames / dt if dt > 0 else 0:.1f} fps")


if __name__ == "__main__":
    main()
