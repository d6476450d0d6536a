#!/usr/bin/python3
"""Train StreamVision's low-light + denoise enhancement model and export it as one ONNX model.

A small fully convolutional network (any even frame size) maps a dark, noisy RGB frame to a brighter, cleaner one:
out = x * exp(log_gain) + residual, both predicted at half resolution from the frame and its global statistics.
Training data: clips rendered by FFmpeg's lavfi sources (nothing downloaded, nothing we may not ship weights from),
degraded here the way a dark camera degrades them (exposure 8-60 %, a gamma shift, shot and read noise, 8-bit
quantisation); the target is the untouched frame. Evaluation: held-out lavfi sources never used in training (PSNR and
SSIM against the untouched frame, for the dark input, an oracle global gain and the model).

Run with Debian's PyTorch (CPU):  /usr/bin/python3 tools/train-enhance/train.py   (see README.md in this folder)
Deterministic for a given --seed and --threads.
"""
import argparse
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import trainlib  # noqa: E402  (tools/trainlib.py: lavfi clips, the end of a run)

W, H = 320, 180            # rendered clip size
FPS, SECONDS = 2, 30       # 60 frames per clip
PATCH = 96

TRAIN_LAVFI = [
    "testsrc2=s=320x180:r=2",
    "mandelbrot=s=320x180:r=2:start_scale=2:end_scale=0.05",
    "mandelbrot=s=320x180:r=2:start_x=-0.743643887:start_y=0.131825904:end_scale=0.002",
    "life=s=320x180:r=2:seed=1:mold=10:ratio=0.3:life_color=#c0a080:death_color=#203040:mold_color=#405020",
    "cellauto=s=320x180:r=2:rule=30:seed=3,format=rgb24,hue=H=1",
    "smptehdbars=s=320x180:r=2",
    "gradients=s=320x180:r=2:speed=0.02:seed=5",
    "gradients=s=320x180:r=2:speed=0.05:seed=6:nb_colors=5",
    "yuvtestsrc=s=320x180:r=2",
    "pal75bars=s=320x180:r=2",
]
HELDOUT_LAVFI = [
    "testsrc=s=320x180:r=2",
    "sierpinski=s=320x180:r=2:seed=7:jump=30,format=rgb24,hue=H=2",
    "rgbtestsrc=s=320x180:r=2",
    "smptebars=s=320x180:r=2,hue=H=t/2",
    "gradients=s=320x180:r=2:speed=0.03:seed=11:nb_colors=3",
]


def render(spec, cache):
    """uint8 [frames, H, W, 3] RGB of a lavfi source (cached)."""
    return trainlib.render_lavfi(spec, SECONDS, W, H, cache)


def degrade(clean, rng, exposure=None, read=None):
    """clean float [N, 3, h, w] 0..1 -> a dark, noisy 8-bit capture of it (float 0..1)."""
    n = clean.shape[0]
    exp_ = torch.tensor(exposure if exposure is not None else rng.uniform(0.08, 0.6, n), dtype=torch.float32).view(-1, 1, 1, 1)
    gamma = torch.tensor(rng.uniform(0.9, 1.2, n) if exposure is None else np.ones(n), dtype=torch.float32).view(-1, 1, 1, 1)
    dark = exp_ * clean.clamp(0, 1) ** gamma
    # Shot noise (grows with the signal) and read noise, in 8-bit levels.
    shot = torch.tensor(rng.uniform(0.5, 2.0, n) if read is None else np.ones(n), dtype=torch.float32).view(-1, 1, 1, 1)
    rd = torch.tensor(read if read is not None else rng.uniform(0.5, 5.0, n), dtype=torch.float32).view(-1, 1, 1, 1)
    g = torch.Generator().manual_seed(int(rng.integers(1 << 31)))
    sigma = torch.sqrt((shot * torch.sqrt(dark * 255).clamp(min=0)) ** 2 + rd ** 2) / 255
    noisy = dark + sigma * torch.randn(dark.shape, generator=g)
    return torch.round(noisy.clamp(0, 1) * 255) / 255


