#!/usr/bin/python3
"""Train StreamVision's camera-tampering classifier (a small CNN + GRU) and export it as one ONNX model.

Every 0.2 s of stream time the pipeline downscales a frame to 64x64 grey; the CNN embeds it together with its difference
to the previous sample, and a GRU over the last 16 embeddings (3.2 s) classifies the camera's state: normal, covered,
defocused, moved, frozen. Training data: clips rendered here by FFmpeg's lavfi sources and by this script (textured
backgrounds with moving shapes), with tamperings synthesised on them (occluders, blur, sudden shifts, pans and
redirections, frozen frames and lost signal, sensor noise, light changes). Evaluation: held-out clips (other lavfi
sources, other rendered scenes) never used in training; per-sample precision/recall per class, and the events the C#
stage would raise with its default hysteresis (detection rate, delay from the tampering to the event, false events).

Run with Debian's PyTorch (CPU):  /usr/bin/python3 tools/train-tamper/train.py   (see README.md in this folder)
Deterministic for a given --seed and --threads.
"""
import argparse
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainlib  # noqa: E402  (tools/trainlib.py: lavfi clips, the end of a run)

CLASSES = ["normal", "covered", "defocused", "moved", "frozen"]
NORMAL, COVERED, DEFOCUSED, MOVED, FROZEN = range(5)
SIZE = 64            # model input: SIZE x SIZE grey, 0..255
WINDOW = 16          # embeddings the GRU reads (the current one and HISTORY before it)
HISTORY = WINDOW - 1
SAMPLE_S = 0.2       # stream time between samples (5 per second)
CANVAS = 128         # rendered clips are CANVAS x CANVAS grey; a view is a crop of it, resized to SIZE
CNN_OUT, HAND = 24, 7
EMBED = CNN_OUT + HAND + 1   # + valid flag (0 in the zero rows that pad a short history)
HIDDEN = 32

# The C# stage's default hysteresis (CameraTamperOptions): a tampered class must win with at least THRESHOLD for
# CONFIRM samples in a row; normal must win RESTORE samples in a row to restore.
THRESHOLD, CONFIRM, RESTORE = 0.6, 2, 3

# lavfi sources at 5 frames/s, rendered at 320x180 and scaled (area) to the canvas. Train and held-out sets share no
# source kind; the held-out rendered scenes use other seeds (and other shapes).
TRAIN_LAVFI = [
    "testsrc2=s=320x180:r=5",
    "mandelbrot=s=320x180:r=5:start_scale=2:end_scale=0.05",
    "mandelbrot=s=320x180:r=5:start_x=-0.743643887:start_y=0.131825904:end_scale=0.002",
    "life=s=320x180:r=5:seed=1:mold=10:ratio=0.3,format=rgb24",
    "life=s=320x180:r=5:seed=2:mold=40:ratio=0.15,format=rgb24",
    "cellauto=s=320x180:r=5:rule=30:seed=3,format=rgb24",
    "cellauto=s=320x180:r=5:rule=110:seed=4:scroll=1,format=rgb24",
    "smptehdbars=s=320x180:r=5,noise=alls=12:allf=t",
    "gradients=s=320x180:r=5:speed=0.02:seed=5",
    "gradients=s=320x180:r=5:speed=0.05:seed=6:nb_colors=5",
]
HELDOUT_LAVFI = [
    "testsrc=s=320x180:r=5",
    "sierpinski=s=320x180:r=5:seed=7:jump=30",
    "rgbtestsrc=s=320x180:r=5,noise=alls=10:allf=t",
    "smptebars=s=320x180:r=5,noise=alls=8:allf=t,hue=H=t/2",
]
CLIP_SECONDS = 40


# --------------------------------------------------------------------------------------------------------------------
# Clips: lists of uint8 [frames, CANVAS, CANVAS] grey arrays.
# --------------------------------------------------------------------------------------------------------------------

