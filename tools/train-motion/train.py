#!/usr/bin/python3
"""Train StreamVision's learned motion model and export it as ONNX.

A small GRU reads the last K observed boxes of a track (relative to the newest one, in units of its width/height and of a
reference frame time) and predicts the box at a given horizon after the newest observation, with a log-variance per
coordinate. Training data: MOTChallenge ground-truth trajectories (half of the TUD-Campus and TUD-Stadtmitte ids; the other
half is held out) plus synthetic trajectories (constant velocity, acceleration, turns, stops, random velocity, depth
changes, gait wobble, jitter, outliers, missed frames and gaps, several frame rates). The held-out one-step prediction
error is reported against a constant-velocity Kalman filter that mirrors src/Tracking/Motion/KalmanMotionModel.cs.

Run with Debian's PyTorch (CPU):  /usr/bin/python3 tools/train-motion/train.py   (see README.md in this folder)
Deterministic for a given --seed and --threads.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

K = 16                  # observations fed to the network (all that MotionState keeps)
TAU = 0.04              # reference frame time, seconds: times enter the network in units of TAU (25 fps frames)
FEATURES = 8            # per observation, see features()
MAX_HORIZON_S = 1.6     # longest prediction horizon trained (the tracker coasts lost tracks for 1.5 s by default)
LOGVAR_MIN, LOGVAR_MAX = -14.0, 6.0

# Kalman baseline: the defaults of KalmanMotionOptions (C#).
KF_POS, KF_VEL, KF_REF_FPS = 1.0 / 20, 1.0 / 160, 30.0

# Held-out real trajectories: even ground-truth ids of each TUD sequence (the C# report uses the same rule).
SEQUENCES = ["TUD-Campus", "TUD-Stadtmitte"]


def held_out(track_id):
    return track_id % 2 == 0


# --------------------------------------------------------------------------------------------------------------------
# Data: a trajectory is (t [L], obs [L,4], truth [L,4]) with boxes as (cx, cy, w, h) in pixels; only observed frames
# are kept (missed frames are simply absent, so their time gap shows in t).
# --------------------------------------------------------------------------------------------------------------------

def read_gt(path):
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    tracks = {}
    for tid in np.unique(rows[:, 1]).astype(int):
        r = rows[rows[:, 1] == tid]
        r = r[np.argsort(r[:, 0])]
        box = np.stack([r[:, 2] + r[:, 4] / 2, r[:, 3] + r[:, 5] / 2, r[:, 4], r[:, 5]], 1)
        tracks[tid] = (r[:, 0].astype(np.int64), box)
    return tracks


def matched_detections(gt_path, det_path, include):
    """Held-out ground-truth tracks observed through a real detector: per ground-truth box, the detection of the same
    frame with the highest IoU if it is at least 0.5 (frames without one are missed). Returns (t, detections, truth)."""
    gt = np.loadtxt(gt_path, delimiter=",", ndmin=2)
    det = np.loadtxt(det_path, delimiter=",", ndmin=2)
    out = []
    for tid in np.unique(gt[:, 1]).astype(int):
        if not include(tid):
            continue
        r = gt[gt[:, 1] == tid]
        r = r[np.argsort(r[:, 0])]
        t, obs, truth = [], [], []
        for row in r:
            d = det[det[:, 0] == row[0]]
            if len(d) == 0:
                continue
            x1 = np.maximum(row[2], d[:, 2])
            y1 = np.maximum(row[3], d[:, 3])
            x2 = np.minimum(row[2] + row[4], d[:, 2] + d[:, 4])
            y2 = np.minimum(row[3] + row[5], d[:, 3] + d[:, 5])
            inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
            iou = inter / (row[4] * row[5] + d[:, 4] * d[:, 5] - inter)
            j = int(np.argmax(iou))
            if iou[j] < 0.5:
                continue
            t.append((row[0] - r[0, 0]) / 25.0)
            obs.append((d[j, 2] + d[j, 4] / 2, d[j, 3] + d[j, 5] / 2, d[j, 4], d[j, 5]))
            truth.append((row[2] + row[4] / 2, row[3] + row[5] / 2, row[4], row[5]))
        if len(t) >= 3:
            out.append((np.array(t), np.array(obs), np.array(truth)))
    return out


def noise_levels(rng, n):
    """Per-trajectory observation noise: std of cx (of w), cy (of h), log w, log h. Spans clean ground truth to worse than
    the MOT15 public detections (measured against TUD ground truth: about 0.12, 0.045, 0.17, 0.10)."""
    lv = np.stack([rng.uniform(0, 0.16, n), rng.uniform(0, 0.07, n), rng.uniform(0, 0.22, n), rng.uniform(0, 0.14, n)], 1)
    clean = rng.random(n) < 0.15
    lv[clean] *= 0.05
    return lv


def observe(rng, truth, level):
    """Noisy observations of true boxes [L,4] with noise level [4] and occasional outliers. Independent per frame: real
    detectors' errors are correlated in time (lag-1 correlation 0.45-0.76 for the TUD public detections), but training on
    AR(1) noise did not lower the held-out error through real detections (7.74 vs 7.58 px), so it stays simple."""
    L = truth.shape[0]
    z = rng.standard_normal((L, 4))
    outlier = rng.random(L) < 0.03
    z[outlier] *= 3.0
    obs = truth.copy()
    obs[:, 0] += z[:, 0] * level[0] * truth[:, 2]
    obs[:, 1] += z[:, 1] * level[1] * truth[:, 3]
    obs[:, 2] *= np.exp(z[:, 2] * level[2])
    obs[:, 3] *= np.exp(z[:, 3] * level[3])
    return obs


def drop_mask(rng, L):
    """Which frames are observed: random misses plus occasional gaps; the first two frames are always seen."""
    keep = np.ones(L, bool)
    p = 0.0 if rng.random() < 0.35 else rng.uniform(0, 0.3)
    keep &= rng.random(L) >= p
    if rng.random() < 0.3:
        for _ in range(rng.integers(1, 3)):
            g = int(rng.integers(3, 30))
            s = int(rng.integers(2, max(3, L - g)))
            keep[s:s + g] = False
    keep[:2] = True
    return keep


def synthetic(rng, n, length=70):
    """n synthetic trajectories (lists of (t, obs, truth))."""
    out = []
    fps_choices = np.array([7.5, 10, 12.5, 15, 20, 25, 25, 25, 30, 30, 50, 60])
    levels = noise_levels(rng, n)
    for i in range(n):
        fps = float(rng.choice(fps_choices))
        L = length
        t = np.arange(L) / fps
        dt = 1 / fps
        h0 = math.exp(rng.uniform(math.log(30), math.log(450)))
        aspect = math.exp(rng.uniform(math.log(0.25), math.log(2.5))) if rng.random() < 0.3 else rng.uniform(0.3, 0.65)
        # Speed in box heights per second, direction mostly sideways (people and cars cross the image).
        speed = 0.0 if rng.random() < 0.1 else math.exp(rng.uniform(math.log(0.03), math.log(3.0)))
        theta = rng.normal(0, 0.5) + (math.pi if rng.random() < 0.5 else 0.0)
        if rng.random() < 0.25:
            theta = rng.uniform(-math.pi, math.pi)
        v = np.array([math.cos(theta), math.sin(theta)]) * speed * h0
        acc = rng.normal(0, 0.4, 2) * h0 if rng.random() < 0.35 else np.zeros(2)
        omega = rng.uniform(-1.5, 1.5) if rng.random() < 0.3 else 0.0
        ou = rng.random() < 0.35
        ou_sigma = rng.uniform(0.1, 1.0) * h0
        depth_rate = rng.normal(0, 0.15) if rng.random() < 0.5 else 0.0   # d log(size) / dt
        stop = rng.random() < 0.25
        stop_at, stop_len = rng.uniform(0, t[-1]), rng.uniform(0.2, 1.5)
        wob_a, wob_p, wob_ph = (rng.uniform(0, 0.1), rng.uniform(0.7, 1.4), rng.uniform(0, 2 * math.pi)) if rng.random() < 0.5 else (0.0, 1.0, 0.0)
        bob_a = rng.uniform(0, 0.01) if rng.random() < 0.5 else 0.0
        pos = np.array([rng.uniform(0, 1280), rng.uniform(0, 720)])
        logs = math.log(h0)
        vel = v.copy()
        base_v = v.copy()
        truth = np.empty((L, 4))
        for k in range(L):
            h = math.exp(logs)
            w = h * aspect * (1 + wob_a * math.sin(2 * math.pi * t[k] / wob_p + wob_ph))
            bob = bob_a * h * math.sin(4 * math.pi * t[k] / wob_p + wob_ph)
            truth[k] = (pos[0], pos[1] + bob, w, h)
            # Advance.
            gate = 1.0
            if stop:
                if stop_at <= t[k] < stop_at + stop_len:
                    gate = 0.0
                elif stop_at - 0.3 <= t[k] < stop_at:
                    gate = (stop_at - t[k]) / 0.3
                elif stop_at + stop_len <= t[k] < stop_at + stop_len + 0.3:
                    gate = (t[k] - stop_at - stop_len) / 0.3
            if omega != 0.0:
                c, s = math.cos(omega * dt), math.sin(omega * dt)
                vel = np.array([c * vel[0] - s * vel[1], s * vel[0] + c * vel[1]])
                base_v = np.array([c * base_v[0] - s * base_v[1], s * base_v[0] + c * base_v[1]])
            vel = vel + acc * dt
            if ou:
                vel = vel + (-1.0 * (vel - base_v) * dt) + ou_sigma * math.sqrt(dt) * rng.standard_normal(2)
            pos = pos + gate * vel * dt
            logs += depth_rate * gate * dt
        keep = drop_mask(rng, L)
        obs = observe(rng, truth, levels[i])
        out.append((t[keep], obs[keep], truth[keep]))
    return out


def dancing(rng, n, length=70):
    """n non-linear synthetic trajectories (lists of (t, obs, truth)): people dancing, playing or weaving on the spot —
    Lissajous-like oscillation of the centre (0.2-1.5 box widths, 0.3-1.5 Hz) over a slow drift, sudden reversals of the
    drift, tight turns (up to 3 rad/s) and a bobbing height; the same frame rates, noise and misses as synthetic()."""
    out = []
    fps_choices = np.array([7.5, 10, 12.5, 15, 20, 25, 25, 25, 30, 30, 50, 60])
    levels = noise_levels(rng, n)
    for i in range(n):
        fps = float(rng.choice(fps_choices))
        L = length
        t = np.arange(L) / fps
        h0 = math.exp(rng.uniform(math.log(30), math.log(450)))
        aspect = rng.uniform(0.3, 0.65)
        w0 = h0 * aspect
        ax, ay = rng.uniform(0.2, 1.5) * w0, rng.uniform(0.0, 0.5) * w0
        fx, fy = rng.uniform(0.3, 1.5), rng.uniform(0.3, 1.5)
        px, py = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
        drift = rng.normal(0, 0.3, 2) * h0
        omega = rng.uniform(-3.0, 3.0) if rng.random() < 0.4 else 0.0
        flip_every = rng.uniform(0.5, 2.0)
        breathe = rng.uniform(0, 0.06)
        pos = np.array([rng.uniform(0, 1280), rng.uniform(0, 720)])
        truth = np.empty((L, 4))
        dt = 1 / fps
        next_flip = flip_every
        for k in range(L):
            osc = np.array([ax * math.sin(2 * math.pi * fx * t[k] + px), ay * math.sin(2 * math.pi * fy * t[k] + py)])
            h = h0 * (1 + breathe * math.sin(2 * math.pi * 2 * fy * t[k] + px))
            truth[k] = (pos[0] + osc[0], pos[1] + osc[1], w0 * (1 + breathe * math.sin(2 * math.pi * fx * t[k])), h)
            if omega != 0.0:
                c, s = math.cos(omega * dt), math.sin(omega * dt)
                drift = np.array([c * drift[0] - s * drift[1], s * drift[0] + c * drift[1]])
            if t[k] >= next_flip:
                drift = -drift if rng.random() < 0.5 else rng.normal(0, 0.3, 2) * h0
                next_flip += flip_every
            pos = pos + drift * dt
        keep = drop_mask(rng, L)
        obs = observe(rng, truth, levels[i])
        out.append((t[keep], obs[keep], truth[keep]))
    return out


def from_real(rng, tracks, copies):
    """Augmented copies of real trajectories: frame-rate subsampling, mirror, noise, misses."""
    out = []
    items = list(tracks.values())
    levels = noise_levels(rng, copies * len(items))
    j = 0
    for _ in range(copies):
        for frames, box in items:
            stride = int(rng.choice([1, 1, 1, 2, 3]))
            start = int(rng.integers(0, stride))
            f, b = frames[start::stride], box[start::stride].copy()
            if len(f) < 3:
                j += 1
                continue
            if rng.random() < 0.5:
                b[:, 0] = 1000.0 - b[:, 0]
            t = (f - f[0]) / 25.0
            keep = drop_mask(rng, len(f))
            obs = observe(rng, b, levels[j])
            j += 1
            out.append((t[keep], obs[keep], b[keep]))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Features: the contract with src/Tracking/Motion/OnnxMotionModel.cs (keep both in step).
# --------------------------------------------------------------------------------------------------------------------

def features(hist_t, hist_box, n, target_t):
    """hist_t [B,K], hist_box [B,K,4] (valid entries right-aligned: the newest at K-1), n [B] valid counts, target_t [B].
    Returns history [B,K,8] and horizon [B,1], float32.
    Per observation i, relative to the newest observation L (box cx, cy, w, h; time tL):
      0 (cx_i - cx_L) / w_L      1 (cy_i - cy_L) / h_L      2 log(w_i / w_L)      3 log(h_i / h_L)
      4 (t_i - t_L) / TAU / 10   5 1 if valid else 0
      6,7 centre velocity from the previous valid observation: d(cx)/w_L, d(cy)/h_L per TAU (0 for the oldest)
    Invalid (padding) rows are all zero. horizon = (target_t - t_L) / TAU."""
    B = hist_t.shape[0]
    last_box = hist_box[:, K - 1]
    last_t = hist_t[:, K - 1]
    wl, hl = last_box[:, 2:3], last_box[:, 3:4]
    f = np.zeros((B, K, FEATURES), np.float64)
    f[:, :, 0] = (hist_box[:, :, 0] - last_box[:, None, 0]) / wl
    f[:, :, 1] = (hist_box[:, :, 1] - last_box[:, None, 1]) / hl
    f[:, :, 2] = np.log(hist_box[:, :, 2] / wl)
    f[:, :, 3] = np.log(hist_box[:, :, 3] / hl)
    f[:, :, 4] = (hist_t - last_t[:, None]) / TAU / 10.0
    valid = np.arange(K)[None, :] >= (K - n)[:, None]
    f[:, :, 5] = valid
    dts = np.diff(hist_t, axis=1) / TAU
    prev_valid = valid[:, :-1] & valid[:, 1:]
    safe = np.where(prev_valid, dts, 1.0)
    f[:, 1:, 6] = np.where(prev_valid, (f[:, 1:, 0] - f[:, :-1, 0]) / safe, 0.0)
    f[:, 1:, 7] = np.where(prev_valid, (f[:, 1:, 1] - f[:, :-1, 1]) / safe, 0.0)
    f[~valid] = 0.0
    horizon = ((target_t - last_t) / TAU)[:, None]
    return f.astype(np.float32), horizon.astype(np.float32)


def targets(last_box, truth):
    """The true box relative to the newest observation, in the network's output units."""
    return np.stack([(truth[:, 0] - last_box[:, 0]) / last_box[:, 2], (truth[:, 1] - last_box[:, 1]) / last_box[:, 3],
                     np.log(truth[:, 2] / last_box[:, 2]), np.log(truth[:, 3] / last_box[:, 3])], 1).astype(np.float32)


