#!/usr/bin/python3
"""Trains models/colour-classifier.onnx: the colour of an object in a track crop (9 classes), from images we render.

    /usr/bin/python3 tools/train-classifier/train.py [--out models/colour-classifier.onnx] [--seed 5]

No downloaded data: every training and test image is drawn here with numpy (an object of one colour class — box,
ellipse, rounded "car" body with dark windows, or a "person" blob — with shading, highlights, noise and blur over a
random textured background, filling 45-100 % of the crop). The held-out set is drawn from another seed with the same
recipe plus shapes rotated by 90 degrees. Debian's python3-torch (CPU, one thread) and python3-onnx.
"""
import argparse
import colorsys
import time

import numpy as np
import torch
import torch.nn as nn

CLASSES = ["black", "white", "grey", "red", "orange", "yellow", "green", "blue", "purple"]
SIZE = 32


def class_colour(rng, c):
    """An RGB colour (0..1) well inside class c's region of HSV space."""
    name = CLASSES[c]
    if name == "black":
        return colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 0.6), rng.uniform(0.0, 0.14))
    if name == "white":
        return colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 0.08), rng.uniform(0.88, 1.0))
    if name == "grey":
        return colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 0.08), rng.uniform(0.35, 0.7))
    hues = {"red": (-12, 8), "orange": (20, 34), "yellow": (50, 60), "green": (95, 150), "blue": (205, 240), "purple": (272, 300)}
    lo, hi = hues[name]
    h = (rng.uniform(lo, hi) % 360) / 360.0
    s = rng.uniform(0.6, 1.0)
    v = rng.uniform(0.45, 1.0) if name != "yellow" else rng.uniform(0.75, 1.0)
    return colorsys.hsv_to_rgb(h, s, v)


