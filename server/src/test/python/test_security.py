"""TLS, bearer tokens and the management port of Serval, checked with NVIDIA's own Triton clients.

Run by the Java test TritonClientSecurityTest, which starts two servers on the tiny `affine` model
(y = 2x + 1 on FP32 [batch, 4]) and passes everything through environment variables:

    SERVAL_SECURITY_HTTP_URL        host:port of the HTTPS port of the TLS + tokens server
    SERVAL_SECURITY_GRPC_URL        host:port of its gRPC port (TLS)
    SERVAL_SECURITY_METRICS_URL     host:port of its metrics port (TLS)
    SERVAL_SECURITY_MANAGEMENT_URL  host:port of its management port (TLS, bound to loopback)
    SERVAL_SECURITY_CA              PEM file the clients trust: the server's self-signed certificate
    SERVAL_SECURITY_INFER_TOKEN     a token with the infer scope
    SERVAL_SECURITY_METRICS_TOKEN   a token with the metrics scope only
    SERVAL_SECURITY_MANAGE_TOKEN    a token with the manage scope only
    SERVAL_SECURITY_MTLS_HTTP_URL   host:port of the HTTPS port of a server that requires client certificates
    SERVAL_SECURITY_MTLS_GRPC_URL   host:port of its gRPC port
    SERVAL_SECURITY_CLIENT_CERT     PEM client certificate that server accepts
    SERVAL_SECURITY_CLIENT_KEY      its PEM private key

Without them (as when test_conformance.py's run collects this file) the whole module is skipped.
"""

import http.client
import os
import ssl

import numpy as np
import pytest
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

REQUIRED_ENV = (
    "SERVAL_SECURITY_HTTP_URL",
    "SERVAL_SECURITY_GRPC_URL",
    "SERVAL_SECURITY_METRICS_URL",
    "SERVAL_SECURITY_MANAGEMENT_URL",
    "SERVAL_SECURITY_CA",
    "SERVAL_SECURITY_INFER_TOKEN",
    "SERVAL_SECURITY_METRICS_TOKEN",
    "SERVAL_SECURITY_MANAGE_TOKEN",
    "SERVAL_SECURITY_MTLS_HTTP_URL",
    "SERVAL_SECURITY_MTLS_GRPC_URL",
    "SERVAL_SECURITY_CLIENT_CERT",
    "SERVAL_SECURITY_CLIENT_KEY",
)

if not os.environ.get("SERVAL_SECURITY_HTTP_URL"):
    pytest.skip("run by TritonClientSecurityTest, which starts TLS servers and sets SERVAL_SECURITY_*",
                allow_module_level=True)

MODEL = "affine"
X = np.array([[1.0, 2.0, 3.0, 4.0]], dtype=np.float32)
Y = 2 * X + 1


@pytest.fixture(scope="session", autouse=True)
def _require_environment():
    """Replaces conftest's check (meant for the conformance server) with this suite's variables."""
    missing = [name for name in REQUIRED_ENV if not os.environ.get(name)]
    if missing:
        pytest.fail("environment variable(s) not set: %s" % ", ".join(missing), pytrace=False)


def env(name):
    return os.environ["SERVAL_SECURITY_" + name]


def bearer(token_name, grpc=False):
    """Triton clients send extra headers per call; gRPC metadata keys are lower case."""
    return {("authorization" if grpc else "Authorization"): "Bearer " + env(token_name + "_TOKEN")}


def http_client(url_name="HTTP_URL", **ssl_options):
    options = {"ca_certs": env("CA")}
    options.update(ssl_options)
    return httpclient.InferenceServerClient(env(url_name), ssl=True, ssl_options=options)


def grpc_client(url_name="GRPC_URL", client_certificate=False):
    kwargs = {}
    if client_certificate:
        kwargs = {"private_key": env("CLIENT_KEY"), "certificate_chain": env("CLIENT_CERT")}
    return grpcclient.InferenceServerClient(env(url_name), ssl=True, root_certificates=env("CA"), **kwargs)


def infer(client, **kwargs):
    module = httpclient if isinstance(client, httpclient.InferenceServerClient) else grpcclient
    inp = module.InferInput("x", list(X.shape), "FP32")
    inp.set_data_from_numpy(X)
    return client.infer(MODEL, [inp], **kwargs)


def refused(call):
    with pytest.raises(InferenceServerException) as info:
        call()
    return info.value.status(), info.value.message()


