#!/usr/bin/python3
"""Writes a YOLO-sized benchmark workload: a network with the published YOLOv8n layer structure, random weights,
exported to ONNX with the Ultralytics detection output layout [1, 84, 8400].

    /usr/bin/python3 tools/make-yolo-workload/make.py [--out .deps/bench/yolov8n-structure.onnx] [--size 640] [--seed 0]

It is a speed workload, never a detector: the weights are PyTorch's random initialisation (the speed of a network is its
graph's), so it finds nothing; the class biases start where detectors are initialised (about 5 objects per image at
640, sigmoid scores far below any threshold), so decoding and NMS see the few candidates a real model gives on an empty
scene, not 8,400. Built from the structure as published (depth 0.33, width 0.25, max channels 1024: backbone of strided
3x3 convolutions and C2f blocks with 1-2-2-1 bottlenecks, SPPF, a PAN neck, a decoupled anchor-free head with a
16-bin distribution focal loss decode at strides 8/16/32); convolutions carry their batch norm folded in as a bias, as
exported models do. Never committed: set-up or the benchmark makes it (Debian's python3-torch, `setup --training`).
"""
import argparse
import math
import os

import torch
from torch import nn

NUM_CLASSES = 80
REG_MAX = 16
STRIDES = (8, 16, 32)


