"""Shared fixtures for the Serval conformance suite.

The suite talks to a running Serval server with NVIDIA's own Triton clients
(tritonclient.http / tritonclient.grpc) and perf_analyzer; KServe's own
clients are tested by kserve_client/, a separate pytest run (one process
cannot import both kserve and tritonclient.grpc). The Java test that starts
the server passes everything through environment variables:

    SERVAL_HTTP_URL           host:port of the HTTP/REST endpoint (no scheme)
    SERVAL_GRPC_URL           host:port of the gRPC endpoint
    SERVAL_MODELS_DIR         absolute path of the repository's models/ folder
    SERVAL_MAX_REQUEST_BYTES  the server's configured request body limit (int)
    PERF_ANALYZER             path of the perf_analyzer wrapper (setup_env.sh)

A missing variable makes every test fail (not skip).

How to run (what the Java test does):

    server/src/test/python/setup_env.sh "$VENV"        # once; idempotent
    SERVAL_HTTP_URL=localhost:8000 SERVAL_GRPC_URL=localhost:8001 \
    SERVAL_MODELS_DIR=$PWD/models SERVAL_MAX_REQUEST_BYTES=4194304 \
    PERF_ANALYZER=$VENV/bin/perf_analyzer \
        "$VENV/bin/python" -m pytest server/src/test/python -q
"""

import http.client
import json
import os
import select
import socket
from dataclasses import dataclass
from pathlib import Path

import grpc
import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.grpc import service_pb2_grpc
from tritonclient.utils import InferenceServerException, np_to_triton_dtype

# The model's constants, golden data, reference run and error check live in
# serval_testdata.py, shared with the KServe run; tests import them from here.
from serval_testdata import (  # noqa: F401  (re-exported for the test modules)
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
    STACK_TRACE_MARKERS,
    Golden,
    Reference,
    assert_clean_error,
    load_golden,
    model_file,
)

# KServe's own clients are tested in kserve_client/, in a pytest process of
# their own (see serval_testdata.py for why): this run must not import them.
# engines/ runs against a server of its own too (EnginesTest).
collect_ignore = ["kserve_client", "engines"]

REQUIRED_ENV = (
    "SERVAL_HTTP_URL",
    "SERVAL_GRPC_URL",
    "SERVAL_MODELS_DIR",
    "SERVAL_MAX_REQUEST_BYTES",
    "PERF_ANALYZER",
)


# --------------------------------------------------------------------------
# Settings from the environment
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    http_url: str
    grpc_url: str
    models_dir: Path
    max_request_bytes: int
    perf_analyzer: str


@pytest.fixture(scope="session")
def settings():
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail(
            "environment variable(s) not set: %s. The Java test that starts the "
            "server must export %s." % (", ".join(missing), ", ".join(REQUIRED_ENV)),
            pytrace=False,
        )
    for name in ("SERVAL_HTTP_URL", "SERVAL_GRPC_URL"):
        if "://" in os.environ[name]:
            pytest.fail("%s must be host:port without a scheme, got %r"
                        % (name, os.environ[name]), pytrace=False)
    try:
        max_bytes = int(os.environ["SERVAL_MAX_REQUEST_BYTES"])
    except ValueError:
        pytest.fail("SERVAL_MAX_REQUEST_BYTES must be an integer, got %r"
                    % os.environ["SERVAL_MAX_REQUEST_BYTES"], pytrace=False)
    models_dir = Path(os.environ["SERVAL_MODELS_DIR"])
    if not model_file(models_dir).is_file():
        pytest.fail("SERVAL_MODELS_DIR=%s has no %s/1/model.onnx" % (models_dir, MODEL),
                    pytrace=False)
    return Settings(
        http_url=os.environ["SERVAL_HTTP_URL"],
        grpc_url=os.environ["SERVAL_GRPC_URL"],
        models_dir=models_dir,
        max_request_bytes=max_bytes,
        perf_analyzer=os.environ["PERF_ANALYZER"],
    )


@pytest.fixture(scope="session", autouse=True)
def _require_environment(settings):
    """Every test needs the environment; fail them all when it is incomplete."""
    return settings


# --------------------------------------------------------------------------
# Golden data and the reference (direct onnxruntime) run
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def golden(settings):
    return load_golden(settings.models_dir)


@pytest.fixture(scope="session")
def reference(settings):
    return Reference(model_file(settings.models_dir))


# --------------------------------------------------------------------------
# Raw HTTP (standard library only)
# --------------------------------------------------------------------------

@dataclass
class RawResponse:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_message(self):
        """The `error` field of a KServe error body; fails the test if the body is not one."""
        try:
            doc = self.json()
        except (UnicodeDecodeError, ValueError) as e:
            pytest.fail("error response (HTTP %d) is not JSON (%s): %r"
                        % (self.status, e, self.body[:500]))
        assert isinstance(doc, dict) and isinstance(doc.get("error"), str), \
            "error response (HTTP %d) is not {\"error\": \"...\"}: %r" % (self.status, doc)
        return doc["error"]