# --------------------------------------------------------------------------
# tritonclient.http over HTTPS
# --------------------------------------------------------------------------

def test_http_infers_over_tls_with_an_infer_token():
    with http_client() as client:
        result = infer(client, headers=bearer("INFER"))
    np.testing.assert_array_equal(result.as_numpy("y"), Y)


def test_http_refuses_infer_without_token():
    with http_client() as client:
        status, message = refused(lambda: infer(client))
    assert status == "401"
    assert "needs a bearer token with the 'infer' scope" in message


def test_http_refuses_infer_with_an_unknown_token():
    with http_client() as client:
        status, message = refused(lambda: infer(client, headers={"Authorization": "Bearer guessed"}))
    assert (status, message) == ("401", "the bearer token is not valid")


def test_http_refuses_infer_with_a_token_without_the_infer_scope():
    with http_client() as client:
        status, message = refused(lambda: infer(client, headers=bearer("METRICS")))
    assert status == "403"
    assert "does not have the 'infer' scope" in message


def test_http_metadata_and_repository_index_need_the_infer_scope():
    with http_client() as client:
        assert refused(client.get_server_metadata)[0] == "401"
        assert refused(lambda: client.get_model_metadata(MODEL))[0] == "401"
        assert client.get_server_metadata(headers=bearer("INFER"))["name"]
        assert client.get_model_metadata(MODEL, headers=bearer("INFER"))["name"] == MODEL
        index = client.get_model_repository_index(headers=bearer("INFER"))
        assert MODEL in [model["name"] for model in index]


def test_http_health_stays_open_without_token():
    with http_client() as client:
        assert client.is_server_live()
        assert client.is_server_ready()


def test_http_refuses_plaintext():
    with httpclient.InferenceServerClient(env("HTTP_URL"), network_timeout=10) as client:
        with pytest.raises(Exception):
            client.get_server_metadata(headers=bearer("INFER"))


def test_http_refuses_clients_that_do_not_trust_the_certificate():
    # The default trust store (certifi) does not hold the test's self-signed certificate.
    with httpclient.InferenceServerClient(env("HTTP_URL"), ssl=True) as client:
        with pytest.raises(ssl.SSLError):
            client.is_server_live()