def decode(last_box, mean):
    """Network output (normalised) back to a pixel box (cx, cy, w, h)."""
    return np.stack([last_box[:, 0] + mean[:, 0] * last_box[:, 2], last_box[:, 1] + mean[:, 1] * last_box[:, 3],
                     last_box[:, 2] * np.exp(mean[:, 2]), last_box[:, 3] * np.exp(mean[:, 3])], 1)


def windows(trajs, rng, per_traj, one_step_only=False):
    """Training samples: for an observation q >= 2, a history ending at an earlier observation j (usually q-1; sometimes
    further back, as when a lost track coasts) of up to K observations; the target is truth[q] at t[q]."""
    ht, hb, ns, tt, tb = [], [], [], [], []
    for (t, obs, truth) in trajs:
        L = len(t)
        if L < 3:
            continue
        qs = np.arange(2, L) if one_step_only else rng.integers(2, L, size=per_traj)
        for q in qs:
            q = int(q)
            if one_step_only or rng.random() < 0.65:
                j = q - 1
            else:
                # Skip back: the last seen observation is earlier, within MAX_HORIZON_S of the target.
                lo = int(np.searchsorted(t, t[q] - MAX_HORIZON_S))
                j = int(rng.integers(min(max(lo, 1), q - 1), q))
            avail = j + 1
            n = min(K, avail)
            if not one_step_only and rng.random() < 0.25:
                n = int(rng.integers(2, n + 1))
            tpad = np.zeros(K)
            bpad = np.tile(obs[j], (K, 1))
            tpad[K - n:] = t[j - n + 1:j + 1]
            bpad[K - n:] = obs[j - n + 1:j + 1]
            tpad[:K - n] = t[j - n + 1]
            ht.append(tpad)
            hb.append(bpad)
            ns.append(n)
            tt.append(t[q])
            tb.append(truth[q])
    ht, hb, ns, tt, tb = map(np.asarray, (ht, hb, ns, tt, tb))
    x, hz = features(ht, hb, ns, tt)
    y = targets(hb[:, K - 1], tb)
    return x, hz, y, hb[:, K - 1], tb


