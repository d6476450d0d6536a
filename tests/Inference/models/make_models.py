#!/usr/bin/python3
"""Builds the tiny ONNX models the Inference tests run (ONNX Runtime, no mocks).

    /usr/bin/python3 make_models.py OUTDIR

Needs Debian's python3-onnx and python3-numpy. Every model takes a float image [N, 3, 64, 64] (NCHW, RGB, 0..1) and
derives one number per image from it: s = the mean of channel 0 (red) over the centre 8x8 pixels (rows and columns
28..35). For a frame of one colour that is simply red / 255, so a test picks s through the frame's colour
(red = 51 * k gives s = 0.2 * k). Every output value is BASE + s * SLOPE with the constants below, so the expected
detections are known exactly and differ per image.

Boxes are in model-input pixels (64 x 64). The tests map them back to a 320x180 frame: letterbox scale 0.2, 14 rows of
padding on top (frame x = 5 x, frame y = 5 (y - 14)); SSD uses a plain stretch (frame x = 5 x, frame y = 2.8125 y).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
SIZE = 64
NAMES = "{0: 'person', 1: 'car'}"

# Candidate rows shared by the YOLO models: (cx, cy, w, h) base, (cx, cy, w, h) slope, person, car, score slope.
#   0: person 0.9                                  -> kept
#   1: person 0.8, shifted 1 px right of row 0     -> suppressed by row 0 (IoU 0.78)
#   2: car 0.7, shifted 1 px down from row 0       -> kept by class-aware NMS, suppressed by class-agnostic (IoU 0.71)
#   3: car 0.35 + 0.5 s, apart from the others     -> kept when s >= 0.2 (score 0.45 at s = 0.2 is under 0.5)
#   4: person 0.2 (YOLOv5: objectness 0.9 x class 0.5 = 0.45) -> under the 0.5 threshold
#   5..7: all zero
YOLO_ROWS = [
    ((16, 32, 8, 6), (20, 0, 0, 0), 0.9, 0.1, 0.0),
    ((17, 32, 8, 6), (20, 0, 0, 0), 0.8, 0.0, 0.0),
    ((16, 33, 8, 6), (20, 0, 0, 0), 0.0, 0.7, 0.0),
    ((50, 24, 6, 4), (0, 10, 0, 0), 0.0, 0.35, 0.5),
    ((10, 50, 4, 4), (0, 0, 0, 0), 0.2, 0.0, 0.0),
]
ANCHORS = 8


def f32(a):
    return np.asarray(a, dtype=np.float32)


def image_input(name="images", batch="batch", elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, [batch, 3, SIZE, SIZE])


def centre_mean(nodes, inits, image="images"):
    """Appends nodes computing s [N, 1, 1] from the image; returns the name of s."""
    inits += [
        numpy_helper.from_array(np.array([0, 28, 28], np.int64), "centre_starts"),
        numpy_helper.from_array(np.array([1, 36, 36], np.int64), "centre_ends"),
        numpy_helper.from_array(np.array([1, 2, 3], np.int64), "centre_axes"),
        numpy_helper.from_array(np.array([-1, 1, 1], np.int64), "s_shape"),
    ]
    nodes += [
        helper.make_node("Slice", [image, "centre_starts", "centre_ends", "centre_axes"], ["centre"]),
        helper.make_node("ReduceMean", ["centre"], ["centre_mean"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["centre_mean", "s_shape"], ["s"]),
    ]
    return "s"


def affine(nodes, inits, s, base, slope, out):
    """out = base + s * slope (broadcast over the batch)."""
    inits += [numpy_helper.from_array(f32(base), out + "_base"), numpy_helper.from_array(f32(slope), out + "_slope")]
    nodes += [
        helper.make_node("Mul", [s, out + "_slope"], [out + "_scaled"]),
        helper.make_node("Add", [out + "_base", out + "_scaled"], [out]),
    ]


def yolov8_tables():
    base = np.zeros((6, ANCHORS), np.float32)
    slope = np.zeros((6, ANCHORS), np.float32)
    for j, (b, bs, person, car, cs) in enumerate(YOLO_ROWS):
        base[0:4, j], slope[0:4, j] = b, bs
        base[4, j], base[5, j], slope[5, j] = person, car, cs
    return base[None], slope[None]  # [1, 4 + C, A]


def yolov5_tables():
    base = np.zeros((ANCHORS, 7), np.float32)
    slope = np.zeros((ANCHORS, 7), np.float32)
    for j, (b, bs, person, car, cs) in enumerate(YOLO_ROWS):
        base[j, 0:4], slope[j, 0:4] = b, bs
        if j == 4:
            base[j, 4:7] = (0.9, 0.5, 0.4)  # objectness passes, objectness x class does not
        elif person >= car:
            base[j, 4:7] = (person, 1.0, 0.0)
        else:
            base[j, 4:7], slope[j, 4] = (car, 0.0, 1.0), cs
    return base[None], slope[None]  # [1, A, 5 + C]


def save(path, nodes, inits, inputs, outputs, names=None):
    graph = helper.make_graph(nodes, os.path.splitext(os.path.basename(path))[0], inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="streamvision-tests")
    model.ir_version = 8
    if names is not None:
        helper.set_model_props(model, {"names": names, "stride": "32", "task": "detect"})
    onnx.checker.check_model(model)
    onnx.save(model, path)


def yolov8(path, batch="batch", names=NAMES):
    nodes, inits = [], []
    s = centre_mean(nodes, inits)
    base, slope = yolov8_tables()
    affine(nodes, inits, s, base, slope, "output0")
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, [batch, 6, ANCHORS])
    save(path, nodes, inits, [image_input(batch=batch)], [out], names)


def yolov8_nonfinite(path):
    """yolov8.onnx plus three broken rows, as an overflowing or badly exported model gives them:
    5: person score +inf (box fine), 6: box width +inf (person 0.9), 7: box centre x NaN (car 0.95)."""
    nodes, inits = [], []
    s = centre_mean(nodes, inits)
    base, slope = yolov8_tables()
    base[0, 0:4, 5], base[0, 4, 5] = (40, 10, 6, 6), np.inf
    base[0, 0:4, 6], base[0, 4, 6] = (10, 10, np.inf, 6), 0.9
    base[0, 0:4, 7], base[0, 5, 7] = (np.nan, 40, 6, 6), 0.95
    affine(nodes, inits, s, base, slope, "output0")
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 6, ANCHORS])
    save(path, nodes, inits, [image_input()], [out], NAMES)


def yolov5(path):
    nodes, inits = [], []
    s = centre_mean(nodes, inits)
    base, slope = yolov5_tables()
    affine(nodes, inits, s, base, slope, "output0")
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", ANCHORS, 7])
    save(path, nodes, inits, [image_input()], [out], NAMES)


def ssd(path):
    """torchvision-style: one image, outputs boxes [K, 4] (x1, y1, x2, y2 input pixels), scores [K], labels [K] int64.
    Like torchvision the model drops weak boxes itself (score > 0.2), so K is only known at run time.
    Box 0: label 3, score 0.9, moves right with s. Box 1: label 1, score 0.3 + 0.5 s. Box 2: score 0.1, dropped."""
    nodes, inits = [], []
    s = centre_mean(nodes, inits)
    inits.append(numpy_helper.from_array(np.array([1, 1], np.int64), "s2_shape"))
    inits.append(numpy_helper.from_array(np.array([1], np.int64), "s1_shape"))
    nodes.append(helper.make_node("Reshape", [s, "s2_shape"], ["s2"]))
    nodes.append(helper.make_node("Reshape", [s, "s1_shape"], ["s1"]))
    affine(nodes, inits, "s2", [[8, 16, 24, 32], [40, 40, 56, 56], [0, 0, 1, 1]], [[20, 0, 20, 0], [0, 0, 0, 0], [0, 0, 0, 0]], "all_boxes")
    affine(nodes, inits, "s1", [0.9, 0.3, 0.1], [0.0, 0.5, 0.0], "all_scores")
    inits += [
        numpy_helper.from_array(np.array([3, 1, 2], np.int64), "all_labels"),
        numpy_helper.from_array(f32([0.2]), "keep_threshold"),
        numpy_helper.from_array(np.array([0], np.int64), "keep_axes"),
    ]
    nodes += [
        helper.make_node("Greater", ["all_scores", "keep_threshold"], ["keep_mask"]),
        helper.make_node("NonZero", ["keep_mask"], ["keep_nz"]),
        helper.make_node("Squeeze", ["keep_nz", "keep_axes"], ["keep"]),
        helper.make_node("Gather", ["all_boxes", "keep"], ["boxes"], axis=0),
        helper.make_node("Gather", ["all_scores", "keep"], ["scores"], axis=0),
        helper.make_node("Gather", ["all_labels", "keep"], ["labels"], axis=0),
    ]
    outs = [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["num_detections", 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["num_detections"]),
        helper.make_tensor_value_info("labels", TensorProto.INT64, ["num_detections"]),
    ]
    save(path, nodes, inits, [image_input(batch=1)], outs)


def two_inputs(path):
    nodes, inits = [], []
    s = centre_mean(nodes, inits)
    nodes.append(helper.make_node("Mul", [s, "gain"], ["s_gain"]))
    base, slope = yolov8_tables()
    affine(nodes, inits, "s_gain", base, slope, "output0")
    gain = helper.make_tensor_value_info("gain", TensorProto.FLOAT, [1])
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 6, ANCHORS])
    save(path, nodes, inits, [image_input(), gain], [out], NAMES)


def uint8_input(path):
    nodes = [helper.make_node("Cast", ["images"], ["images_f"], to=TensorProto.FLOAT)]
    inits = []
    s = centre_mean(nodes, inits, "images_f")
    base, slope = yolov8_tables()
    affine(nodes, inits, s, base, slope, "output0")
    out = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 6, ANCHORS])
    save(path, nodes, inits, [image_input(elem=TensorProto.UINT8)], [out], NAMES)


def unknown_outputs(path):
    """A classifier-like output [N, 10]: no decoder understands it."""
    nodes, inits = [], []
    s = centre_mean(nodes, inits)
    inits.append(numpy_helper.from_array(np.array([-1, 1], np.int64), "flat_shape"))
    nodes.append(helper.make_node("Reshape", [s, "flat_shape"], ["s_flat"]))
    affine(nodes, inits, "s_flat", np.zeros((1, 10)), np.ones((1, 10)), "logits")
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])
    save(path, nodes, inits, [image_input()], [out])


MODELS = {
    "yolov8.onnx": yolov8,
    "yolov8_batch1.onnx": lambda p: yolov8(p, batch=1, names=None),
    "yolov8_nonfinite.onnx": yolov8_nonfinite,
    "yolov5.onnx": yolov5,
    "ssd.onnx": ssd,
    "two_inputs.onnx": two_inputs,
    "uint8_input.onnx": uint8_input,
    "unknown_outputs.onnx": unknown_outputs,
}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, build in MODELS.items():
        build(os.path.join(out, name))
        print(name)


if __name__ == "__main__":
    main()