def grey(rgb):
    """BT.601 luma from RGB, full range: the C# stage computes the same from each frame's BGR pixels."""
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def render_lavfi(spec, cache):
    """uint8 [frames, CANVAS, CANVAS] grey of a lavfi source (the RGB render is cached)."""
    rgb = trainlib.render_lavfi(spec, CLIP_SECONDS, CANVAS, CANVAS, cache, scale_flags="area").astype(np.float32)
    return np.clip(np.rint(grey(rgb)), 0, 255).astype(np.uint8)


def smooth_noise(rng, size, scale):
    """Low-frequency texture: random values on a coarse grid, bilinearly upsampled."""
    g = torch.from_numpy(rng.uniform(-1, 1, (1, 1, scale, scale)).astype(np.float32))
    return F.interpolate(g, size=(size, size), mode="bilinear", align_corners=True)[0, 0].numpy()


def render_scene(seed, frames, heldout):
    """A scene we render: a textured background (large and fine texture, 'buildings', a horizon) under slowly changing
    light, with shapes moving across it (cars, people-like upright ellipses). Held-out scenes use other seeds and draw
    different shapes (rings and triangles instead of boxes)."""
    rng = np.random.default_rng(seed)
    n = CANVAS
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    bg = 110 + 50 * smooth_noise(rng, n, 3) + 20 * smooth_noise(rng, n, 9) + 8 * smooth_noise(rng, n, 33)
    horizon = rng.uniform(0.3, 0.6) * n
    bg += np.where(yy < horizon, rng.uniform(20, 60), 0)
    for _ in range(rng.integers(2, 7)):
        x0, w = rng.uniform(0, n), rng.uniform(8, 30)
        h = rng.uniform(15, 50)
        bg = np.where((xx > x0) & (xx < x0 + w) & (yy > horizon - h) & (yy < horizon), rng.uniform(40, 220), bg)
        for _ in range(rng.integers(0, 6)):     # windows
            wx, wy = rng.uniform(x0, x0 + w), rng.uniform(horizon - h, horizon)
            bg = np.where((abs(xx - wx) < 1.5) & (abs(yy - wy) < 1.5), rng.uniform(0, 255), bg)
    objs = []
    for _ in range(rng.integers(2, 9)):
        kind = rng.integers(0, 3)
        objs.append(dict(kind=kind, x=rng.uniform(0, n), y=rng.uniform(horizon, n), vx=rng.uniform(-3, 3), vy=rng.uniform(-0.8, 0.8),
                         w=rng.uniform(4, 16), h=rng.uniform(4, 16), v=rng.uniform(0, 255)))
    light_f, light_p = rng.uniform(0.005, 0.03), rng.uniform(0, 6.3)
    out = np.empty((frames, n, n), np.uint8)
    for t in range(frames):
        img = bg * (1 + 0.15 * math.sin(light_f * t * 6.28 + light_p))
        for o in objs:
            o["x"] = (o["x"] + o["vx"]) % (n + 20)
            o["y"] = min(max(o["y"] + o["vy"] + rng.normal(0, 0.3), horizon), n)
            dx, dy = xx - (o["x"] - 10), yy - o["y"]
            if o["kind"] == 0:
                inside = (abs(dx) < o["w"]) & (abs(dy) < o["h"] / 2) if not heldout else (abs(dy) < o["h"] / 2) & (abs(dx) < o["w"] * (0.5 - dy / o["h"]))
            elif o["kind"] == 1:
                r = (dx / (o["w"] / 3)) ** 2 + (dy / o["h"]) ** 2
                inside = r < 1 if not heldout else (r < 1) & (r > 0.4)
            else:
                inside = (abs(dx) < o["w"] / 2) & (abs(dy) < o["w"] / 2)
            img = np.where(inside, o["v"], img)
        out[t] = np.clip(np.rint(img), 0, 255)
    return out


