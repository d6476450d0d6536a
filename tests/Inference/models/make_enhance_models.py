#!/usr/bin/python3
"""Builds the tiny image-to-image ONNX models the enhancement tests run (ONNX Runtime, no mocks).

    /usr/bin/python3 make_enhance_models.py OUTDIR

Needs Debian's python3-onnx and python3-numpy. Each model computes something exactly known per pixel:
  enhance_gain2.onnx     image [1, 3, h, w] (any size), RGB 0..1 -> min(2 x, 1): twice as bright
  enhance_first255.onnx  metadata channels=bgr, range=255 -> every plane becomes the first input plane (blue): grey of blue
  enhance_fixed64.onnx   image [1, 3, 64, 64] -> min(2 x, 1) (fixed size: the stage resizes the frame to it and back)
  enhance_x2.onnx        image [1, 3, h, w] -> nearest-neighbour x2 upscale [1, 3, 2h, 2w] (a super-resolution shape)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def save(graph, path, meta=None):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="streamvision-tests")
    model.ir_version = 8
    for k, v in (meta or {}).items():
        p = model.metadata_props.add()
        p.key, p.value = k, v
    onnx.checker.check_model(model)
    onnx.save(model, path)


def gain2(name, dims):
    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, dims)
    y = helper.make_tensor_value_info("enhanced", TensorProto.FLOAT, dims)
    inits = [numpy_helper.from_array(np.array(2, np.float32), "two"), numpy_helper.from_array(np.array(1, np.float32), "one")]
    nodes = [helper.make_node("Mul", ["image", "two"], ["doubled"]), helper.make_node("Min", ["doubled", "one"], ["enhanced"])]
    return helper.make_graph(nodes, name, [x], [y], inits)


def main(out):
    os.makedirs(out, exist_ok=True)
    save(gain2("gain2", [1, 3, "h", "w"]), os.path.join(out, "enhance_gain2.onnx"))
    save(gain2("fixed64", [1, 3, 64, 64]), os.path.join(out, "enhance_fixed64.onnx"))

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("enhanced", TensorProto.FLOAT, [1, 3, "h", "w"])
    inits = [numpy_helper.from_array(np.array([0, 0, 0], np.int64), "pick")]
    nodes = [helper.make_node("Gather", ["image", "pick"], ["enhanced"], axis=1)]
    save(helper.make_graph(nodes, "first255", [x], [y], inits), os.path.join(out, "enhance_first255.onnx"),
         {"streamvision.enhance.channels": "bgr", "streamvision.enhance.range": "255"})

    x = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, "h", "w"])
    y = helper.make_tensor_value_info("enhanced", TensorProto.FLOAT, [1, 3, "h2", "w2"])
    inits = [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"),
             numpy_helper.from_array(np.array([], np.float32), "roi")]
    nodes = [helper.make_node("Resize", ["image", "roi", "scales"], ["enhanced"], mode="nearest")]
    save(helper.make_graph(nodes, "x2", [x], [y], inits), os.path.join(out, "enhance_x2.onnx"))


if __name__ == "__main__":
    main(sys.argv[1])
