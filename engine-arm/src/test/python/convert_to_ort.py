"""Converts ONNX models to ORT format with the ONNX Runtime Python package.

    usage: convert_to_ort.py SOURCE.onnx TARGET.ort [SOURCE.onnx TARGET.ort ...]

This is what `python -m onnxruntime.tools.convert_onnx_models_to_ort --optimization_style Fixed` does for one model
(load the model with graph optimisations on and save the optimised graph with session.save_model_format=ORT),
without that tool's own dependency on the `onnx` package, which the project's venv does not carry. The level is
'extended', not the tool's default 'all': 'all' adds layout transformations for the converting machine's CPU
(x86-64 NCHWc blocks), and the .ort files here must run on aarch64 too.
"""
import sys

import onnxruntime as ort


def convert(source, target):
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.optimized_model_filepath = target
    options.add_session_config_entry("session.save_model_format", "ORT")
    ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])


def main(args):
    if not args or len(args) % 2:
        sys.exit(__doc__)
    for source, target in zip(args[0::2], args[1::2]):
        convert(source, target)
        print(f"{source} -> {target} (onnxruntime {ort.__version__})")


if __name__ == "__main__":
    main(sys.argv[1:])