def load_clips(cache, heldout, scenes):
    os.makedirs(cache, exist_ok=True)
    specs = HELDOUT_LAVFI if heldout else TRAIN_LAVFI
    clips, names = [], []
    for s in specs:
        clips.append(render_lavfi(s, cache))
        names.append(s.split(",")[0])
    base = 100000 if heldout else 0
    for i in range(scenes):
        path = os.path.join(cache, f"scene-{base + i}.npy")
        if os.path.exists(path):
            c = np.load(path)
        else:
            c = render_scene(base + i, CLIP_SECONDS * 5, heldout)
            np.save(path, c)
        clips.append(c)
        names.append(f"scene{base + i}")
    # A clip whose frames never change would look frozen unless noise is added: mark it.
    static = [bool(np.abs(c[1:].astype(np.int16) - c[:-1]).max() < 2) for c in clips]
    return clips, names, static


# --------------------------------------------------------------------------------------------------------------------
# Tamper synthesis. A sequence is frames [L+1, SIZE, SIZE] float 0..255 (frame 0 is only the "previous" of step 1) and
# labels [L] (the class of each step 1..L, as a window ending at that step shows it).
# --------------------------------------------------------------------------------------------------------------------

def gauss_blur(img, sigma):
    if sigma < 0.25:
        return img
    r = int(math.ceil(3 * sigma))
    k = torch.exp(-torch.arange(-r, r + 1, dtype=torch.float32) ** 2 / (2 * sigma * sigma))
    k = (k / k.sum())
    x = F.pad(img[None, None], (r, r, r, r), mode="replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return x[0, 0]


def view(clip, t, cs, ox, oy):
    c = torch.from_numpy(clip[t, oy:oy + cs, ox:ox + cs].astype(np.float32))
    return F.adaptive_avg_pool2d(c[None, None], SIZE)[0, 0]


class Synth:
    def __init__(self, clips, static, rng):
        self.clips, self.static, self.rng = clips, static, rng

    def pick_view(self):
        r = self.rng
        cs = int(r.integers(80, 113))
        return cs, int(r.integers(0, CANVAS - cs + 1)), int(r.integers(0, CANVAS - cs + 1))

    def sequence(self, steps, cls, onset=None, end=None):
        """One sequence of `steps` steps (steps + 1 frames) of class `cls` (NORMAL: none) starting at step `onset`
        (<= 0: before the sequence) and ending before step `end` (None: lasts)."""
        r = self.rng
        ci = int(r.integers(len(self.clips)))
        clip = self.clips[ci]
        n = steps + 1
        t0 = int(r.integers(0, len(clip) - n))
        cs, ox, oy = self.pick_view()
        jitter = r.random() < 0.3
        views = []
        for t in range(n):
            jx, jy = (int(r.integers(-1, 2)), int(r.integers(-1, 2))) if jitter else (0, 0)
            views.append((ci, t0 + t, cs, min(max(ox + jx, 0), CANVAS - cs), min(max(oy + jy, 0), CANVAS - cs)))
        labels = np.zeros(steps, np.int64)
        if onset is None:
            onset = int(r.integers(-8, steps + 1)) if cls != MOVED else int(r.integers(1, steps + 1))
        on = lambda t: t >= onset and (end is None or t < end)   # noqa: E731  (t: frame index; step t-1)

        if cls == MOVED:
            kind = r.random()
            if kind < 0.35:       # redirected: another scene altogether
                cj = int(r.integers(len(self.clips)))
                while cj == ci and len(self.clips) > 1:
                    cj = int(r.integers(len(self.clips)))
                c2 = self.clips[cj]
                u0 = int(r.integers(0, len(c2) - n))
                cs2, ox2, oy2 = self.pick_view()
                for t in range(onset, n):
                    views[t] = (cj, u0 + t, cs2, ox2, oy2)
            else:                 # moved: a jump or a fast pan (2-3 steps) to a view at least 20 px away, maybe zoomed
                while True:
                    cs2 = cs if r.random() < 0.6 else int(r.integers(64, 121))
                    ox2, oy2 = int(r.integers(0, CANVAS - cs2 + 1)), int(r.integers(0, CANVAS - cs2 + 1))
                    if max(abs(ox2 - ox), abs(oy2 - oy), abs(cs2 - cs)) >= 20:
                        break
                ramp = 1 if kind < 0.75 else int(r.integers(2, 4))
                for t in range(onset, n):
                    a = min(1.0, (t - onset + 1) / ramp)
                    views[t] = (ci, t0 + t, int(round(cs + a * (cs2 - cs))), int(round(ox + a * (ox2 - ox))), int(round(oy + a * (oy2 - oy))))
                    views[t] = (ci, t0 + t, views[t][2], min(views[t][3], CANVAS - views[t][2]), min(views[t][4], CANVAS - views[t][2]))
            for t in range(max(onset, 1), n):
                labels[t - 1] = MOVED

        frames = torch.stack([view(self.clips[v[0]], v[1], v[2], v[3], v[4]) for v in views])

        # Normal variety: slight blur, light changes, a large object passing close to the camera.
        if r.random() < 0.2:
            s = r.uniform(0.2, 0.6)
            frames = torch.stack([gauss_blur(f, s) for f in frames])
        if r.random() < 0.25:
            g0, g1 = r.uniform(0.6, 1.3), r.uniform(0.6, 1.3)
            gain = torch.linspace(g0, g1, n).view(n, 1, 1)
            frames = frames * gain
        if r.random() < 0.15 and cls != COVERED:
            a, dur, lvl = int(r.integers(0, n)), int(r.integers(2, 6)), r.uniform(0, 255)
            rad = r.uniform(10, 22)
            yy, xx = torch.meshgrid(torch.arange(SIZE, dtype=torch.float32), torch.arange(SIZE, dtype=torch.float32), indexing="ij")
            cx, cy, vx = r.uniform(0, SIZE), r.uniform(20, SIZE), r.uniform(-12, 12)
            for t in range(a, min(n, a + dur)):
                m = ((xx - cx - vx * (t - a)) ** 2 + (yy - cy) ** 2) < rad * rad
                frames[t][m] = lvl

        if cls == DEFOCUSED:
            target, ramp = r.uniform(1.2, 3.5), int(r.integers(1, 4))
            for t in range(n):
                if on(t):
                    s = target * min(1.0, (t - onset + 1) / ramp) if onset > 0 else target
                    frames[t] = gauss_blur(frames[t], s)
                    if t >= 1 and s >= 1.0:
                        labels[t - 1] = DEFOCUSED

        if cls == COVERED:
            lvl = r.uniform(0, 60) if r.random() < 0.6 else r.uniform(0, 255)
            shade = 15 * torch.from_numpy(smooth_noise(r, SIZE, 3)) + 4 * torch.from_numpy(smooth_noise(r, SIZE, 17))
            occ = lvl + shade
            alpha = r.uniform(0.85, 1.0)
            full = r.random() < 0.5
            frac = 1.0 if full else r.uniform(0.75, 1.0)
            side = int(r.integers(4))
            ramp = int(r.integers(1, 4))
            yy, xx = torch.meshgrid(torch.arange(SIZE, dtype=torch.float32), torch.arange(SIZE, dtype=torch.float32), indexing="ij")
            coord = [xx, yy, SIZE - 1 - xx, SIZE - 1 - yy][side] / SIZE
            for t in range(n):
                if on(t):
                    f = frac * min(1.0, (t - onset + 1) / ramp) if onset > 0 else frac
                    m = (coord < f).float() * alpha
                    frames[t] = frames[t] * (1 - m) + occ * m
                    if t >= 1 and f * alpha >= 0.7:
                        labels[t - 1] = COVERED

        # Sensor noise (fresh every frame); a clip that never changes always gets some (or it would look frozen).
        sigma = 0.0 if (r.random() < 0.3 and not self.static[ci]) else r.uniform(0.3, 4.0)
        if sigma > 0:
            frames = frames + torch.from_numpy(r.normal(0, sigma, frames.shape).astype(np.float32))

        if cls == FROZEN:
            lost = r.random() < 0.25
            lost_level = float(r.choice([0.0, 16.0, 29.0, 41.0, 128.0, r.uniform(0, 255)]))
            hold = None
            for t in range(n):
                if on(t):
                    if hold is None:
                        hold = torch.full((SIZE, SIZE), lost_level) if lost else frames[max(t - 1, 0)].clone()
                    frames[t] = hold
                    if t >= 1:
                        labels[t - 1] = FROZEN
                else:
                    hold = None
        frames = frames.clamp(0, 255)
        return frames, labels

    def random(self, steps):
        r = self.rng
        cls = int(r.choice(5, p=[0.30, 0.16, 0.22, 0.16, 0.16]))
        end = None
        if cls in (COVERED, DEFOCUSED, FROZEN) and r.random() < 0.3:
            onset = int(r.integers(-4, steps - 2))
            return self.sequence(steps, cls, onset, onset + int(r.integers(2, 10)))
        return self.sequence(steps, cls, None, end)


# --------------------------------------------------------------------------------------------------------------------
# Model. One ONNX graph: inputs frames [N, 2, 64, 64] (previous sample, current; grey 0..255) and history [N, 15, EMBED]
# (embeddings of the 15 samples before, oldest first, zero rows where there are fewer); outputs embedding [N, EMBED] (the
# current sample's, to append to the history) and probs [N, 5].
# --------------------------------------------------------------------------------------------------------------------

class Embedder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(2, 8, 3, 2, 1), nn.ReLU(),     # 64 -> 32 (full resolution: defocus shows in the finest detail)
            nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(),    # 32 -> 16
            nn.Conv2d(16, 24, 3, 2, 1), nn.ReLU(),   # 16 -> 8
        )
        self.fc = nn.Linear(24 * 2, CNN_OUT)
        lap = torch.tensor([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=torch.float32).view(1, 1, 3, 3)
        self.register_buffer("lap", lap)

    def forward(self, pair):
        prev, cur = pair[:, 0:1], pair[:, 1:2]
        d = cur - prev
        n = cur.shape[0]
        mean = cur.mean(dim=(2, 3), keepdim=True)
        std = ((cur - mean) ** 2).mean(dim=(2, 3), keepdim=True).sqrt()
        lap = F.conv2d(cur, self.lap).abs().mean(dim=(2, 3), keepdim=True)
        dabs = d.abs().mean(dim=(2, 3), keepdim=True)
        changed = (d.abs() > 0.05).float().mean(dim=(2, 3), keepdim=True)
        # Sharpness across scales: the Laplacian at 64 px against the one at 32 px (blur takes the fine scale first).
        lap32 = F.conv2d(F.avg_pool2d(cur, 2), self.lap).abs().mean(dim=(2, 3), keepdim=True)
        hand = torch.cat([mean / 128 - 1, torch.log(std + 1) / 3 - 1, torch.log((lap + 0.05) / (std + 1)) / 2,
                          torch.log(dabs + 0.01) / 3, changed * 2 - 1, d.mean(dim=(2, 3), keepdim=True) / 32,
                          torch.log((lap + 0.5) / (lap32 + 0.5))], 1).view(n, HAND)
        x = torch.cat([(cur - mean) / 64, torch.clamp(d / 16, -4, 4)], 1)
        x = self.conv(x)
        x = torch.cat([x.mean(dim=(2, 3)), x.amax(dim=(2, 3))], 1)
        cnn = torch.relu(self.fc(x))
        return torch.cat([cnn, hand, torch.ones(n, 1)], 1)


class Sequence(nn.Module):
    """A GRU written out (exports as plain ops), skipping rows whose valid flag is 0: zero padding changes nothing."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(EMBED, EMBED)
        self.x2h = nn.Linear(EMBED, 3 * HIDDEN)
        self.h2h = nn.Linear(HIDDEN, 3 * HIDDEN)
        self.head = nn.Linear(HIDDEN, len(CLASSES))

    def forward(self, seq, all_steps=False):
        n, steps = seq.shape[0], seq.shape[1]
        h = torch.zeros(n, HIDDEN)
        outs = []
        for t in range(steps):
            x = seq[:, t]
            valid = x[:, EMBED - 1:EMBED]
            x = torch.tanh(self.inp(x))
            gx, gh = self.x2h(x), self.h2h(h)
            r = torch.sigmoid(gx[:, :HIDDEN] + gh[:, :HIDDEN])
            z = torch.sigmoid(gx[:, HIDDEN:2 * HIDDEN] + gh[:, HIDDEN:2 * HIDDEN])
            c = torch.tanh(gx[:, 2 * HIDDEN:] + r * gh[:, 2 * HIDDEN:])
            h_new = (1 - z) * c + z * h
            h = valid * h_new + (1 - valid) * h
            if all_steps:
                outs.append(self.head(h))
        return torch.stack(outs, 1) if all_steps else self.head(h)


class TamperNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = Embedder()
        self.seq = Sequence()

    def train_forward(self, frames):
        """frames [B, L+1, 64, 64] -> logits [B, L, 5] (step t sees steps 1..t)."""
        b, n = frames.shape[0], frames.shape[1]
        pairs = torch.stack([frames[:, :-1], frames[:, 1:]], 2).reshape(b * (n - 1), 2, SIZE, SIZE)
        e = self.embed(pairs).view(b, n - 1, EMBED)
        return self.seq(e, all_steps=True)

    def forward(self, frames, history):
        e = self.embed(frames)
        logits = self.seq(torch.cat([history, e[:, None]], 1))
        return e, torch.softmax(logits, 1)


# --------------------------------------------------------------------------------------------------------------------
# Evaluation on held-out clips, as the C# stage runs the model (sliding window, left-padded history) and raises events.
# --------------------------------------------------------------------------------------------------------------------

def run_stream(model, frames):
    """frames [L+1, 64, 64] -> probs [L, 5] for steps 1..L, each from a window of at most WINDOW embeddings."""
    with torch.no_grad():
        pairs = torch.stack([frames[:-1], frames[1:]], 1)
        e = model.embed(pairs)
        seqs = []
        for t in range(len(e)):
            w = e[max(0, t - WINDOW + 1):t + 1]
            pad = torch.zeros(WINDOW - len(w), EMBED)
            seqs.append(torch.cat([pad, w], 0))
        return torch.softmax(model.seq(torch.stack(seqs)), 1).numpy()


def hysteresis(probs):
    """The C# stage's state machine with its defaults; returns [(step, 'tampered'|'restored', class)]."""
    state, pending, count, normal_run, events = NORMAL, None, 0, 0, []
    for t, p in enumerate(probs):
        c = int(np.argmax(p))
        if c != NORMAL and p[c] >= THRESHOLD:
            count = count + 1 if c == pending else 1
            pending = c
            normal_run = 0
            if count >= CONFIRM and c != state:
                state = c
                events.append((t, "tampered", c))
        else:
            pending, count = None, 0
            normal_run = normal_run + 1 if c == NORMAL else 0
            if state != NORMAL and normal_run >= RESTORE:
                events.append((t, "restored", state))
                state = NORMAL
    return events


def evaluate(model, clips, seed, per_clip=3):
    """Timelines of 60 steps (12 s) on each held-out clip: normal for 25 steps, then a tampering from step 25 (covered,
    defocused, frozen: until step 50, then normal again; moved: a jump at step 25) — and all-normal timelines."""
    rng = np.random.default_rng(seed)
    synth = Synth(clips[0], clips[1], rng)
    steps, onset, end = 60, 25, 50
    y_true, y_pred, report = [], [], {"per_class": {}, "events": {}}
    ev = {c: {"timelines": 0, "detected": 0, "delays": [], "wrong_class": 0, "restored": 0, "restore_delays": []} for c in CLASSES}
    false_events, normal_seconds = 0, 0.0
    for rep in range(per_clip):
        for ci in range(len(clips[0])):
            for cls in range(5):
                synth.rng = np.random.default_rng([seed, rep, ci, cls])
                saved = synth.clips
                synth.clips, synth.static = [clips[0][ci]], [clips[1][ci]]
                frames, labels = synth.sequence(steps, cls, onset if cls != NORMAL else steps + 10, end if cls not in (NORMAL, MOVED) else None)
                synth.clips, synth.static = saved, clips[1]
                probs = run_stream(model, frames)
                # Per-sample truth as a window shows it: a jump is visible while it is inside the window.
                truth = labels.copy()
                if cls == MOVED:
                    truth[:] = NORMAL
                    truth[onset - 1:min(steps, onset - 1 + WINDOW)] = MOVED
                y_true.extend(truth.tolist())
                y_pred.extend(np.argmax(probs, 1).tolist())
                events = hysteresis(probs)
                name = CLASSES[cls]
                ev[name]["timelines"] += 1
                before = [e for e in events if e[0] < onset - 1]
                false_events += sum(1 for e in before if e[1] == "tampered")
                normal_seconds += (onset - 1) * SAMPLE_S
                if cls == NORMAL:
                    false_events += sum(1 for e in events if e[1] == "tampered" and e[0] >= onset - 1)
                    normal_seconds += (steps - onset + 1) * SAMPLE_S
                    continue
                after = [e for e in events if e[0] >= onset - 1 and e[1] == "tampered"]
                if after:
                    first = after[0]
                    if first[2] == cls:
                        ev[name]["detected"] += 1
                        ev[name]["delays"].append((first[0] - (onset - 1)) * SAMPLE_S)
                    else:
                        ev[name]["wrong_class"] += 1
                if cls != MOVED:
                    rest = [e for e in events if e[1] == "restored" and e[0] >= end - 1]
                    if rest:
                        ev[name]["restored"] += 1
                        ev[name]["restore_delays"].append((rest[0][0] - (end - 1)) * SAMPLE_S)
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    for c in range(5):
        tp = int(((y_pred == c) & (y_true == c)).sum())
        precision = tp / max(1, int((y_pred == c).sum()))
        recall = tp / max(1, int((y_true == c).sum()))
        report["per_class"][CLASSES[c]] = {"precision": round(precision, 3), "recall": round(recall, 3), "samples": int((y_true == c).sum())}
    report["accuracy"] = round(float((y_true == y_pred).mean()), 3)
    # Rows: the truth, columns: the model's most likely class (per sample).
    report["confusion"] = {CLASSES[t]: {CLASSES[p]: int(((y_true == t) & (y_pred == p)).sum()) for p in range(5)} for t in range(5)}
    for name, e in ev.items():
        if name == "normal":
            continue
        d = e["delays"]
        report["events"][name] = {
            "timelines": e["timelines"], "detected": e["detected"], "wrong_class": e["wrong_class"],
            "delay_s_median": round(float(np.median(d)), 2) if d else None,
            "delay_s_p90": round(float(np.percentile(d, 90)), 2) if d else None,
            "restored": e["restored"],
            "restore_delay_s_median": round(float(np.median(e["restore_delays"])), 2) if e["restore_delays"] else None,
        }
    report["false_tampered_events"] = false_events
    report["normal_seconds"] = round(normal_seconds, 1)
    report["false_events_per_hour"] = round(false_events / normal_seconds * 3600, 1)
    return report


def export(model, path, seed):
    import onnx
    model.eval()
    frames = torch.rand(1, 2, SIZE, SIZE) * 255
    history = torch.zeros(1, HISTORY, EMBED)
    torch.onnx.export(model, (frames, history), path, opset_version=17, input_names=["frames", "history"],
                      output_names=["embedding", "probs"],
                      dynamic_axes={"frames": {0: "streams"}, "history": {0: "streams"}, "embedding": {0: "streams"}, "probs": {0: "streams"}})
    m = onnx.load(path)
    meta = {"streamvision.tamper.version": "1", "streamvision.tamper.classes": ",".join(CLASSES),
            "streamvision.tamper.size": str(SIZE), "streamvision.tamper.history": str(HISTORY),
            "streamvision.tamper.embedding": str(EMBED), "streamvision.tamper.sample_seconds": str(SAMPLE_S),
            "streamvision.tamper.seed": str(seed)}
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/tamper-cnn-gru.onnx")
    ap.add_argument("--cache", default="out/train-tamper", help="rendered clips are kept here (git-ignored)")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batches", type=int, default=900, help="training batches")
    ap.add_argument("--batch", type=int, default=16, help="sequences per batch")
    ap.add_argument("--scenes", type=int, default=24, help="rendered scenes to train on (held out: a third as many)")
    ap.add_argument("--report", default=None, help="write the evaluation as JSON here")
    ap.add_argument("--eval-only", default=None, help="evaluate this .pt state instead of training")
    ap.add_argument("--save-weights", default=None)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    t_start, c_start = time.time(), time.process_time()

    train = load_clips(a.cache, False, a.scenes)
    held = load_clips(a.cache, True, max(4, a.scenes // 3))
    print(f"clips: {len(train[0])} train ({sum(len(c) for c in train[0])} frames), {len(held[0])} held out "
          f"({sum(len(c) for c in held[0])} frames); {time.time() - t_start:.0f} s", flush=True)

    model = TamperNet()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}", flush=True)
    if a.eval_only:
        model.load_state_dict(torch.load(a.eval_only))
    else:
        rng = np.random.default_rng(a.seed)
        synth = Synth(train[0], train[2], rng)
        opt = torch.optim.Adam(model.parameters(), lr=3e-3)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=a.batches, pct_start=0.15)
        # Later steps (a fuller window, as in steady state) weigh more than the first ones (a stream that just started).
        w = torch.linspace(0.4, 1.0, WINDOW)
        loss_avg, acc_avg = 0.0, 0.0
        for b in range(a.batches):
            seqs = [synth.random(WINDOW) for _ in range(a.batch)]
            frames = torch.stack([s[0] for s in seqs])
            labels = torch.from_numpy(np.stack([s[1] for s in seqs]))
            model.train()
            logits = model.train_forward(frames)
            ce = F.cross_entropy(logits.reshape(-1, 5), labels.reshape(-1), reduction="none").view(a.batch, WINDOW)
            loss = (ce * w).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_avg = 0.95 * loss_avg + 0.05 * loss.item() if b else loss.item()
            acc_avg = 0.95 * acc_avg + 0.05 * (logits.argmax(2) == labels).float().mean().item() if b else 0.2
            if b % 50 == 0 or b == a.batches - 1:
                print(f"batch {b:4d} loss {loss_avg:.3f} acc {acc_avg:.3f}  {time.time() - t_start:.0f} s", flush=True)
        if a.save_weights:
            torch.save(model.state_dict(), a.save_weights)
    model.eval()
    rep = evaluate(model, held, seed=1234)
    rep["train_seconds_wall"] = round(time.time() - t_start)
    rep["train_seconds_cpu"] = round(time.process_time() - c_start)
    rep["held_out_clips"] = held[1]
    rep["train_clips"] = train[1]
    trainlib.finish(rep, a.report, a.out, lambda path: export(model, path, a.seed))


if __name__ == "__main__":
    main()
