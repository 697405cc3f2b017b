"""The model under test, its golden data and the onnxruntime reference run.

Shared by both pytest runs of the conformance suite: the Triton one (this
folder's conftest.py) and the KServe one (kserve_client/conftest.py). It
imports no client library, because the two runs must stay in separate
processes: kserve's SDK and tritonclient.grpc each register the protocol's
protobuf messages (package `inference`) under their own .proto file name, and
protobuf refuses the second registration ("duplicate symbol
'inference.ServerLiveRequest'").
"""

import json
from dataclasses import dataclass

import numpy as np
import pytest

MODEL = "ocr_orientation"
INPUT = "x"
OUTPUT = "softmax_0.tmp_0"
LABELS = ["0", "180"]
MAX_BATCH_SIZE = 8
INPUT_DIMS = [3, 48, 192]
OUTPUT_DIMS = [2]
INFER_PATH = "/v2/models/%s/infer" % MODEL

# Tolerances: server output vs. a direct onnxruntime run of the same model
# file, and the direct run vs. the committed golden output.
SERVER_ATOL = 1e-5
GOLDEN_ATOL = 1e-4

# Things that must never leak into an error message sent to a client.
STACK_TRACE_MARKERS = ("at io.serval", "Exception", "\tat ")


def model_file(models_dir):
    return models_dir / MODEL / "1" / "model.onnx"


@dataclass(frozen=True)
class Golden:
    input: np.ndarray       # float32 [2, 3, 48, 192]: row 0 upright, row 1 rotated 180
    output: np.ndarray      # float32 [2, 2]: committed output_softmax.bin
    labels: list


def load_golden(models_dir):
    """models/ocr_orientation/golden: the committed input, output and labels."""
    folder = models_dir / MODEL / "golden"
    meta = json.loads((folder / "golden.json").read_text())
    inp, out = meta["input"], meta["output"]
    assert inp["name"] == INPUT and inp["datatype"] == "FP32"
    assert out["name"] == OUTPUT and out["datatype"] == "FP32"
    x = np.fromfile(folder / inp["file"], dtype="<f4").reshape(inp["shape"])
    y = np.fromfile(folder / out["file"], dtype="<f4").reshape(out["shape"])
    assert x.shape == (2, *INPUT_DIMS), x.shape
    assert y.shape == (2, *OUTPUT_DIMS), y.shape
    return Golden(input=np.ascontiguousarray(x, dtype=np.float32),
                  output=np.ascontiguousarray(y, dtype=np.float32),
                  labels=list(meta["expected_labels"]))


class Reference:
    """Runs models/ocr_orientation/1/model.onnx directly with onnxruntime."""

    def __init__(self, model_path):
        import onnxruntime as ort
        self._session = ort.InferenceSession(str(model_path),
                                             providers=["CPUExecutionProvider"])

    def run(self, x):
        (y,) = self._session.run([OUTPUT], {INPUT: np.ascontiguousarray(x, dtype=np.float32)})
        return np.asarray(y, dtype=np.float32)


def assert_close_to_reference(actual, expected, what):
    """Server output equals the direct onnxruntime run within SERVER_ATOL, as float32."""
    assert actual.dtype == np.float32, "%s: dtype %s, expected float32" % (what, actual.dtype)
    assert actual.shape == expected.shape, "%s: shape %s, expected %s" % (what, actual.shape,
                                                                       expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=0, atol=SERVER_ATOL,
                               err_msg="%s differs from direct onnxruntime run" % what)


def assert_clean_error(message, *fragments):
    """The server's error text contains every fragment and no Java stack trace."""
    assert isinstance(message, str) and message, "empty error message: %r" % (message,)
    for fragment in fragments:
        assert fragment in message, "error message %r does not contain %r" % (message, fragment)
    for marker in STACK_TRACE_MARKERS:
        assert marker not in message, \
            "error message leaks a Java stack trace / exception (%r): %r" % (marker, message)


def fail_on_missing_environment(environ, names):
    """pytest.fail (not skip) naming every unset variable of `names`."""
    missing = [name for name in names if not environ.get(name)]
    if missing:
        pytest.fail(
            "environment variable(s) not set: %s. The Java test that starts the "
            "server must export %s." % (", ".join(missing), ", ".join(names)),
            pytrace=False,
        )
    for name in names:
        if name.endswith("_URL") and "://" in environ[name]:
            pytest.fail("%s must be host:port without a scheme, got %r"
                        % (name, environ[name]), pytrace=False)
