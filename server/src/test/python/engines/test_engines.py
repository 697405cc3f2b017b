"""The same model on two engines, through Triton's own clients (EnginesTest starts the server).

For each built-in model NAME in SERVAL_ENGINE_MODELS, the server serves NAME on ONNX Runtime and NAME_openvino on
OpenVINO. Each is asked the same deterministic inputs over HTTP and gRPC; every output must agree within 1e-4
(absolute), and each protocol must give each engine's outputs exactly.

    SERVAL_HTTP_URL, SERVAL_GRPC_URL   host:port of the server's HTTP and gRPC endpoints
    SERVAL_ENGINE_MODELS               comma-separated names of the models served twice
    SERVAL_TOKEN                       a bearer token the server accepts
"""

import os

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

TOLERANCE = 1e-4
MODELS = os.environ["SERVAL_ENGINE_MODELS"].split(",")
# Sizes for the dimensions the models leave open: a batch of 2 (the detector takes 1), a page of 320x256, a
# line 320 wide.
OPEN_SIZES = {"ocr_det": [1, 3, 256, 320], "ocr_rec": [2, 3, 48, 320]}


def headers():
    # A new dict each call: tritonclient.http adds its own headers to the one it is given.
    return {"authorization": "Bearer " + os.environ["SERVAL_TOKEN"]}


def clients(protocol):
    if protocol == "http":
        return httpclient, httpclient.InferenceServerClient(os.environ["SERVAL_HTTP_URL"])
    return grpcclient, grpcclient.InferenceServerClient(os.environ["SERVAL_GRPC_URL"])


def metadata(client, protocol, model):
    answer = client.get_model_metadata(model, headers=headers())
    if protocol == "grpc":
        return [(t.name, t.datatype, list(t.shape)) for t in answer.inputs], [t.name for t in answer.outputs]
    return [(t["name"], t["datatype"], t["shape"]) for t in answer["inputs"]], [t["name"] for t in answer["outputs"]]


def inputs_for(model, specs):
    rng = np.random.default_rng(20261127)
    arrays = {}
    for name, datatype, shape in specs:
        dims = OPEN_SIZES.get(model) or [2 if d == -1 else d for d in shape]
        if datatype == "FP32":
            arrays[name] = rng.uniform(-1, 1, size=dims).astype(np.float32)
        elif datatype == "INT64" and name == "input_ids":
            ids = rng.integers(1000, 5000, size=dims, dtype=np.int64)
            ids[:, 0] = 2  # [CLS]-like first token, then a sentence and padding
            ids[:, dims[1] // 2:] = 0
            arrays[name] = ids
        elif datatype == "INT64" and name == "attention_mask":
            mask = np.zeros(dims, dtype=np.int64)
            mask[:, : dims[1] // 2] = 1
            arrays[name] = mask
        elif datatype == "INT64":
            arrays[name] = np.zeros(dims, dtype=np.int64)
        else:
            pytest.fail(f"{model}: input {name} of {datatype} has no generator here")
    return arrays


def infer(module, client, model, arrays, outputs):
    tensors = []
    for name, array in arrays.items():
        tensor = module.InferInput(name, list(array.shape), "FP32" if array.dtype == np.float32 else "INT64")
        tensor.set_data_from_numpy(array)
        tensors.append(tensor)
    result = client.infer(model, tensors, outputs=[module.InferRequestedOutput(o) for o in outputs],
                          headers=headers())
    return {o: result.as_numpy(o) for o in outputs}


@pytest.mark.parametrize("protocol", ["http", "grpc"])
@pytest.mark.parametrize("model", MODELS)
def test_openvino_matches_onnxruntime(model, protocol):
    module, client = clients(protocol)
    specs, outputs = metadata(client, protocol, model)
    assert metadata(client, protocol, model + "_openvino") == (specs, outputs)
    arrays = inputs_for(model, specs)

    by_ort = infer(module, client, model, arrays, outputs)
    by_openvino = infer(module, client, model + "_openvino", arrays, outputs)

    for name in outputs:
        assert by_ort[name].shape == by_openvino[name].shape, name
        difference = float(np.max(np.abs(by_ort[name].astype(np.float64) - by_openvino[name])))
        print(f"{model} {protocol} {name}: {by_ort[name].shape}, largest difference {difference:.3g}")
        assert difference <= TOLERANCE, f"{model} output {name}: {difference} over {TOLERANCE}"
    # The same engine answers the same inputs the same way on the other protocol.
    other_module, other_client = clients("grpc" if protocol == "http" else "http")
    again = infer(other_module, other_client, model + "_openvino", arrays, outputs)
    for name in outputs:
        np.testing.assert_array_equal(again[name], by_openvino[name])
