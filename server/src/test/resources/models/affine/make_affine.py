"""Writes affine.onnx: y = 2 * x + 1 on FP32 [batch, 4], a model whose every output row is exactly predictable
from its own input row, so tests can prove that batching returns each caller exactly its own rows.

Run: python make_affine.py  (needs the `onnx` package; writes affine.onnx next to this file)
"""
import pathlib

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), name="two")
one = numpy_helper.from_array(np.array(1.0, dtype=np.float32), name="one")
graph = helper.make_graph(
    [
        helper.make_node("Mul", ["x", "two"], ["doubled"]),
        helper.make_node("Add", ["doubled", "one"], ["y"]),
    ],
    "affine",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])],
    initializer=[two, one],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="serval-tests")
model.ir_version = 8
onnx.checker.check_model(model)
onnx.save(model, str(pathlib.Path(__file__).with_name("affine.onnx")))
