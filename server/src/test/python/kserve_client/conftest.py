"""Fixtures for KServe's own Python clients against Serval.

KServe's SDK (`kserve` on PyPI) offers two asynchronous clients:
kserve.InferenceRESTClient (httpx) and kserve.InferenceGRPCClient (grpc.aio).
These tests drive them against a running Serval, as the Triton suite one
folder up drives tritonclient, and compare every output with a direct
onnxruntime run.

This folder is a pytest run of its own, in its own process: kserve and
tritonclient.grpc cannot be imported into one interpreter (both register the
protocol's protobuf messages, under different .proto file names). The folder
above tells its run to skip this one (collect_ignore), and this run must not
load the conftest.py above: the pytest.ini here makes this folder the rootdir,
and KServeClientConformanceTest also passes it as --rootdir and --confcutdir.

Two servers are involved, one at a time: KServeClientConformanceTest runs the
tests not marked `not_ready` against a ready server on models/, then those
marked `not_ready` against a server that is live but not ready (a model that
cannot load, `corrupt_model`, next to ocr_orientation). It passes:

    SERVAL_MODELS_DIR          absolute path of the repository's models/ folder
    SERVAL_HTTP_URL            the ready server: host:port of HTTP/REST (no scheme)
    SERVAL_GRPC_URL            the ready server: host:port of gRPC
    SERVAL_NOT_READY_HTTP_URL  the not-ready server, likewise (for `not_ready`)
    SERVAL_NOT_READY_GRPC_URL

A test whose variables are missing fails (it is not skipped). By hand:

    server/src/test/python/setup_env.sh "$VENV"
    SERVAL_HTTP_URL=... SERVAL_GRPC_URL=... SERVAL_MODELS_DIR=$PWD/models \\
        "$VENV/bin/python" -m pytest server/src/test/python/kserve_client -q -m "not not_ready"

The clients are asyncio-only; the tests call them through `Blocking`, which
runs each coroutine to completion on one event loop shared by the session
(no pytest-asyncio needed).
"""

import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

if "tritonclient.grpc" in sys.modules:  # pragma: no cover - a wrong invocation
    raise RuntimeError("kserve_client/ must run in a pytest process of its own, without the "
                       "conftest.py above it (see this file's docstring)")

from kserve import InferenceGRPCClient, InferenceRESTClient, RESTConfig  # noqa: E402
from kserve.protocol.infer_type import (  # noqa: E402
    InferInput,
    InferRequest,
    RequestedOutput,
)

from serval_testdata import (  # noqa: E402,F401  (re-exported for the test module)
    INPUT,
    INPUT_DIMS,
    MAX_BATCH_SIZE,
    MODEL,
    OUTPUT,
    OUTPUT_DIMS,
    SERVER_ATOL,
    Reference,
    assert_clean_error,
    assert_close_to_reference,
    fail_on_missing_environment,
    load_golden,
    model_file,
)

# The model that makes the second server not ready (KServeClientConformanceTest).
BROKEN_MODEL = "corrupt_model"


# --------------------------------------------------------------------------
# Settings, golden data, reference
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Server:
    http_url: str   # host:port
    grpc_url: str   # host:port

    @property
    def base_url(self):
        return "http://%s" % self.http_url


def _server_from_environment(prefix):
    names = (prefix + "HTTP_URL", prefix + "GRPC_URL")
    fail_on_missing_environment(os.environ, names)
    return Server(http_url=os.environ[names[0]], grpc_url=os.environ[names[1]])


@pytest.fixture(scope="session")
def server():
    """The ready server on models/ (SERVAL_HTTP_URL, SERVAL_GRPC_URL)."""
    return _server_from_environment("SERVAL_")


@pytest.fixture(scope="session")
def not_ready_server():
    """The live but not ready server (SERVAL_NOT_READY_HTTP_URL, SERVAL_NOT_READY_GRPC_URL)."""
    return _server_from_environment("SERVAL_NOT_READY_")


@pytest.fixture(scope="session", autouse=True)
def models_dir():
    """Every test needs SERVAL_MODELS_DIR; fail them all when it is missing."""
    fail_on_missing_environment(os.environ, ("SERVAL_MODELS_DIR",))
    folder = Path(os.environ["SERVAL_MODELS_DIR"])
    if not model_file(folder).is_file():
        pytest.fail("SERVAL_MODELS_DIR=%s has no %s/1/model.onnx" % (folder, MODEL),
                    pytrace=False)
    return folder


@pytest.fixture(scope="session")
def golden(models_dir):
    return load_golden(models_dir)


@pytest.fixture(scope="session")
def reference(models_dir):
    return Reference(model_file(models_dir))


# --------------------------------------------------------------------------
# The asyncio clients, called synchronously
# --------------------------------------------------------------------------

class Blocking:
    """An asyncio client whose coroutine methods are run to completion on `loop`."""

    def __init__(self, loop, client):
        self._loop = loop
        self.client = client

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            return self._loop.run_until_complete(method(*args, **kwargs))
        return call


@pytest.fixture(scope="session")
def loop():
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def _open(loop, factory):
    """Builds a client inside the loop (grpc.aio binds its channel to the running loop)."""
    async def build():
        return factory()
    return Blocking(loop, loop.run_until_complete(build()))


def rest_config():
    return RESTConfig(protocol="v2", timeout=120)


@pytest.fixture(scope="session")
def rest_client(loop):
    client = _open(loop, lambda: InferenceRESTClient(rest_config()))
    yield client
    client.close()


@pytest.fixture(scope="session")
def grpc_client(loop, server):
    client = _open(loop, lambda: InferenceGRPCClient(server.grpc_url, timeout=120))
    yield client
    client.close()