class RawHttp:
    def __init__(self, http_url):
        host, _, port = http_url.rpartition(":")
        self.host = host.strip("[]") or "localhost"
        self.port = int(port)

    def post(self, path, body, headers=None, timeout=60):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            data = resp.read()
            return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
        finally:
            conn.close()

    def post_json(self, doc_or_text, path=INFER_PATH, headers=None):
        text = doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text)
        hdrs = {"Content-Type": "application/json"}
        hdrs.update(headers or {})
        return self.post(path, text.encode("utf-8"), hdrs)

    def post_oversized(self, path, chunks, content_length, headers, timeout=60):
        """POST a large body chunk by chunk over a plain socket.

        A server that enforces a body limit may answer (413) and close before the
        whole body is sent. This stops sending as soon as the server has written
        anything or has closed its side, then reads whatever response arrived.
        """
        sock = socket.create_connection((self.host, self.port), timeout=timeout)
        try:
            lines = ["POST %s HTTP/1.1" % path, "Host: %s:%d" % (self.host, self.port),
                     "Content-Length: %d" % content_length, "Connection: close"]
            lines += ["%s: %s" % kv for kv in headers.items()]
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            for chunk in chunks:
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    break
                try:
                    sock.sendall(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
            received = b""
            try:
                while True:
                    part = sock.recv(65536)
                    if not part:
                        break
                    received += part
                    if _complete_http_response(received):
                        break
            except (ConnectionResetError, socket.timeout):
                pass
        finally:
            sock.close()
        assert received, "server closed the connection without sending a response"
        return _parse_raw_http_response(received)


def _complete_http_response(data):
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def _parse_raw_http_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _dechunk(body)
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return RawResponse(status, headers, body)


def _dechunk(data):
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2:]
    return out


@pytest.fixture(scope="session")
def raw_http(settings):
    return RawHttp(settings.http_url)


# --------------------------------------------------------------------------
# Clients
# --------------------------------------------------------------------------

@pytest.fixture(scope="session")
def http_client(settings):
    client = httpclient.InferenceServerClient(settings.http_url, connection_timeout=30.0,
                                              network_timeout=120.0)
    yield client
    client.close()