# --------------------------------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------------------------------

class MotionGru(nn.Module):
    """GRU over the history; the head predicts an offset (where the newest box really is), a rate and a log-variance,
    each conditioned on the horizon h; mean = offset + rate * h (a linear extrapolation the network bends as it needs)."""

    def __init__(self, hidden):
        super().__init__()
        self.hidden = hidden
        self.gru = nn.GRU(FEATURES, hidden, num_layers=1, batch_first=True)
        self.head = nn.Sequential(nn.Linear(hidden + 2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 12))

    def forward(self, history, horizon):
        # Explicit zero initial state shaped from the input, so the exported graph takes any number of tracks.
        h0 = (history[:, 0, 0:1] * 0).repeat(1, self.hidden).unsqueeze(0)
        _, hn = self.gru(history, h0)
        z = torch.cat([hn[-1], horizon / 10.0, torch.log(horizon + 0.5)], 1)
        o = self.head(z)
        mean = o[:, 0:4] + o[:, 4:8] * horizon / 10.0
        log_var = torch.clamp(o[:, 8:12], LOGVAR_MIN, LOGVAR_MAX)
        return mean, log_var


def loss_fn(mean, log_var, y):
    # Beta-NLL (beta 0.5): Gaussian NLL with each sample weighted by its (detached) standard deviation, so the mean is
    # fitted well where the variance is large too.
    var = torch.exp(log_var)
    nll = 0.5 * (log_var + (y - mean) ** 2 / var)
    return (nll * var.detach() ** 0.5).mean()