class Enhancer(nn.Module):
    """Half-resolution features with a global context; a per-pixel log-gain and a residual, back at full resolution."""

    def __init__(self, c=24):
        super().__init__()
        self.down = nn.Conv2d(3, c, 3, 2, 1)
        self.ctx = nn.Linear(c, c)
        self.b1 = nn.Conv2d(c, c, 3, 1, 1)
        self.b2 = nn.Conv2d(c, c, 3, 1, 1)
        self.up = nn.ConvTranspose2d(c, 6, 2, 2)

    def forward(self, x):
        a = F.relu(self.down(x))
        g = F.relu(self.ctx(a.mean(dim=(2, 3))))[:, :, None, None]
        b = F.relu(self.b1(a + g))
        b = F.relu(self.b2(b)) + a
        o = self.up(b)
        return x * torch.exp(o[:, 0:3]) + o[:, 3:6]


class Export(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, image):
        return self.net(image).clamp(0, 1)


def psnr(a, b):
    mse = float(((a - b) ** 2).mean())
    return 10 * math.log10(1 / max(mse, 1e-12))


def ssim(a, b):
    """Mean SSIM of the luma (BT.601) with an 11x11 Gaussian window (sigma 1.5), images 0..1 [3, h, w]."""
    wts = torch.tensor([0.299, 0.587, 0.114]).view(3, 1, 1)
    x, y = (a * wts).sum(0)[None, None], (b * wts).sum(0)[None, None]
    k = torch.exp(-torch.arange(-5, 6, dtype=torch.float32) ** 2 / (2 * 1.5 ** 2))
    k = k / k.sum()
    win = (k[:, None] * k[None, :]).view(1, 1, 11, 11)
    mx, my = F.conv2d(x, win), F.conv2d(y, win)
    sxx = F.conv2d(x * x, win) - mx ** 2
    syy = F.conv2d(y * y, win) - my ** 2
    sxy = F.conv2d(x * y, win) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx ** 2 + my ** 2 + c1) * (sxx + syy + c2))
    return float(s.mean())


LEVELS = [("exposure 0.15, read noise 2", 0.15, 2.0), ("exposure 0.3, read noise 3", 0.3, 3.0), ("exposure 0.08, read noise 1", 0.08, 1.0)]


def evaluate(model, clips, seed):
    rng = np.random.default_rng(seed)
    rows = []
    model.eval()
    for name, exposure, read in LEVELS:
        acc = {k: [] for k in ("psnr_dark", "psnr_gain", "psnr_model", "ssim_dark", "ssim_gain", "ssim_model")}
        for clip in clips:
            for t in range(0, len(clip), 6):
                clean = torch.from_numpy(clip[t].astype(np.float32) / 255).permute(2, 0, 1)[None]
                dark = degrade(clean, rng, exposure=[exposure], read=[read])
                # Oracle global gain: the dark frame scaled so its mean matches the untouched frame's (knows the truth).
                gain = (dark * (clean.mean() / dark.mean().clamp(min=1e-4))).clamp(0, 1)
                with torch.no_grad():
                    out = model(dark).clamp(0, 1)
                for key, img in (("dark", dark), ("gain", gain), ("model", out)):
                    acc["psnr_" + key].append(psnr(img[0], clean[0]))
                    acc["ssim_" + key].append(ssim(img[0], clean[0]))
        rows.append({"degradation": name, "frames": len(acc["psnr_dark"]), **{k: round(float(np.mean(v)), 3) for k, v in acc.items()}})
    # A clean frame through the model: how much it changes a picture that needs nothing.
    acc = []
    for clip in clips:
        clean = torch.from_numpy(clip[0].astype(np.float32) / 255).permute(2, 0, 1)[None]
        with torch.no_grad():
            acc.append(psnr(model(clean).clamp(0, 1)[0], clean[0]))
    return {"levels": rows, "psnr_untouched_clean_input": round(float(np.mean(acc)), 2)}


def export(model, path, seed):
    import onnx
    m = Export(model).eval()
    torch.onnx.export(m, torch.rand(1, 3, 64, 96), path, opset_version=17, input_names=["image"], output_names=["enhanced"],
                      dynamic_axes={"image": {2: "height", 3: "width"}, "enhanced": {2: "height", 3: "width"}})
    om = onnx.load(path)
    meta = {"streamvision.enhance.channels": "rgb", "streamvision.enhance.range": "1", "streamvision.enhance.multiple": "2",
            "streamvision.enhance.task": "low-light+denoise", "streamvision.enhance.seed": str(seed)}
    for k, v in meta.items():
        p = om.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(om)
    onnx.save(om, path)