class Conv(nn.Module):
    """Convolution with its batch norm folded into the bias, then SiLU."""

    def __init__(self, c_in, c_out, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, bias=True)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.conv(x))


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1 = Conv(c, c, 3)
        self.cv2 = Conv(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """Split the 1x1 projection in two halves, chain n bottlenecks on the second, concatenate every stage, project."""

    def __init__(self, c_in, c_out, n, shortcut):
        super().__init__()
        self.c = c_out // 2
        self.cv1 = Conv(c_in, 2 * self.c, 1)
        self.cv2 = Conv((2 + n) * self.c, c_out, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        parts = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            parts.append(m(parts[-1]))
        return self.cv2(torch.cat(parts, 1))


class SPPF(nn.Module):
    def __init__(self, c_in, c_out, k=5):
        super().__init__()
        hidden = c_in // 2
        self.cv1 = Conv(c_in, hidden, 1)
        self.cv2 = Conv(hidden * 4, c_out, 1)
        self.pool = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat((x, y1, y2, self.pool(y2)), 1))


class Head(nn.Module):
    """Decoupled head: per level a box branch (4 x 16 distribution bins) and a class branch; outputs [B, 84, anchors]
    with boxes as centre x, centre y, width, height in input pixels and sigmoid class scores."""

    def __init__(self, channels, size):
        super().__init__()
        c_box = max(16, channels[0] // 4, REG_MAX * 4)
        c_cls = max(channels[0], min(NUM_CLASSES, 100))
        self.box = nn.ModuleList(
            nn.Sequential(Conv(c, c_box, 3), Conv(c_box, c_box, 3), nn.Conv2d(c_box, 4 * REG_MAX, 1)) for c in channels)
        self.cls = nn.ModuleList(
            nn.Sequential(Conv(c, c_cls, 3), Conv(c_cls, c_cls, 3), nn.Conv2d(c_cls, NUM_CLASSES, 1)) for c in channels)
        for seq, stride in zip(self.cls, STRIDES):
            # Detector initialisation: about 5 objects per image at this level (prior probability of a class per cell).
            nn.init.constant_(seq[-1].bias, math.log(5 / NUM_CLASSES / (640 / stride) ** 2))
        # The fixed distribution-to-distance projection (expectation over the 16 bins).
        self.register_buffer("bins", torch.arange(REG_MAX, dtype=torch.float32).view(1, 1, REG_MAX, 1))
        anchors, strides = [], []
        for stride in STRIDES:
            n = size // stride
            ys, xs = torch.meshgrid(torch.arange(n) + 0.5, torch.arange(n) + 0.5, indexing="ij")
            anchors.append(torch.stack((xs.flatten(), ys.flatten()), 0))
            strides.append(torch.full((1, n * n), float(stride)))
        self.register_buffer("anchors", torch.cat(anchors, 1).unsqueeze(0))   # [1, 2, A]
        self.register_buffer("strides", torch.cat(strides, 1).unsqueeze(0))   # [1, 1, A]

    def forward(self, feats):
        b = feats[0].shape[0]
        box = torch.cat([m(f).view(b, 4 * REG_MAX, -1) for m, f in zip(self.box, feats)], 2)
        cls = torch.cat([m(f).view(b, NUM_CLASSES, -1) for m, f in zip(self.cls, feats)], 2)
        dist = (box.view(b, 4, REG_MAX, -1).softmax(2) * self.bins).sum(2)    # [B, 4, A]: left, top, right, bottom
        lt, rb = dist.split(2, 1)
        top_left, bottom_right = self.anchors - lt, self.anchors + rb
        xywh = torch.cat(((top_left + bottom_right) / 2, bottom_right - top_left), 1) * self.strides
        return torch.cat((xywh, cls.sigmoid()), 1)


class YoloV8n(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.b0 = Conv(3, 16, 3, 2)
        self.b1 = Conv(16, 32, 3, 2)
        self.b2 = C2f(32, 32, 1, True)
        self.b3 = Conv(32, 64, 3, 2)
        self.b4 = C2f(64, 64, 2, True)        # P3
        self.b5 = Conv(64, 128, 3, 2)
        self.b6 = C2f(128, 128, 2, True)      # P4
        self.b7 = Conv(128, 256, 3, 2)
        self.b8 = C2f(256, 256, 1, True)
        self.b9 = SPPF(256, 256)              # P5
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.n12 = C2f(256 + 128, 128, 1, False)
        self.n15 = C2f(128 + 64, 64, 1, False)      # out P3
        self.n16 = Conv(64, 64, 3, 2)
        self.n18 = C2f(64 + 128, 128, 1, False)     # out P4
        self.n19 = Conv(128, 128, 3, 2)
        self.n21 = C2f(128 + 256, 256, 1, False)    # out P5
        self.head = Head((64, 128, 256), size)

    def forward(self, x):
        p3 = self.b4(self.b3(self.b2(self.b1(self.b0(x)))))
        p4 = self.b6(self.b5(p3))
        p5 = self.b9(self.b8(self.b7(p4)))
        n12 = self.n12(torch.cat((self.up(p5), p4), 1))
        o3 = self.n15(torch.cat((self.up(n12), p3), 1))
        o4 = self.n18(torch.cat((self.n16(o3), n12), 1))
        o5 = self.n21(torch.cat((self.n19(o4), p5), 1))
        return self.head((o3, o4, o5))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=".deps/bench/yolov8n-structure.onnx")
    ap.add_argument("--size", type=int, default=640, help="input width and height (a multiple of 32)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.size % 32:
        ap.error(f"--size must be a multiple of 32, got {args.size}")
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    model = YoloV8n(args.size).eval()
    params = sum(p.numel() for p in model.parameters())
    x = torch.zeros(1, 3, args.size, args.size)
    with torch.no_grad():
        y = model(x)
    anchors = sum((args.size // s) ** 2 for s in STRIDES)
    assert tuple(y.shape) == (1, 4 + NUM_CLASSES, anchors), y.shape
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    torch.onnx.export(model, x, tmp, opset_version=13, input_names=["images"], output_names=["output0"],
                      do_constant_folding=True)
    import onnx
    m = onnx.load(tmp)
    names = "{" + ", ".join(f"{i}: 'class{i}'" for i in range(NUM_CLASSES)) + "}"
    for key, value in (("description", "YOLOv8n layer structure, random weights: a speed workload, not a detector"),
                       ("task", "detect"), ("stride", "32"), ("imgsz", f"[{args.size}, {args.size}]"),
                       ("names", names)):
        p = m.metadata_props.add()
        p.key, p.value = key, value
    onnx.save(m, tmp)
    os.replace(tmp, args.out)
    print(f"wrote {args.out}: {params / 1e6:.2f} M parameters, input [1, 3, {args.size}, {args.size}], "
          f"output [1, {4 + NUM_CLASSES}, {anchors}]")


if __name__ == "__main__":
    main()
