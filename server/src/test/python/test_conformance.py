"""Triton / KServe v2 conformance of Serval, checked with NVIDIA's own clients.

Model under test: the built-in `ocr_orientation` (PaddleOCR text-line
orientation classifier), version 1, input `x` FP32 [-1,3,48,192], output
`softmax_0.tmp_0` FP32 [-1,2], labels "0" and "180".

Every numeric answer of the server is compared with a direct onnxruntime run of
models/ocr_orientation/1/model.onnx on the same input.
"""

import gzip
import json
import re

import grpc
import numpy as np
import pytest
from tritonclient.grpc import service_pb2

from conftest import (
    GOLDEN_ATOL,
    INFER_PATH,
    INPUT,
    INPUT_DIMS,
    LABELS,
    MAX_BATCH_SIZE,
    MODEL,
    OUTPUT,
    OUTPUT_DIMS,
    SERVER_ATOL,
    assert_clean_error,
    assert_serving,
    nested_int,
)

REQUIRED_EXTENSIONS = {
    "binary_tensor_data",
    "classification",
    "model_configuration",
    "statistics",
    "parameters",
}

ELEMENTS_PER_ROW = int(np.prod(INPUT_DIMS))  # 3 * 48 * 192 = 27648


def assert_close_to_reference(actual, expected, what):
    assert actual.dtype == np.float32, "%s: dtype %s, expected float32" % (what, actual.dtype)
    assert actual.shape == expected.shape, "%s: shape %s, expected %s" % (what, actual.shape,
                                                                       expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=SERVER_ATOL,
                               err_msg="%s differs from direct onnxruntime run" % what)


def json_request(x, datatype="FP32", data=None, name=INPUT, binary_output=False):
    """A KServe v2 JSON inference request body for one input tensor."""
    return {
        "inputs": [{
            "name": name,
            "shape": list(x.shape),
            "datatype": datatype,
            "data": data if data is not None else x.flatten().tolist(),
        }],
        "outputs": [{"name": OUTPUT, "parameters": {"binary_data": binary_output}}],
    }


# ==========================================================================
# Golden data: the reference itself
# ==========================================================================

def test_direct_onnxruntime_run_matches_golden_output(golden, reference):
    direct = reference.run(golden.input)
    np.testing.assert_allclose(direct, golden.output, rtol=0, atol=GOLDEN_ATOL,
                               err_msg="direct onnxruntime run differs from output_softmax.bin")
    assert [LABELS[i] for i in direct.argmax(axis=1)] == golden.labels == ["0", "180"]


# ==========================================================================
# Health
# ==========================================================================

def test_server_is_live_and_ready(endpoint):
    assert endpoint.client.is_server_live() is True
    assert endpoint.client.is_server_ready() is True


def test_model_is_ready(endpoint):
    assert endpoint.client.is_model_ready(MODEL) is True
    assert endpoint.client.is_model_ready(MODEL, "1") is True


def test_unknown_model_is_not_ready(endpoint):
    assert endpoint.client.is_model_ready("nope") is False


def test_unknown_version_is_not_ready(endpoint):
    assert endpoint.client.is_model_ready(MODEL, "7") is False


# ==========================================================================
# Metadata, configuration, repository index
# ==========================================================================

def test_server_metadata(endpoint):
    meta = endpoint.server_metadata()
    assert meta["name"] == "serval"
    assert isinstance(meta.get("version"), str) and meta["version"], meta
    missing = REQUIRED_EXTENSIONS - set(meta.get("extensions", []))
    assert not missing, "server metadata lacks extensions %s: %r" % (sorted(missing), meta)


def test_model_metadata(endpoint):
    meta = endpoint.model_metadata()
    assert meta["name"] == MODEL
    assert meta["versions"] == ["1"]
    assert meta["platform"] == "onnxruntime_onnx"
    assert len(meta["inputs"]) == 1 and len(meta["outputs"]) == 1, meta
    (inp,), (out,) = meta["inputs"], meta["outputs"]
    assert inp["name"] == INPUT and inp["datatype"] == "FP32"
    assert [int(d) for d in inp["shape"]] == [-1] + INPUT_DIMS
    assert out["name"] == OUTPUT and out["datatype"] == "FP32"
    assert [int(d) for d in out["shape"]] == [-1] + OUTPUT_DIMS