# --------------------------------------------------------------------------------------------------------------------
# Kalman baseline (a port of KalmanMotionModel.cs with its default options) and the one-step evaluation
# --------------------------------------------------------------------------------------------------------------------

class Kalman:
    def __init__(self, box):
        self.x = np.zeros(8)
        self.x[:4] = box
        self.P = np.zeros((8, 8))
        sw, sh = max(box[2], 1.0), max(box[3], 1.0)
        for i in range(4):
            side = sw if i % 2 == 0 else sh
            self.P[i, i] = (2 * KF_POS * side) ** 2
            self.P[i + 4, i + 4] = (10 * KF_VEL * side * KF_REF_FPS) ** 2

    def predict(self, dt):
        if dt == 0:
            return
        sw, sh = max(self.x[2], 1.0), max(self.x[3], 1.0)
        F = np.eye(8)
        F[:4, 4:] = np.eye(4) * dt
        self.x = F @ self.x
        self.x[2], self.x[3] = max(self.x[2], 1.0), max(self.x[3], 1.0)
        self.P = F @ self.P @ F.T
        steps = dt * KF_REF_FPS
        for i in range(4):
            side = sw if i % 2 == 0 else sh
            self.P[i, i] += (KF_POS * side) ** 2 * steps
            self.P[i + 4, i + 4] += (KF_VEL * side * KF_REF_FPS) ** 2 * steps

    def update(self, box):
        sw, sh = max(self.x[2], 1.0), max(self.x[3], 1.0)
        R = np.diag([(KF_POS * s) ** 2 for s in (sw, sh, sw, sh)])
        S = self.P[:4, :4] + R
        Kg = self.P[:, :4] @ np.linalg.inv(S)
        self.x = self.x + Kg @ (box - self.x[:4])
        self.x[2], self.x[3] = max(self.x[2], 1.0), max(self.x[3], 1.0)
        self.P = self.P - Kg @ self.P[:4, :]
        self.P = 0.5 * (self.P + self.P.T)


