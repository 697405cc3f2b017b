"""Triton python-backend model: the PaddleOCR orientation classifier on ONNX Runtime (CPU).

One execution per call of execute(): with dynamic batching on, Triton hands over every request it batched and
they run as one ONNX Runtime call; with it off, each call has one request. Session settings are the suite's
(loadtest/peers/common/peer_common.py; the stub does not pass PYTHONPATH on, so serve.sh names its folder in the
model's parameters as common_dir).
"""

import json
import sys

import numpy as np
import triton_python_backend_utils as pb_utils

peer_common = None


class TritonPythonModel:
    def initialize(self, args):
        global peer_common
        config = json.loads(args["model_config"])
        params = config.get("parameters", {})
        sys.path.insert(0, params["common_dir"]["string_value"])
        import peer_common as common

        peer_common = common
        path = params["model_path"]["string_value"]
        threads = int(params["intra_op_threads"]["string_value"])
        self.session = peer_common.make_session(path, threads)

    def execute(self, requests):
        arrays = [pb_utils.get_input_tensor_by_name(r, peer_common.INPUT_NAME).as_numpy() for r in requests]
        try:
            outputs = peer_common.run_batch(self.session, arrays)
        except Exception as e:  # noqa: BLE001 - every request gets the error
            error = pb_utils.TritonError(str(e))
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in requests]
        return [
            pb_utils.InferenceResponse(output_tensors=[
                pb_utils.Tensor(peer_common.OUTPUT_NAME, np.ascontiguousarray(out))])
            for out in outputs
        ]

    def finalize(self):
        self.session = None