def render(rng, c, rotate=False):
    """One SIZE x SIZE RGB image (float 0..1) of an object of colour class c."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32) / (SIZE - 1)
    # Background: any colour, a gradient and texture.
    bg = np.array(colorsys.hsv_to_rgb(rng.random(), rng.uniform(0, 1), rng.uniform(0.1, 1)), np.float32)
    grad = 1 + rng.uniform(-0.3, 0.3) * (xx - 0.5) + rng.uniform(-0.3, 0.3) * (yy - 0.5)
    img = bg[None, None, :] * grad[..., None] + rng.normal(0, rng.uniform(0, 0.08), (SIZE, SIZE, 3))
    # Object: fills most of the crop (a detector's box is tight around it).
    w, h = rng.uniform(0.6, 1.0), rng.uniform(0.6, 1.0)
    cx, cy = rng.uniform(0.5 - (1 - w) / 2, 0.5 + (1 - w) / 2), rng.uniform(0.5 - (1 - h) / 2, 0.5 + (1 - h) / 2)
    dx, dy = (xx - cx) / (w / 2), (yy - cy) / (h / 2)
    kind = rng.integers(4)
    if kind == 0:
        mask = (np.abs(dx) <= 1) & (np.abs(dy) <= 1)
    elif kind == 1:
        mask = dx ** 2 + dy ** 2 <= 1
    elif kind == 2:  # car: rounded body, cabin on top
        mask = ((np.abs(dx) <= 1) & (dy >= -0.1) & (dy <= 1)) | ((np.abs(dx) <= 0.6) & (dy >= -1) & (dy < -0.1))
    else:  # person: head and body
        mask = ((dx * 2.5) ** 2 + ((dy + 0.75) * 4) ** 2 <= 1) | ((np.abs(dx) <= 0.55) & (dy >= -0.5) & (dy <= 1))
    if rotate:
        mask = mask.T
    col = np.array(class_colour(rng, c), np.float32)
    achromatic = CLASSES[c] in ("black", "white", "grey")
    shade = 1 + rng.uniform(-0.15, 0.1 if achromatic else 0.15) * dy + rng.uniform(-0.1, 0.1) * dx
    obj = col[None, None, :] * shade[..., None]
    if kind == 2 and rng.random() < 0.8:  # dark windows on the cabin
        win = (np.abs(dx) <= 0.5) & (dy >= -0.9) & (dy < -0.2)
        if rotate:
            win = win.T
        obj[win] = obj[win] * 0.25
    if rng.random() < 0.5:  # a specular highlight
        hx, hy, r = rng.uniform(0.2, 0.8), rng.uniform(0.2, 0.8), rng.uniform(0.03, 0.08)
        spot = (xx - hx) ** 2 + (yy - hy) ** 2 <= r * r
        obj[spot] = obj[spot] * 0.4 + 0.6
    img = np.where(mask[..., None], obj, img)
    img = img + rng.normal(0, rng.uniform(0, 0.05), img.shape)
    if rng.random() < 0.5:  # a little blur (a distant or moving object): [1 2 1] / 4 both ways, edges repeated
        p = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
        img = 0.25 * p[:-2, 1:-1] + 0.5 * p[1:-1, 1:-1] + 0.25 * p[2:, 1:-1]
        p = np.pad(img, ((0, 0), (1, 1), (0, 0)), mode="edge")
        img = 0.25 * p[:, :-2] + 0.5 * p[:, 1:-1] + 0.25 * p[:, 2:]
    return np.clip(img, 0, 1).astype(np.float32)


def dataset(seed, n, rotate_share=0.0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(len(CLASSES), size=n)
    images = np.stack([render(rng, int(c), rotate=rng.random() < rotate_share) for c in labels])
    # 8-bit like a decoded frame, then the model's input scaling (v / 255).
    images = np.round(images * 255) / 255
    return torch.from_numpy(images.transpose(0, 3, 1, 2).copy()), torch.from_numpy(labels.astype(np.int64))


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.f = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 48, 3, padding=1), nn.BatchNorm2d(48), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(48, len(CLASSES)))

    def forward(self, x):
        return self.f(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="models/colour-classifier.onnx")
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--train", type=int, default=16000)
    ap.add_argument("--test", type=int, default=2000)
    ap.add_argument("--epochs", type=int, default=8)
    a = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    t0 = time.time()
    xtr, ytr = dataset(a.seed, a.train)
    xte, yte = dataset(a.seed + 1000, a.test, rotate_share=0.3)
    print(f"rendered {a.train} + {a.test} images in {time.time() - t0:.0f} s", flush=True)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.epochs)
    g = torch.Generator().manual_seed(a.seed)
    for ep in range(a.epochs):
        net.train()
        perm = torch.randperm(a.train, generator=g)
        total = 0.0
        for i in range(0, a.train, 128):
            idx = perm[i:i + 128]
            x = xtr[idx]
            if torch.rand(1, generator=g).item() < 0.5:
                x = x.flip(3)
            loss = nn.functional.cross_entropy(net(x), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        net.eval()
        with torch.no_grad():
            acc = (net(xte).argmax(1) == yte).float().mean().item()
        print(f"epoch {ep + 1}: loss {total / a.train:.4f}, held-out accuracy {acc:.4f} ({time.time() - t0:.0f} s)", flush=True)
    net.eval()
    with torch.no_grad():
        pred = net(xte).argmax(1)
    print("class precision recall support")
    for c, name in enumerate(CLASSES):
        tp = int(((pred == c) & (yte == c)).sum())
        p = tp / max(1, int((pred == c).sum()))
        r = tp / max(1, int((yte == c).sum()))
        print(f"{name} {p:.3f} {r:.3f} {int((yte == c).sum())}")
    print(f"accuracy {(pred == yte).float().mean().item():.4f} on {a.test} held-out images; {sum(p.numel() for p in net.parameters())} parameters; {time.time() - t0:.0f} s")
    dummy = torch.zeros(1, 3, SIZE, SIZE)
    torch.onnx.export(net, dummy, a.out, input_names=["images"], output_names=["logits"],
                      dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    import onnx
    m = onnx.load(a.out)
    names = "{" + ", ".join(f"{i}: '{n}'" for i, n in enumerate(CLASSES)) + "}"
    for k, v in {"names": names, "output": "logits", "imgsz": f"[{SIZE}, {SIZE}]", "color_order": "rgb", "task": "classify",
                 "streamvision.classifier.seed": str(a.seed)}.items():
        e = m.metadata_props.add()
        e.key, e.value = k, v
    onnx.save(m, a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