@pytest.fixture(scope="session")
def not_ready_grpc_client(loop, not_ready_server):
    client = _open(loop, lambda: InferenceGRPCClient(not_ready_server.grpc_url, timeout=60))
    yield client
    client.close()


@pytest.fixture(scope="session")
def raw_http(server):
    """A plain synchronous httpx client on the ready server, to read bodies byte for byte."""
    with httpx.Client(base_url=server.base_url, timeout=60) as client:
        yield client


# --------------------------------------------------------------------------
# One way of talking to the server through a kserve client
# --------------------------------------------------------------------------

class Endpoint:
    """InferenceRESTClient or InferenceGRPCClient, with one tensor encoding.

    binary=True: REST sends the input with the binary tensor extension
    (`binary_data_size`, Inference-Header-Content-Length) and asks for a binary
    output; gRPC sends raw_input_contents. binary=False: REST sends and
    receives JSON `data` arrays; gRPC sends typed contents (fp32_contents).
    """

    def __init__(self, name, protocol, client, base_url, binary):
        self.name = name
        self.protocol = protocol
        self.client = client
        self.base_url = base_url
        self.binary = binary

    def __repr__(self):
        return "Endpoint(%s)" % self.name

    @property
    def is_rest(self):
        return self.protocol == "rest"

    # -- health ---------------------------------------------------------------

    def is_server_live(self):
        if self.is_rest:
            return self.client.is_server_live(self.base_url)
        return self.client.is_server_live()

    def is_server_ready(self):
        if self.is_rest:
            return self.client.is_server_ready(self.base_url)
        return self.client.is_server_ready()

    def is_model_ready(self, model_name):
        if self.is_rest:
            return self.client.is_model_ready(self.base_url, model_name)
        return self.client.is_model_ready(model_name)

    # -- inference --------------------------------------------------------------

    def make_input(self, array, name=INPUT, datatype="FP32"):
        inp = InferInput(name, list(array.shape), datatype)
        inp.set_data_from_numpy(array, binary_data=self.binary)
        return inp

    def make_request(self, array, *, input_name=INPUT, datatype="FP32", model_name=MODEL,
                     model_version=None, request_id=None):
        outputs = None
        if self.is_rest:
            outputs = [RequestedOutput(OUTPUT, {"binary_data": self.binary})]
        return InferRequest(model_name, [self.make_input(array, input_name, datatype)],
                            request_id=request_id, model_version=model_version,
                            request_outputs=outputs)

    def send(self, request, **kwargs):
        if self.is_rest:
            # The REST client puts only the model name in the URL: no version.
            return self.client.infer(self.base_url, request, model_name=request.model_name,
                                     **kwargs)
        return self.client.infer(request, **kwargs)

    def infer(self, array, **kwargs):
        return self.send(self.make_request(array, **kwargs))

    # -- errors -------------------------------------------------------------------

    def expect_infer_error(self, request, *, http_status, grpc_code, fragments):
        """Send an inference that must fail: check the exception, status and message.

        REST: kserve raises httpx.HTTPStatusError; its response is the server's,
        whose JSON body has the message in `error`. kserve copies that message
        into the exception's text only when Content-Type is exactly
        "application/json" (it compares the whole header), so the text is
        checked for it only then.
        gRPC: kserve re-raises grpc.aio.AioRpcError; code() and details().
        """
        if self.is_rest:
            with pytest.raises(httpx.HTTPStatusError) as info:
                self.send(request)
            response = info.value.response
            assert response.status_code == http_status, \
                "expected HTTP %d, got %d: %s" % (http_status, response.status_code, response.text)
            assert "%d %s" % (http_status, response.reason_phrase) in str(info.value), \
                str(info.value)
            message = response.json().get("error")
            assert_clean_error(message, *fragments)
            if response.headers.get("content-type") == "application/json":
                assert message in str(info.value), str(info.value)
            return message
        with pytest.raises(grpc.RpcError) as info:
            self.send(request)
        assert info.value.code() == getattr(grpc.StatusCode, grpc_code), \
            "expected gRPC %s, got %s: %s" % (grpc_code, info.value.code(), info.value.details())
        message = info.value.details()
        assert_clean_error(message, *fragments)
        return message


@pytest.fixture(scope="session")
def rest_endpoint(rest_client, server):
    return Endpoint("rest-binary", "rest", rest_client, server.base_url, binary=True)


@pytest.fixture(scope="session")
def grpc_endpoint(grpc_client, server):
    return Endpoint("grpc-raw", "grpc", grpc_client, server.base_url, binary=True)


@pytest.fixture(params=["rest", "grpc"])
def endpoint(request, rest_client, grpc_client, server):
    """Each kserve client once, with its default tensor encoding."""
    if request.param == "rest":
        return Endpoint("rest-json", "rest", rest_client, server.base_url, binary=False)
    return Endpoint("grpc-raw", "grpc", grpc_client, server.base_url, binary=True)


@pytest.fixture(params=["rest-json", "rest-binary", "grpc-typed", "grpc-raw"])
def transport(request, rest_client, grpc_client, server):
    """Each client with each tensor encoding it can send."""
    protocol, _, encoding = request.param.partition("-")
    client = rest_client if protocol == "rest" else grpc_client
    binary = encoding in ("binary", "raw")
    return Endpoint(request.param, protocol, client, server.base_url, binary=binary)


def assert_serving(endpoints, golden, reference):
    """A normal batch-1 inference still succeeds through each endpoint."""
    x = golden.input[:1]
    expected = reference.run(x)
    for ep in endpoints:
        response = ep.infer(x)
        np.testing.assert_allclose(response.outputs[0].as_numpy(), expected, rtol=0,
                                   atol=SERVER_ATOL,
                                   err_msg="server stopped serving over %s" % ep.name)
