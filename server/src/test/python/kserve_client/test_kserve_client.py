"""Open Inference Protocol conformance of Serval, checked with KServe's own clients.

kserve 0.21's clients offer:
  InferenceRESTClient  infer, explain, is_server_live, is_server_ready, is_model_ready
  InferenceGRPCClient  infer, is_server_live, is_server_ready, is_model_ready
Neither has model metadata, server metadata or a model version for readiness;
the REST client's infer has no model version either (its URL is always
/v2/models/{name}/infer), and explain is for the v1 protocol only.

Every numeric answer is compared with a direct onnxruntime run of
models/ocr_orientation/1/model.onnx on the same input.
"""

import httpx
import numpy as np
import pytest
from kserve.errors import UnsupportedProtocol
from kserve.protocol.infer_type import InferInput, InferRequest

from conftest import (
    BROKEN_MODEL,
    INPUT,
    INPUT_DIMS,
    MAX_BATCH_SIZE,
    MODEL,
    OUTPUT,
    OUTPUT_DIMS,
    assert_close_to_reference,
    assert_serving,
)


def output_of(response):
    assert [o.name for o in response.outputs] == [OUTPUT], response
    return response.outputs[0]


# ==========================================================================
# Health: server live / ready, model ready
# ==========================================================================

def test_server_is_live_and_ready(endpoint):
    assert endpoint.is_server_live() is True
    assert endpoint.is_server_ready() is True


def test_model_is_ready(endpoint):
    assert endpoint.is_model_ready(MODEL) is True


def test_unknown_model_is_not_ready(endpoint):
    assert endpoint.is_model_ready("nope") is False


def test_health_bodies_are_open_inference_protocol_json(raw_http):
    # What kserve's REST client parses: `live` and `ready` of a JSON object.
    for path, body in [
        ("/v2/health/live", {"live": True}),
        ("/v2/health/ready", {"ready": True}),
        ("/v2/models/%s/ready" % MODEL, {"name": MODEL, "ready": True}),
        ("/v2/models/%s/versions/1/ready" % MODEL, {"name": MODEL, "ready": True}),
    ]:
        response = raw_http.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("application/json"), path
        assert response.json() == body, path


def test_not_ready_model_body_is_both_a_ready_answer_and_an_error(raw_http):
    response = raw_http.get("/v2/models/%s/versions/3/ready" % MODEL)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["name"] == MODEL
    assert body["ready"] is False
    assert body["error"] == "model '%s' version 3 is not ready" % MODEL
    assert body["request_id"]


@pytest.mark.not_ready
class TestNotReadyServer:
    """A second server, live but not ready: one of its models cannot load."""

    @pytest.fixture
    def rest(self, rest_client):
        return rest_client  # the REST client takes the server's URL on each call

    @pytest.fixture
    def base_url(self, not_ready_server):
        return not_ready_server.base_url

    def test_rest_server_is_live(self, rest, base_url):
        assert rest.is_server_live(base_url) is True

    def test_rest_server_ready_raises_with_the_ready_body(self, rest, base_url):
        # kserve raises for any non-2xx readiness answer; Serval answers 400 as Triton does.
        with pytest.raises(httpx.HTTPStatusError) as info:
            rest.is_server_ready(base_url)
        response = info.value.response
        assert response.status_code == 400
        assert response.json() == {"ready": False}
        assert "400 Bad Request" in str(info.value)

    def test_rest_model_readiness(self, rest, base_url):
        assert rest.is_model_ready(base_url, MODEL) is True
        assert rest.is_model_ready(base_url, BROKEN_MODEL) is False

    def test_raw_not_ready_bodies(self, base_url):
        with httpx.Client(base_url=base_url, timeout=60) as raw:
            live = raw.get("/v2/health/live")
            assert (live.status_code, live.json()) == (200, {"live": True})
            ready = raw.get("/v2/health/ready")
            assert (ready.status_code, ready.json()) == (400, {"ready": False})
            broken = raw.get("/v2/models/%s/ready" % BROKEN_MODEL)
            assert broken.status_code == 400
            assert broken.json()["name"] == BROKEN_MODEL and broken.json()["ready"] is False

    def test_grpc_server_is_live_not_ready(self, not_ready_grpc_client):
        assert not_ready_grpc_client.is_server_live() is True
        assert not_ready_grpc_client.is_server_ready() is False

    def test_grpc_model_readiness(self, not_ready_grpc_client):
        assert not_ready_grpc_client.is_model_ready(MODEL) is True
        assert not_ready_grpc_client.is_model_ready(BROKEN_MODEL) is False