def get_metrics(token_name=None):
    host, _, port = env("METRICS_URL").rpartition(":")
    conn = http.client.HTTPSConnection(host, int(port), timeout=30,
                                       context=ssl.create_default_context(cafile=env("CA")))
    try:
        conn.request("GET", "/metrics", headers=bearer(token_name) if token_name else {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def test_metrics_need_the_metrics_scope():
    assert get_metrics()[0] == 401
    assert get_metrics("INFER")[0] == 403
    status, body = get_metrics("METRICS")
    assert status == 200
    assert "jvm_memory_used_bytes" in body


def test_http_management_calls_are_served_on_the_management_port_only():
    with http_client() as client:
        status, message = refused(lambda: client.load_model(MODEL, headers=bearer("MANAGE")))
    assert status == "404"
    assert "served on the management port only" in message

    with http_client("MANAGEMENT_URL") as client:
        assert refused(lambda: client.unload_model(MODEL))[0] == "401"
        assert refused(lambda: client.unload_model(MODEL, headers=bearer("INFER")))[0] == "403"
        # The server runs in explicit model control mode: Triton's repository API unloads and loads.
        client.unload_model(MODEL, headers=bearer("MANAGE"))
    with http_client() as client:
        status, message = refused(lambda: infer(client, headers=bearer("INFER")))
        assert status == "404"
        assert f"model '{MODEL}' is unloaded" in message
        index = client.get_model_repository_index(headers=bearer("INFER"))
        assert {"name": MODEL, "version": "", "state": "UNAVAILABLE", "reason": "unloaded"} in index
    with http_client("MANAGEMENT_URL") as client:
        client.load_model(MODEL, headers=bearer("MANAGE"))
    with http_client() as client:
        np.testing.assert_array_equal(infer(client, headers=bearer("INFER")).as_numpy("y"), Y)
        assert client.is_model_ready(MODEL, headers=bearer("INFER"))


# --------------------------------------------------------------------------
# tritonclient.grpc over TLS
# --------------------------------------------------------------------------

def test_grpc_infers_over_tls_with_an_infer_token():
    with grpc_client() as client:
        result = infer(client, headers=bearer("INFER", grpc=True))
    np.testing.assert_array_equal(result.as_numpy("y"), Y)


def test_grpc_refuses_infer_without_token_as_unauthenticated():
    with grpc_client() as client:
        status, message = refused(lambda: infer(client))
    assert status == "StatusCode.UNAUTHENTICATED"
    assert "needs a bearer token with the 'infer' scope" in message


def test_grpc_refuses_infer_with_an_unknown_token_as_unauthenticated():
    with grpc_client() as client:
        status, message = refused(lambda: infer(client, headers={"authorization": "Bearer guessed"}))
    assert (status, message) == ("StatusCode.UNAUTHENTICATED", "the bearer token is not valid")


def test_grpc_refuses_a_token_without_the_infer_scope_as_permission_denied():
    with grpc_client() as client:
        status, message = refused(lambda: infer(client, headers=bearer("MANAGE", grpc=True)))
    assert status == "StatusCode.PERMISSION_DENIED"
    assert "token 'ops' does not have the 'infer' scope" in message


def test_grpc_metadata_needs_the_infer_scope():
    with grpc_client() as client:
        assert refused(client.get_server_metadata)[0] == "StatusCode.UNAUTHENTICATED"
        assert client.get_server_metadata(headers=bearer("INFER", grpc=True)).name
        index = client.get_model_repository_index(headers=bearer("INFER", grpc=True))
        assert MODEL in [model.name for model in index.models]


def test_grpc_health_stays_open_without_token():
    with grpc_client() as client:
        assert client.is_server_live()
        assert client.is_server_ready()


def test_grpc_refuses_plaintext():
    with grpcclient.InferenceServerClient(env("GRPC_URL")) as client:
        status, _ = refused(lambda: client.is_server_live(client_timeout=10))
    assert status in ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED")


def test_grpc_management_calls_are_served_on_the_management_port_only():
    with grpc_client() as client:
        status, message = refused(lambda: client.load_model(MODEL, headers=bearer("MANAGE", grpc=True)))
    assert status == "StatusCode.UNIMPLEMENTED"
    assert "served on the management port only" in message

    with grpc_client("MANAGEMENT_URL") as client:
        assert refused(lambda: client.load_model(MODEL))[0] == "StatusCode.UNAUTHENTICATED"
        assert refused(lambda: client.load_model(MODEL, headers=bearer("INFER", grpc=True)))[0] \
            == "StatusCode.PERMISSION_DENIED"
        client.unload_model(MODEL, headers=bearer("MANAGE", grpc=True))
        status, message = refused(lambda: client.load_model("no_such_model", headers=bearer("MANAGE", grpc=True)))
        assert status == "StatusCode.NOT_FOUND"
        assert "no folder 'no_such_model' in the model repositories" in message
    with grpc_client() as client:
        assert refused(lambda: infer(client, headers=bearer("INFER", grpc=True)))[0] == "StatusCode.NOT_FOUND"
    with grpc_client("MANAGEMENT_URL") as client:
        client.load_model(MODEL, headers=bearer("MANAGE", grpc=True))
    with grpc_client() as client:
        np.testing.assert_array_equal(infer(client, headers=bearer("INFER", grpc=True)).as_numpy("y"), Y)


# --------------------------------------------------------------------------
# Client certificates required (tls.client_ca)
# --------------------------------------------------------------------------

def test_mtls_http_serves_a_client_with_a_certificate_from_the_client_ca():
    with http_client("MTLS_HTTP_URL", certfile=env("CLIENT_CERT"), keyfile=env("CLIENT_KEY")) as client:
        result = infer(client, headers=bearer("INFER"))
    np.testing.assert_array_equal(result.as_numpy("y"), Y)


def test_mtls_http_refuses_a_client_without_certificate():
    with http_client("MTLS_HTTP_URL") as client:
        with pytest.raises(Exception):
            infer(client, headers=bearer("INFER"))


def test_mtls_grpc_serves_a_client_with_a_certificate_from_the_client_ca():
    with grpc_client("MTLS_GRPC_URL", client_certificate=True) as client:
        result = infer(client, headers=bearer("INFER", grpc=True))
    np.testing.assert_array_equal(result.as_numpy("y"), Y)


def test_mtls_grpc_refuses_a_client_without_certificate():
    with grpc_client("MTLS_GRPC_URL") as client:
        status, _ = refused(lambda: client.is_server_live(client_timeout=10))
    assert status in ("StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED")