def degrade_video(src, dst, exposure, read, seed):
    """Writes a dark, noisy copy of the video src (for the detection-recall check): same degradation, fixed levels."""
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=width,height,r_frame_rate",
                            "-of", "csv=p=0", src], check=True, capture_output=True, text=True).stdout.strip().split(",")
    w, h, rate = int(probe[0]), int(probe[1]), probe[2]
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", src, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    rng = np.random.default_rng(seed)
    out = np.empty_like(frames)
    for i, f in enumerate(frames):
        clean = torch.from_numpy(f.astype(np.float32) / 255).permute(2, 0, 1)[None]
        out[i] = (degrade(clean, rng, exposure=[exposure], read=[read])[0].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", rate, "-i", "-",
                    "-c:v", "libx264", "-qp", "0", "-pix_fmt", "yuv444p", dst], input=out.tobytes(), check=True)
    print(f"wrote {dst}: {len(frames)} frames, exposure {exposure}, read noise {read}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models/enhance-lowlight.onnx")
    ap.add_argument("--cache", default="out/train-enhance", help="rendered clips are kept here (git-ignored)")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--report", default=None, help="write the evaluation as JSON here")
    ap.add_argument("--degrade-video", nargs=2, metavar=("IN", "OUT"), help="only write a dark, noisy copy of a video and exit")
    ap.add_argument("--exposure", type=float, default=0.15)
    ap.add_argument("--read-noise", type=float, default=2.0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    if a.degrade_video:
        degrade_video(a.degrade_video[0], a.degrade_video[1], a.exposure, a.read_noise, a.seed)
        return
    t0, c0 = time.time(), time.process_time()
    os.makedirs(a.cache, exist_ok=True)
    train = [render(s, a.cache) for s in TRAIN_LAVFI]
    held = [render(s, a.cache) for s in HELDOUT_LAVFI]
    print(f"clips: {len(train)} train ({sum(len(c) for c in train)} frames), {len(held)} held out; {time.time() - t0:.0f} s", flush=True)
    model = Enhancer()
    print(f"parameters: {sum(p.numel() for p in model.parameters())}", flush=True)
    rng = np.random.default_rng(a.seed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=a.steps, pct_start=0.1)
    avg = None
    for step in range(a.steps):
        batch = []
        for _ in range(a.batch):
            clip = train[int(rng.integers(len(train)))]
            f = clip[int(rng.integers(len(clip)))]
            y, x = int(rng.integers(0, H - PATCH + 1)), int(rng.integers(0, W - PATCH + 1))
            p = f[y:y + PATCH, x:x + PATCH]
            if rng.random() < 0.5:
                p = p[:, ::-1]
            batch.append(np.ascontiguousarray(p))
        clean = torch.from_numpy(np.stack(batch).astype(np.float32) / 255).permute(0, 3, 1, 2)
        # A few clean inputs (exposure 1, little noise): a frame that needs nothing should come out nearly unchanged.
        exposure = np.where(rng.random(a.batch) < 0.1, 1.0, rng.uniform(0.08, 0.6, a.batch))
        dark = degrade(clean, rng, exposure=exposure, read=rng.uniform(0.5, 5.0, a.batch))
        model.train()
        out = model(dark)
        loss = F.l1_loss(out, clean)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        avg = loss.item() if avg is None else 0.95 * avg + 0.05 * loss.item()
        if step % 100 == 0 or step == a.steps - 1:
            print(f"step {step:5d} l1 {avg:.4f}  {time.time() - t0:.0f} s", flush=True)
    rep = evaluate(model, held, seed=99)
    rep["train_seconds_wall"] = round(time.time() - t0)
    rep["train_seconds_cpu"] = round(time.process_time() - c0)
    rep["parameters"] = sum(p.numel() for p in model.parameters())
    trainlib.finish(rep, a.report, a.out, lambda path: export(model, path, a.seed))


if __name__ == "__main__":
    main()
