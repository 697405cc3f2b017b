"""TorchServe custom handler: the PaddleOCR orientation classifier on ONNX Runtime (CPU).

TorchServe's frontend batches the requests (batchSize / maxBatchDelay) and hands them to handle() as one list;
they run as one ONNX Runtime call (peer_common.run_batch). One worker, so one execution at a time.

Each request's payload is the raw little-endian FP32 tensor bytes ([n,3,48,192], n from the length), sent by
front.py as the "data" input of TorchServe's gRPC Predictions call. Each reply is the raw FP32 output bytes
followed by a 12-byte execution record (batch size uint32, engine ns uint64, little-endian): filled in on the
batch's first request and zero on the others, so the front counts every execution exactly once.
"""

import struct

import numpy as np

import peer_common

RECORD = struct.Struct("<IQ")
NO_RECORD = RECORD.pack(0, 0)
SAMPLE_BYTES = 4 * int(np.prod(peer_common.INPUT_DIMS))


class OnnxRuntimeHandler:
    def __init__(self):
        self.session = None
        self.last = (0, 0)

    def initialize(self, context):
        self.session = peer_common.make_session()

    def record_execution(self, batch_size, infer_ns):  # called by peer_common.run_batch
        self.last = (batch_size, infer_ns)

    def handle(self, data, context):
        arrays = []
        for request in data:
            payload = request.get("data") or request.get("body")
            if not isinstance(payload, (bytes, bytearray)) or not payload or len(payload) % SAMPLE_BYTES:
                raise ValueError("expected the raw FP32 bytes of a [n,3,48,192] tensor as input 'data'")
            arrays.append(np.frombuffer(payload, dtype="<f4").reshape([-1] + peer_common.INPUT_DIMS))
        outputs = peer_common.run_batch(self.session, arrays, stats=self)
        record = RECORD.pack(*self.last)
        return [np.ascontiguousarray(out, dtype="<f4").tobytes() + (record if i == 0 else NO_RECORD)
                for i, out in enumerate(outputs)]