def test_model_metadata_for_explicit_version(endpoint):
    meta = endpoint.model_metadata(model_version="1")
    assert meta["name"] == MODEL
    assert meta["versions"] == ["1"]


def test_model_config(endpoint):
    config = endpoint.model_config()
    assert config["name"] == MODEL
    assert config["platform"] == "onnxruntime_onnx"
    assert config["backend"] == "onnxruntime"
    assert int(config["max_batch_size"]) == MAX_BATCH_SIZE

    assert len(config["input"]) == 1, config["input"]
    inp = config["input"][0]
    assert inp["name"] == INPUT
    assert inp["data_type"] == "TYPE_FP32"
    assert [int(d) for d in inp["dims"]] == INPUT_DIMS

    assert len(config["output"]) == 1, config["output"]
    out = config["output"][0]
    assert out["name"] == OUTPUT
    assert out["data_type"] == "TYPE_FP32"
    assert [int(d) for d in out["dims"]] == OUTPUT_DIMS
    assert out["label_filename"] == "labels.txt"

    group = config["instance_group"][0]
    assert int(group["count"]) == 1
    assert group["kind"] == "KIND_CPU"


def test_repository_index_lists_model_ready(endpoint):
    index = endpoint.repository_index()
    entries = [e for e in index if e.get("name") == MODEL]
    assert any(e.get("version") == "1" and e.get("state") == "READY" for e in entries), \
        "no READY entry for %s version 1 in repository index %r" % (MODEL, index)


# ==========================================================================
# Inference
# ==========================================================================

def test_infer_batch2_matches_onnxruntime(transport, golden, reference):
    result = transport.infer(golden.input)
    assert transport.output_tensor(result) == {"name": OUTPUT, "datatype": "FP32",
                                               "shape": [2] + OUTPUT_DIMS}
    assert_close_to_reference(result.as_numpy(OUTPUT), reference.run(golden.input),
                              "batch-2 output over %s" % transport.name)
    model_name, model_version = transport.response_model(result)
    assert model_name == MODEL
    assert model_version == "1"


@pytest.mark.parametrize("row", [0, 1], ids=["upright", "rotated"])
def test_infer_batch1_each_row(transport, golden, reference, row):
    x = golden.input[row:row + 1]
    result = transport.infer(x)
    assert transport.output_tensor(result)["shape"] == [1] + OUTPUT_DIMS
    output = result.as_numpy(OUTPUT)
    assert_close_to_reference(output, reference.run(x),
                              "batch-1 row %d over %s" % (row, transport.name))
    assert int(output.argmax(axis=1)[0]) == row


def test_infer_full_max_batch(endpoint, golden, reference):
    x = np.ascontiguousarray(np.resize(golden.input, (MAX_BATCH_SIZE, *INPUT_DIMS)))
    result = endpoint.infer(x)
    assert_close_to_reference(result.as_numpy(OUTPUT), reference.run(x),
                              "batch-%d output over %s" % (MAX_BATCH_SIZE, endpoint.name))


def test_infer_with_explicit_version(endpoint, golden, reference):
    result = endpoint.infer(golden.input, model_version="1")
    assert_close_to_reference(result.as_numpy(OUTPUT), reference.run(golden.input),
                              "explicit version 1 over %s" % endpoint.name)


def test_infer_echoes_request_id(transport, golden):
    request_id = "serval-conformance-%s-42" % transport.name
    result = transport.infer(golden.input[:1], request_id=request_id)
    assert transport.response_id(result) == request_id