def kalman_one_step(trajs):
    """Kalman's predicted boxes for observations 2.. of each trajectory (the same steps windows(one_step_only) yields)."""
    preds = []
    for (t, obs, truth) in trajs:
        if len(t) < 3:
            continue
        kf = Kalman(obs[0])
        for q in range(1, len(t)):
            kf.predict(t[q] - t[q - 1])
            if q >= 2:
                preds.append(kf.x[:4].copy())
            kf.update(obs[q])
    return np.asarray(preds)


def box_errors(pred, truth):
    """Mean centre error (pixels), mean centre error in box heights, mean IoU."""
    d = np.hypot(pred[:, 0] - truth[:, 0], pred[:, 1] - truth[:, 1])
    ax1, ay1, ax2, ay2 = pred[:, 0] - pred[:, 2] / 2, pred[:, 1] - pred[:, 3] / 2, pred[:, 0] + pred[:, 2] / 2, pred[:, 1] + pred[:, 3] / 2
    bx1, by1, bx2, by2 = truth[:, 0] - truth[:, 2] / 2, truth[:, 1] - truth[:, 3] / 2, truth[:, 0] + truth[:, 2] / 2, truth[:, 1] + truth[:, 3] / 2
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    iou = inter / (pred[:, 2] * pred[:, 3] + truth[:, 2] * truth[:, 3] - inter)
    return float(d.mean()), float((d / truth[:, 3]).mean()), float(iou.mean())


