#!/usr/bin/python3
"""Builds the tiny classifier and segmentation models the tests run (ONNX Runtime, no mocks).

    /usr/bin/python3 make_task_models.py OUTDIR

Needs Debian's python3-onnx and python3-numpy.

classifier.onnx      NCHW [N, 3, 32, 32], RGB scaled 0..1 (no metadata beyond names/output). Logits [N, 3] =
                     10 x the mean of each channel: the crop's mean colour decides the class (red, green, blue).
classifier_nhwc.onnx NHWC [N, 16, 16, 3], metadata mean = std = 0.5 (inputs -1..1), color_order rgb. Probabilities
                     [N, 3] = softmax(4 x the channel means), computed inside the model (output: probabilities).
seg.onnx             YOLOv8-seg layout, NCHW [N, 3, 64, 64]: output0 [N, 4 + 2 + 32, 8], output1 [N, 32, 16, 16]
                     (stride 4), classes person and car. Constant outputs (0 x the image mean is added so they depend
                     on the input):
                       anchor 0: person 0.9, box centre (24, 32) size 16 x 16 (input pixels 16..32, 24..40), mask
                                 coefficients e0 -> prototype 0 = +8 on cells x 4..6, y 6..9 (input x 16..28,
                                 y 24..40), -8 elsewhere: the mask is the left three quarters of the box.
                       anchor 1: car 0.8, box centre (48, 20) size 8 x 8 (input 44..52, 16..24), coefficients e1 ->
                                 prototype 1 = +8 everywhere: the mask is the whole box.
                       anchors 2..7: all zero (under every threshold).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def save(path, nodes, inits, inputs, outputs, props):
    graph = helper.make_graph(nodes, os.path.splitext(os.path.basename(path))[0], inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="streamvision-tests")
    model.ir_version = 8
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def classifier(path):
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 32, 32])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])
    inits = [numpy_helper.from_array(np.array([10.0], np.float32), "ten"),
             numpy_helper.from_array(np.array([-1, 3], np.int64), "shape")]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["means"], axes=[2, 3], keepdims=0),
        helper.make_node("Mul", ["means", "ten"], ["scaled"]),
        helper.make_node("Reshape", ["scaled", "shape"], ["logits"]),
    ]
    save(path, nodes, inits, [x], [y], {"names": "{0: 'red', 1: 'green', 2: 'blue'}", "output": "logits", "task": "classify"})


def classifier_nhwc(path):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 16, 16, 3])
    y = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 3])
    inits = [numpy_helper.from_array(np.array([4.0], np.float32), "four")]
    nodes = [
        helper.make_node("ReduceMean", ["input"], ["means"], axes=[1, 2], keepdims=0),
        helper.make_node("Mul", ["means", "four"], ["scaled"]),
        helper.make_node("Softmax", ["scaled"], ["probs"], axis=1),
    ]
    save(path, nodes, inits, [x], [y], {"names": "['red', 'green', 'blue']", "mean": "[0.5, 0.5, 0.5]", "std": "0.5,0.5,0.5",
                                         "color_order": "rgb", "output": "probabilities"})


def seg(path):
    anchors, nm, nc = 8, 32, 2
    det = np.zeros((1, 4 + nc + nm, anchors), np.float32)
    det[0, 0:4, 0] = (24, 32, 16, 16)
    det[0, 4, 0] = 0.9
    det[0, 4 + nc + 0, 0] = 1.0
    det[0, 0:4, 1] = (48, 20, 8, 8)
    det[0, 5, 1] = 0.8
    det[0, 4 + nc + 1, 1] = 1.0
    protos = np.zeros((1, nm, 16, 16), np.float32)
    protos[0, 0] = -8.0
    protos[0, 0, 6:10, 4:7] = 8.0
    protos[0, 1] = 8.0
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["batch", 3, 64, 64])
    o0 = helper.make_tensor_value_info("output0", TensorProto.FLOAT, ["batch", 4 + nc + nm, anchors])
    o1 = helper.make_tensor_value_info("output1", TensorProto.FLOAT, ["batch", nm, 16, 16])
    inits = [numpy_helper.from_array(det, "det"), numpy_helper.from_array(protos, "protos"),
             numpy_helper.from_array(np.array([0.0], np.float32), "zero")]
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=1),  # [N, 1, 1, 1]
        helper.make_node("Mul", ["m", "zero"], ["z4"]),
        helper.make_node("Squeeze", ["z4", "sq_axes"], ["z3"]),                          # [N, 1] -> broadcast below
        helper.make_node("Add", ["det", "z3"], ["output0"]),
        helper.make_node("Add", ["protos", "z4"], ["output1"]),
    ]
    inits.append(numpy_helper.from_array(np.array([3], np.int64), "sq_axes"))
    save(path, nodes, inits, [x], [o0, o1], {"names": "{0: 'person', 1: 'car'}", "task": "segment", "stride": "32"})


def main(out):
    os.makedirs(out, exist_ok=True)
    classifier(os.path.join(out, "classifier.onnx"))
    classifier_nhwc(os.path.join(out, "classifier_nhwc.onnx"))
    seg(os.path.join(out, "seg.onnx"))


if __name__ == "__main__":
    main(sys.argv[1])