def test_grpc_response_uses_raw_output_contents(grpc_endpoint, golden):
    # Triton always answers gRPC with raw_output_contents. tritonclient 2.73 +
    # numpy 2 cannot even read a BYTES answer sent as contents.bytes_contents
    # (it calls np.array(..., copy=False)), so this is a real client concern.
    result = grpc_endpoint.infer(golden.input)
    response = result.get_response()
    assert len(response.raw_output_contents) == 1
    assert len(response.raw_output_contents[0]) == 2 * 2 * 4
    assert len(response.outputs[0].contents.fp32_contents) == 0


@pytest.mark.parametrize("algorithm", ["gzip", "deflate"])
def test_http_compressed_request_gives_same_result(http_endpoint, golden, reference, algorithm):
    result = http_endpoint.infer(golden.input, request_compression_algorithm=algorithm)
    assert_close_to_reference(result.as_numpy(OUTPUT), reference.run(golden.input),
                              "%s-compressed request" % algorithm)


def test_http_gzip_response_gives_same_result(http_endpoint, golden, reference):
    result = http_endpoint.infer(golden.input, response_compression_algorithm="gzip")
    assert_close_to_reference(result.as_numpy(OUTPUT), reference.run(golden.input),
                              "gzip-compressed response")


# ==========================================================================
# Classification extension
# ==========================================================================

CLASSIFICATION_ENTRY = re.compile(r"^(-?\d+\.\d{6}):(\d+):(.*)$")


def parse_classification(entry):
    """'<value>:<index>:<label>' with value printed like C's %f (6 decimals)."""
    if isinstance(entry, (bytes, np.bytes_)):
        entry = bytes(entry).decode("utf-8")
    match = CLASSIFICATION_ENTRY.match(str(entry))
    assert match, "classification entry %r is not '<value %%f>:<index>:<label>'" % (entry,)
    return float(match.group(1)), int(match.group(2)), match.group(3)


def test_classification_returns_sorted_labelled_entries(transport, golden, reference):
    result = transport.infer(golden.input, class_count=2)
    assert transport.output_tensor(result) == {"name": OUTPUT, "datatype": "BYTES",
                                               "shape": [2, 2]}
    entries = result.as_numpy(OUTPUT)
    assert entries.shape == (2, 2)
    probabilities = reference.run(golden.input)
    for row in range(2):
        parsed = [parse_classification(e) for e in entries[row]]
        values = [v for v, _, _ in parsed]
        assert values == sorted(values, reverse=True), "row %d not sorted: %r" % (row, parsed)
        assert sorted(i for _, i, _ in parsed) == [0, 1], parsed
        for value, index, label in parsed:
            assert label == LABELS[index], parsed
            # %f rounds to 6 decimals: allow that on top of the numeric tolerance.
            assert abs(value - float(probabilities[row, index])) <= SERVER_ATOL + 5e-7, \
                "row %d class %d: server %r vs onnxruntime %r" % (
                    row, index, value, float(probabilities[row, index]))
    assert parse_classification(entries[0][0])[1:] == (0, "0")
    assert parse_classification(entries[1][0])[1:] == (1, "180")


def test_classification_top1_batch1(transport, golden):
    result = transport.infer(golden.input[1:2], class_count=1)
    entries = result.as_numpy(OUTPUT)
    assert entries.shape == (1, 1)
    _, index, label = parse_classification(entries[0][0])
    assert (index, label) == (1, "180")


# ==========================================================================
# Statistics extension
# ==========================================================================

def test_statistics_count_successful_inferences(endpoint, golden):
    before = endpoint.model_stats()
    batches = [2, 2, 2, 1, 1]
    for b in batches:
        endpoint.infer(golden.input[:1] if b == 1 else golden.input)
    after = endpoint.model_stats()

    assert after["name"] == MODEL
    assert after["version"] == "1"

    def grew(*path):
        return nested_int(after, *path) - nested_int(before, *path)

    assert grew("inference_stats", "success", "count") == len(batches)
    assert grew("inference_count") == sum(batches)
    assert 1 <= grew("execution_count") <= len(batches)
    for phase in ("queue", "compute_input", "compute_infer", "compute_output"):
        assert grew("inference_stats", phase, "count") > 0, "%s.count did not grow" % phase
        assert nested_int(after, "inference_stats", phase, "ns") > 0, "%s.ns is 0" % phase
    assert nested_int(after, "inference_stats", "success", "ns") > 0
    assert grew("inference_stats", "fail", "count") == 0