# ==========================================================================
# Inference
# ==========================================================================

def test_infer_batch2_matches_onnxruntime(transport, golden, reference):
    response = transport.infer(golden.input)
    out = output_of(response)
    assert (out.datatype, list(out.shape)) == ("FP32", [2] + OUTPUT_DIMS)
    assert_close_to_reference(out.as_numpy(), reference.run(golden.input),
                              "batch-2 output over %s" % transport.name)
    assert response.model_name == MODEL


@pytest.mark.parametrize("row", [0, 1], ids=["upright", "rotated"])
def test_infer_batch1_each_row(transport, golden, reference, row):
    x = golden.input[row:row + 1]
    output = output_of(transport.infer(x)).as_numpy()
    assert_close_to_reference(output, reference.run(x),
                              "batch-1 row %d over %s" % (row, transport.name))
    assert int(output.argmax(axis=1)[0]) == row


def test_infer_full_max_batch(endpoint, golden, reference):
    x = np.ascontiguousarray(np.resize(golden.input, (MAX_BATCH_SIZE, *INPUT_DIMS)))
    assert_close_to_reference(output_of(endpoint.infer(x)).as_numpy(), reference.run(x),
                              "batch-%d output over %s" % (MAX_BATCH_SIZE, endpoint.name))


def test_infer_echoes_request_id(transport, golden):
    request_id = "serval-kserve-%s-42" % transport.name
    assert transport.infer(golden.input[:1], request_id=request_id).id == request_id


def test_grpc_infer_with_explicit_version(grpc_endpoint, golden, reference):
    response = grpc_endpoint.infer(golden.input, model_version="1")
    assert response.model_version == "1"
    assert_close_to_reference(output_of(response).as_numpy(), reference.run(golden.input),
                              "explicit version 1 over gRPC")


def test_grpc_response_names_the_version_served(grpc_endpoint, golden):
    # (The REST client drops model_version when it reads a response.)
    assert grpc_endpoint.infer(golden.input[:1]).model_version == "1"


def test_rest_binary_answer_comes_as_binary_extension(rest_client, server, golden, reference):
    headers = {}
    request = InferRequest(MODEL, [_input(golden.input, binary=True)])
    request.parameters = {"binary_data_output": True}
    response = rest_client.infer(server.base_url, request, model_name=MODEL,
                                 response_headers=headers)
    assert headers["content-type"] == "application/octet-stream", headers
    assert int(headers["inference-header-content-length"]) > 0, headers
    assert_close_to_reference(output_of(response).as_numpy(), reference.run(golden.input),
                              "binary_data_output answer over REST")


def test_rest_infer_with_a_plain_dict(rest_client, server, golden, reference):
    body = {"inputs": [{"name": INPUT, "shape": list(golden.input.shape), "datatype": "FP32",
                        "data": golden.input.flatten().tolist()}]}
    response = rest_client.infer(server.base_url, body, model_name=MODEL)
    assert_close_to_reference(output_of(response).as_numpy(), reference.run(golden.input),
                              "dict request over REST")