@pytest.fixture(scope="session")
def grpc_client(settings):
    client = grpcclient.InferenceServerClient(settings.grpc_url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def grpc_stub(settings):
    """Raw gRPC stub, for requests tritonclient cannot build."""
    channel = grpc.insecure_channel(settings.grpc_url)
    yield service_pb2_grpc.GRPCInferenceServiceStub(channel)
    channel.close()


def nested_int(doc, *path):
    """doc[path[0]][path[1]]... as int; proto3 JSON omits zero values, so absent means 0."""
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return 0
        doc = doc[key]
    return int(doc)


class Endpoint:
    """One way of talking to the server: HTTP (binary or JSON tensors) or gRPC.

    Wraps the protocol differences of tritonclient so tests read the same for
    both, and returns plain dicts (gRPC messages converted with as_json=True).
    """

    def __init__(self, name, protocol, client, raw_http, binary=True):
        self.name = name
        self.protocol = protocol
        self.client = client
        self.raw_http = raw_http
        self.binary = binary
        self.module = httpclient if protocol == "http" else grpcclient

    def __repr__(self):
        return "Endpoint(%s)" % self.name

    @property
    def is_http(self):
        return self.protocol == "http"

    # -- building requests --------------------------------------------------

    def make_input(self, array, name=INPUT, datatype=None):
        datatype = datatype or np_to_triton_dtype(array.dtype)
        inp = self.module.InferInput(name, list(array.shape), datatype)
        if self.is_http:
            inp.set_data_from_numpy(array, binary_data=self.binary)
        else:
            inp.set_data_from_numpy(array)
        return inp

    def make_output(self, name=OUTPUT, class_count=0):
        if self.is_http:
            return httpclient.InferRequestedOutput(name, binary_data=self.binary,
                                                   class_count=class_count)
        return grpcclient.InferRequestedOutput(name, class_count=class_count)

    def infer(self, array, *, input_name=INPUT, class_count=0, model_name=MODEL,
              model_version="", **kwargs):
        return self.client.infer(model_name, [self.make_input(array, name=input_name)],
                                 model_version=model_version,
                                 outputs=[self.make_output(class_count=class_count)],
                                 **kwargs)

    # -- reading responses --------------------------------------------------

    def output_tensor(self, result, name=OUTPUT):
        """{name, datatype, shape} of an output, shape as ints."""
        if self.is_http:
            out = result.get_output(name)
            assert out is not None, "no output %r in %r" % (name, result.get_response())
            return {"name": out["name"], "datatype": out["datatype"],
                    "shape": [int(d) for d in out["shape"]]}
        out = result.get_output(name)
        assert out is not None, "no output %r in %r" % (name, result.get_response())
        return {"name": out.name, "datatype": out.datatype, "shape": [int(d) for d in out.shape]}

    def response_id(self, result):
        if self.is_http:
            return result.get_response().get("id")
        return result.get_response().id

    def response_model(self, result):
        if self.is_http:
            doc = result.get_response()
            return doc.get("model_name"), doc.get("model_version")
        msg = result.get_response()
        return msg.model_name, msg.model_version

    # -- metadata / config / stats as dicts ---------------------------------

    def _json(self, method, *args, **kwargs):
        if self.is_http:
            return method(*args, **kwargs)
        return method(*args, as_json=True, **kwargs)

    def server_metadata(self):
        return self._json(self.client.get_server_metadata)

    def model_metadata(self, model_name=MODEL, model_version=""):
        return self._json(self.client.get_model_metadata, model_name, model_version)

    def model_config(self, model_name=MODEL, model_version=""):
        doc = self._json(self.client.get_model_config, model_name, model_version)
        return doc if self.is_http else doc["config"]

    def repository_index(self):
        doc = self._json(self.client.get_model_repository_index)
        return doc if self.is_http else doc.get("models", [])

    def model_stats(self, model_name=MODEL):
        doc = self._json(self.client.get_inference_statistics, model_name=model_name)
        stats = doc.get("model_stats", [])
        assert len(stats) == 1, "expected stats for one model version, got %r" % (doc,)
        return stats[0]

    # -- errors ---------------------------------------------------------------

    def expect_infer_error(self, inputs, *, http_status, grpc_code, fragments,
                           model_name=MODEL, model_version="", outputs=None):
        """Send an inference that must fail; check status and message; return the message.

        HTTP: tritonclient puts the HTTP status code (as a string) in e.status()
        and the body's `error` field in e.message(). Should a client path ever
        report no status, the identical request body is re-sent with http.client
        so the status code is still checked.
        gRPC: e.status() is str(grpc.StatusCode.X), e.g. "StatusCode.NOT_FOUND".
        """
        if outputs is None:
            outputs = [self.make_output()]
        with pytest.raises(InferenceServerException) as info:
            self.client.infer(model_name, inputs, model_version=model_version, outputs=outputs)
        err = info.value
        status, message = err.status(), err.message()
        if self.is_http:
            if status is None:
                status, message = self._resend_raw(inputs, outputs, model_name, model_version)
            assert status == str(http_status), \
                "expected HTTP %s, got %s: %s" % (http_status, status, message)
        else:
            assert status == "StatusCode.%s" % grpc_code, \
                "expected gRPC %s, got %s: %s" % (grpc_code, status, message)
        assert_clean_error(message, *fragments)
        return message

    def _resend_raw(self, inputs, outputs, model_name, model_version):
        body, json_size = httpclient.InferenceServerClient.generate_request_body(
            inputs, outputs=outputs)
        headers = {"Content-Type": "application/octet-stream"}
        if json_size is not None:
            headers["Inference-Header-Content-Length"] = str(json_size)
        path = "/v2/models/%s" % model_name
        if model_version:
            path += "/versions/%s" % model_version
        resp = self.raw_http.post(path + "/infer", body, headers)
        return str(resp.status), resp.error_message()


@pytest.fixture(scope="session")
def http_endpoint(http_client, raw_http):
    return Endpoint("http", "http", http_client, raw_http, binary=True)


@pytest.fixture(scope="session")
def grpc_endpoint(grpc_client, raw_http):
    return Endpoint("grpc", "grpc", grpc_client, raw_http)


@pytest.fixture(params=["http", "grpc"])
def endpoint(request, http_client, grpc_client, raw_http):
    """Each protocol once: ("http", tritonclient.http) and ("grpc", tritonclient.grpc)."""
    if request.param == "http":
        return Endpoint("http", "http", http_client, raw_http, binary=True)
    return Endpoint("grpc", "grpc", grpc_client, raw_http)


@pytest.fixture(params=["http-binary", "http-json", "grpc"])
def transport(request, http_client, grpc_client, raw_http):
    """Each tensor encoding once: HTTP binary extension, HTTP JSON tensors, gRPC."""
    if request.param == "http-binary":
        return Endpoint("http-binary", "http", http_client, raw_http, binary=True)
    if request.param == "http-json":
        return Endpoint("http-json", "http", http_client, raw_http, binary=False)
    return Endpoint("grpc", "grpc", grpc_client, raw_http)


# --------------------------------------------------------------------------
# Helpers used by several tests
# --------------------------------------------------------------------------

def assert_serving(http_endpoint, grpc_endpoint, golden, reference):
    """A normal batch-1 inference still succeeds on both protocols."""
    x = golden.input[:1]
    expected = reference.run(x)
    for ep in (http_endpoint, grpc_endpoint):
        result = ep.infer(x)
        np.testing.assert_allclose(result.as_numpy(OUTPUT), expected, rtol=0, atol=SERVER_ATOL,
                                   err_msg="server stopped serving correctly over %s" % ep.name)
