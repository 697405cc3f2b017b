"""MLServer custom runtime: the PaddleOCR orientation classifier on ONNX Runtime (CPU).

Like MLServer's own runtimes (mlserver-sklearn, -xgboost), predict() runs the engine synchronously in the
server's event loop, so one execution runs at a time (one instance). With adaptive batching on, MLServer merges
the waiting requests into one request along the batch dimension before predict() and splits the response.
"""

from mlserver import MLModel
from mlserver.codecs import NumpyCodec
from mlserver.types import InferenceRequest, InferenceResponse

import peer_common


class OnnxRuntimeModel(MLModel):
    async def load(self) -> bool:
        self.session = peer_common.make_session()
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        x = NumpyCodec.decode_input(payload.inputs[0])
        out = peer_common.run_batch(self.session, [x])[0]
        return InferenceResponse(
            model_name=self.name,
            model_version=self.version,
            outputs=[NumpyCodec.encode_output(peer_common.OUTPUT_NAME, out)],
        )