def test_rest_infer_as_graph_endpoint_returns_the_json(rest_client, server, golden, reference):
    # is_graph_endpoint: the URL is used as given and the answer comes back as a dict.
    url = "%s/v2/models/%s/infer" % (server.base_url, MODEL)
    request = InferRequest(MODEL, [_input(golden.input[:1], binary=False)], request_id="graph-1")
    doc = rest_client.infer(url, request, is_graph_endpoint=True)
    assert doc["id"] == "graph-1"
    assert doc["model_name"] == MODEL
    (out,) = doc["outputs"]
    assert out["name"] == OUTPUT and out["shape"] == [1] + OUTPUT_DIMS
    actual = np.asarray(out["data"], dtype=np.float32).reshape(out["shape"])
    assert_close_to_reference(actual, reference.run(golden.input[:1]), "graph-endpoint answer")


def test_rest_explain_is_v1_only(rest_client, server):
    # Nothing reaches the server: kserve refuses explain for the v2 protocol itself.
    with pytest.raises(UnsupportedProtocol):
        rest_client.explain(server.base_url, MODEL, {"instances": []})


def _input(array, binary):
    inp = InferInput(INPUT, list(array.shape), "FP32")
    inp.set_data_from_numpy(array, binary_data=binary)
    return inp


# ==========================================================================
# Errors: the right exception, status and server message; the server keeps serving
# ==========================================================================

@pytest.fixture
def server_still_serves(rest_endpoint, grpc_endpoint, golden, reference):
    yield
    assert_serving([rest_endpoint, grpc_endpoint], golden, reference)


@pytest.mark.usefixtures("server_still_serves")
class TestErrors:

    def test_rejects_unknown_model(self, transport, golden):
        request = transport.make_request(golden.input[:1], model_name="nope")
        transport.expect_infer_error(request, http_status=404, grpc_code="NOT_FOUND",
                                     fragments=["unknown model 'nope'"])

    def test_rejects_unknown_version_grpc(self, grpc_endpoint, golden):
        request = grpc_endpoint.make_request(golden.input[:1], model_version="7")
        grpc_endpoint.expect_infer_error(request, http_status=None, grpc_code="NOT_FOUND",
                                         fragments=["7"])

    def test_rejects_wrong_input_name(self, transport, golden):
        request = transport.make_request(golden.input[:1], input_name="y")
        transport.expect_infer_error(request, http_status=400, grpc_code="INVALID_ARGUMENT",
                                     fragments=["unexpected input 'y'", "'x'"])

    def test_rejects_wrong_datatype(self, transport, golden):
        request = transport.make_request(golden.input[:1].astype(np.float64), datatype="FP64")
        transport.expect_infer_error(request, http_status=400, grpc_code="INVALID_ARGUMENT",
                                     fragments=["FP64", "FP32"])

    def test_rejects_wrong_rank(self, transport, golden):
        request = transport.make_request(golden.input[0])  # [3,48,192]
        transport.expect_infer_error(request, http_status=400, grpc_code="INVALID_ARGUMENT",
                                     fragments=["rank"])

    def test_rejects_wrong_fixed_dimension(self, transport, golden):
        x = np.ascontiguousarray(golden.input[:1, :, :40, :])  # [1,3,40,192]
        request = transport.make_request(x)
        transport.expect_infer_error(request, http_status=400, grpc_code="INVALID_ARGUMENT",
                                     fragments=["dimension 2"])

    def test_rejects_batch_above_max_batch_size(self, endpoint, golden):
        x = np.ascontiguousarray(np.resize(golden.input, (MAX_BATCH_SIZE + 1, *INPUT_DIMS)))
        request = endpoint.make_request(x)
        endpoint.expect_infer_error(request, http_status=400, grpc_code="INVALID_ARGUMENT",
                                    fragments=["max_batch_size"])


def test_server_still_serves_after_errors(rest_endpoint, grpc_endpoint, golden, reference):
    assert_serving([rest_endpoint, grpc_endpoint], golden, reference)