def evaluate(model, trajs, rng):
    x, hz, y, last, truth = windows(trajs, rng, 0, one_step_only=True)
    with torch.no_grad():
        mean, _ = model(torch.from_numpy(x), torch.from_numpy(hz))
    net = decode(last, mean.numpy().astype(np.float64))
    kf = kalman_one_step(trajs)
    assert kf.shape == net.shape, (kf.shape, net.shape)
    return {"steps": int(len(truth)), "learned": box_errors(net, truth), "kalman": box_errors(kf, truth)}


# --------------------------------------------------------------------------------------------------------------------

def main():
    global K
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=os.path.join(repo, "..", "shared", "data", "mot15"), help="MOT15 folder (TUD-Campus, TUD-Stadtmitte)")
    ap.add_argument("--out", default=os.path.join(repo, "models", "motion-gru.onnx"), help="ONNX file to write")
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest for this small model on 2 cores)")
    ap.add_argument("--history", type=int, default=K, help="observations per track fed to the network (2..16)")
    ap.add_argument("--hidden", type=int, default=32, help="GRU width")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--synthetic", type=int, default=12000, help="synthetic training trajectories")
    ap.add_argument("--real-copies", type=int, default=0, help="augmented copies of each real MOT15 training trajectory; default 0 = synthetic only (the shipped model: weights free of MOT15's non-commercial licence)")
    ap.add_argument("--dancing", type=int, default=3000, help="extra non-linear synthetic trajectories (dancing, weaving, tight turns); 0 = none")
    ap.add_argument("--save-weights", default=None, help="also save the PyTorch weights here (for analysis)")
    ap.add_argument("--report", default=None, help="also write the validation report as JSON here")
    args = ap.parse_args()
    K = args.history

    start = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    # Real trajectories, split by id.
    train_real, val_real = {}, {}
    for seq in SEQUENCES:
        gt = os.path.join(args.data, seq, "gt", "gt.txt")
        if not os.path.exists(gt):
            sys.exit(f"train.py: {gt} not found (pass --data; see ../shared/data/README.md)")
        for tid, tr in read_gt(gt).items():
            (val_real if held_out(tid) else train_real)[f"{seq}/{tid}"] = tr
    print(f"real tracks: {len(train_real)} train, {len(val_real)} held out ({', '.join(sorted(val_real))})", flush=True)

    trajs = synthetic(rng, args.synthetic) + from_real(rng, train_real, args.real_copies)
    if args.dancing > 0:
        trajs += dancing(np.random.default_rng(args.seed + 2000), args.dancing)
    x, hz, y, _, _ = windows(trajs, rng, per_traj=12)
    print(f"training samples: {len(x)} from {len(trajs)} trajectories ({time.time() - start:.0f} s)", flush=True)

    # Validation: held-out synthetic trajectories (own seed stream), held-out real ones clean (ground truth as
    # observations) and with detection-like noise at the level measured for the MOT15 public detections.
    vrng = np.random.default_rng(args.seed + 1000)
    val_syn = synthetic(vrng, 600)
    val_dance = dancing(np.random.default_rng(args.seed + 3000), 300)
    val_clean = [((f - f[0]) / 25.0, b, b) for f, b in val_real.values()]
    det_noise = np.array([0.12, 0.045, 0.17, 0.10])
    val_noisy = [(t, observe(vrng, b, det_noise), b) for (t, _, b) in val_clean]
    val_dets = []
    for seq in SEQUENCES:
        for det in ("det-frcnn", "det-acf"):
            val_dets += matched_detections(os.path.join(args.data, seq, "gt", "gt.txt"), os.path.join(args.data, seq, "det", det + ".txt"), held_out)

    model = MotionGru(args.hidden)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    batch = 512
    steps_per_epoch = (len(x) + batch - 1) // batch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=args.epochs * steps_per_epoch, pct_start=0.15)
    xt, ht, yt = torch.from_numpy(x), torch.from_numpy(hz), torch.from_numpy(y)
    g = torch.Generator().manual_seed(args.seed)
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(x), generator=g)
        total = 0.0
        for b in range(steps_per_epoch):
            idx = perm[b * batch:(b + 1) * batch]
            mean, log_var = model(xt[idx], ht[idx])
            loss = loss_fn(mean, log_var, yt[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        model.eval()
        r = evaluate(model, val_dets, np.random.default_rng(0))
        print(f"epoch {epoch + 1}/{args.epochs}: beta-NLL {total / len(x):.4f}; held-out tracks through real detections: centre error "
              f"learned {r['learned'][0]:.2f} px vs Kalman {r['kalman'][0]:.2f} px ({time.time() - start:.0f} s)", flush=True)

    model.eval()
    report = {"parameters": params, "seed": args.seed, "threads": args.threads}
    for name, val in (("synthetic", val_syn), ("dancing", val_dance), ("real_clean", val_clean), ("real_noisy", val_noisy), ("real_dets", val_dets)):
        report[name] = evaluate(model, val, np.random.default_rng(0))
    report["train_seconds"] = round(time.time() - start, 1)
    if args.save_weights:
        torch.save(model.state_dict(), args.save_weights)

    # Export: dynamic batch of tracks. torch 1.13 still warns that a GRU exported with batch != 1 may fail at other batch
    # sizes; the initial state is built from the input's shape, and OnnxMotionModelTests checks batches of 1 and 100 agree.
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    ex_x, ex_h = torch.from_numpy(x[:4]), torch.from_numpy(hz[:4])
    axes = {"history": {0: "tracks"}, "horizon": {0: "tracks"}, "mean": {0: "tracks"}, "log_var": {0: "tracks"}}
    torch.onnx.export(model, (ex_x, ex_h), args.out, input_names=["history", "horizon"], output_names=["mean", "log_var"],
                      dynamic_axes=axes, opset_version=17, do_constant_folding=True)
    import onnx
    m = onnx.load(args.out)
    meta = {"streamvision.motion.version": "1", "streamvision.motion.history": str(K), "streamvision.motion.features": str(FEATURES),
            "streamvision.motion.tau_seconds": repr(TAU), "streamvision.motion.seed": str(args.seed)}
    for k, v in meta.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.doc_string = "StreamVision learned motion model (GRU); see models/README.md"
    onnx.checker.check_model(m)
    onnx.save(m, args.out)
    size = os.path.getsize(args.out)
    report["onnx_bytes"] = size

    print(f"parameters: {params}; wrote {args.out} ({size / 1024:.0f} KB) in {time.time() - start:.0f} s")
    print("one-step prediction on held-out trajectories (centre error px | centre error / box height | mean IoU):")
    for name in ("synthetic", "dancing", "real_clean", "real_noisy", "real_dets"):
        r = report[name]
        lr, kr = r["learned"], r["kalman"]
        print(f"  {name:10s} {r['steps']:6d} steps  learned {lr[0]:6.2f} px {lr[1]:.4f} IoU {lr[2]:.3f} | Kalman {kr[0]:6.2f} px {kr[1]:.4f} IoU {kr[2]:.3f}")
    if args.report:
        with open(args.report, "w") as fh:
            json.dump(report, fh, indent=2)


if __name__ == "__main__":
    main()