def test_statistics_count_failed_inference(endpoint, golden):
    before = endpoint.model_stats()
    bad = endpoint.make_input(golden.input[:1].astype(np.float64))
    endpoint.expect_infer_error([bad], http_status=400, grpc_code="INVALID_ARGUMENT",
                                fragments=["FP64", "FP32"])
    after = endpoint.model_stats()
    assert nested_int(after, "inference_stats", "fail", "count") - \
        nested_int(before, "inference_stats", "fail", "count") == 1
    assert nested_int(after, "inference_stats", "success", "count") == \
        nested_int(before, "inference_stats", "success", "count")


# ==========================================================================
# Errors: each must produce the right status and message and leave the server serving
# ==========================================================================

@pytest.fixture
def server_still_serves(http_endpoint, grpc_endpoint, golden, reference):
    yield
    assert_serving(http_endpoint, grpc_endpoint, golden, reference)


def assert_raw_error(resp, status, *fragments):
    message = resp.error_message()
    assert resp.status == status, "expected HTTP %d, got %d: %s" % (status, resp.status, message)
    assert_clean_error(message, *fragments)
    return message


@pytest.mark.usefixtures("server_still_serves")
class TestErrors:

    # -- through tritonclient, both protocols ---------------------------------

    def test_rejects_unknown_model(self, endpoint, golden):
        endpoint.expect_infer_error([endpoint.make_input(golden.input[:1])], model_name="nope",
                                    http_status=404, grpc_code="NOT_FOUND", fragments=["nope"])

    def test_rejects_unknown_version(self, endpoint, golden):
        endpoint.expect_infer_error([endpoint.make_input(golden.input[:1])], model_version="7",
                                    http_status=404, grpc_code="NOT_FOUND", fragments=["7"])

    def test_rejects_non_numeric_version(self, endpoint, golden):
        endpoint.expect_infer_error([endpoint.make_input(golden.input[:1])], model_version="abc",
                                    http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["abc"])

    def test_rejects_wrong_input_name(self, endpoint, golden):
        endpoint.expect_infer_error([endpoint.make_input(golden.input[:1], name="y")],
                                    http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["'y'"])

    def test_rejects_wrong_datatype(self, endpoint, golden):
        x64 = golden.input[:1].astype(np.float64)
        endpoint.expect_infer_error([endpoint.make_input(x64)],
                                    http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["FP64", "FP32"])

    def test_rejects_wrong_rank(self, endpoint, golden):
        endpoint.expect_infer_error([endpoint.make_input(golden.input[0])],  # [3,48,192]
                                    http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["rank"])

    def test_rejects_wrong_fixed_dimension(self, endpoint, golden):
        x = np.ascontiguousarray(golden.input[:1, :, :40, :])  # [1,3,40,192]
        endpoint.expect_infer_error([endpoint.make_input(x)],
                                    http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["dimension 2"])

    def test_rejects_batch_above_max_batch_size(self, endpoint, golden):
        x = np.ascontiguousarray(np.resize(golden.input, (MAX_BATCH_SIZE + 1, *INPUT_DIMS)))
        endpoint.expect_infer_error([endpoint.make_input(x)],
                                    http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["max_batch_size"])

    # -- missing input ---------------------------------------------------------

    def test_rejects_missing_input_http(self, raw_http):
        resp = raw_http.post_json({"inputs": []})
        assert_raw_error(resp, 400, "missing input 'x'")

    def test_rejects_missing_input_grpc(self, grpc_endpoint):
        # tritonclient.grpc accepts an empty input list and sends it as is.
        grpc_endpoint.expect_infer_error([], http_status=None, grpc_code="INVALID_ARGUMENT",
                                         fragments=["missing input 'x'"])

    # -- malformed HTTP bodies (raw, standard library) ----------------------

    def test_rejects_json_data_length_mismatch_http(self, raw_http, golden):
        body = json_request(golden.input[:1], data=[0.0] * 10)
        assert_raw_error(raw_http.post_json(body), 400, "10")

    def test_rejects_binary_size_mismatch_http(self, raw_http):
        header = json.dumps({
            "inputs": [{"name": INPUT, "shape": [1] + INPUT_DIMS, "datatype": "FP32",
                        "parameters": {"binary_data_size": 8}}],
            "outputs": [{"name": OUTPUT, "parameters": {"binary_data": True}}],
        }).encode("utf-8")
        body = header + np.zeros(2, dtype="<f4").tobytes()  # 8 bytes, shape needs 110592
        resp = raw_http.post(INFER_PATH, body, {
            "Content-Type": "application/octet-stream",
            "Inference-Header-Content-Length": str(len(header)),
        })
        assert_raw_error(resp, 400, "bytes")

    def test_rejects_body_shorter_than_header_length_http(self, raw_http, golden):
        header = json.dumps(json_request(golden.input[:1], data=[0.0] * ELEMENTS_PER_ROW))
        body = header.encode("utf-8")
        resp = raw_http.post(INFER_PATH, body, {
            "Content-Type": "application/octet-stream",
            "Inference-Header-Content-Length": str(len(body) + 100),
        })
        assert_raw_error(resp, 400, "Inference-Header-Content-Length")

    def test_rejects_malformed_json_http(self, raw_http):
        assert_raw_error(raw_http.post_json('{"inputs": ['), 400, "JSON")

    def test_rejects_fp16_json_data_http(self, raw_http, golden):
        body = json_request(golden.input[:1], datatype="FP16", data=[0.0] * ELEMENTS_PER_ROW)
        assert_raw_error(raw_http.post_json(body), 400, "FP16")

    def test_rejects_body_over_limit_http(self, raw_http, settings):
        limit = settings.max_request_bytes
        head = b'{"id": "'
        tail = b'", "inputs": [{"name": "x", "shape": [1, 1], "datatype": "FP32", "data": [0]}]}'
        padding = limit + 64 * 1024 - len(head) - len(tail)
        chunk = 64 * 1024

        def chunks():
            yield head
            left = padding
            while left > 0:
                n = min(chunk, left)
                yield b"a" * n
                left -= n
            yield tail

        total = len(head) + padding + len(tail)
        assert total > limit
        resp = raw_http.post_oversized(INFER_PATH, chunks(), total,
                                       {"Content-Type": "application/json"})
        assert_raw_error(resp, 413)

    def test_rejects_truncated_gzip_body_http(self, raw_http, golden):
        full = gzip.compress(json.dumps(json_request(golden.input[:1])).encode("utf-8"))
        resp = raw_http.post(INFER_PATH, full[: len(full) // 2], {
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        })
        assert_raw_error(resp, 400, "gzip")

    # -- malformed gRPC messages ------------------------------------------------

    def test_rejects_mixed_raw_and_typed_contents_grpc(self, grpc_stub, golden):
        x = golden.input[:1]
        request = service_pb2.ModelInferRequest(model_name=MODEL)
        tensor = request.inputs.add()
        tensor.name = INPUT
        tensor.datatype = "FP32"
        tensor.shape.extend(x.shape)
        tensor.contents.fp32_contents.extend(x.flatten().tolist())
        request.raw_input_contents.append(x.tobytes())
        with pytest.raises(grpc.RpcError) as info:
            grpc_stub.ModelInfer(request, timeout=60)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value
        assert_clean_error(info.value.details(), "raw_input_contents")


def test_server_still_serves_after_errors(http_endpoint, grpc_endpoint, golden, reference):
    assert_serving(http_endpoint, grpc_endpoint, golden, reference)
