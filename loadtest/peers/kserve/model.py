"""KServe model server (v2 protocol, REST + gRPC) serving the PaddleOCR orientation classifier on ONNX Runtime.

KServe's Python server has no dynamic batcher of its own (batching is a separate agent in a KServe deployment),
so batching "on" uses the suite's AsyncBatcher (peer_common.py): the requests waiting when the engine is free
run as one execution, up to PEER_MAX_BATCH. Either way the engine runs in one worker thread: one instance.

Also installs, in this process: the v2 add-on (model config and statistics for perf_analyzer) and loopback-only
binding (KServe binds every interface otherwise).
"""

import asyncio
import logging
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import peer_common

peer_common.install_v2_addon()


def _bind_loopback():
    import grpc.aio
    import uvicorn

    config_init = uvicorn.Config.__init__

    def init(self, *args, **kwargs):
        kwargs["host"] = "127.0.0.1"
        config_init(self, *args, **kwargs)

    uvicorn.Config.__init__ = init
    make_server = grpc.aio.server  # already wrapped by the add-on

    def server(*args, **kwargs):
        s = make_server(*args, **kwargs)
        add_port = s.add_insecure_port
        s.add_insecure_port = lambda address: add_port("127.0.0.1:" + address.rsplit(":", 1)[1])
        return s

    grpc.aio.server = server


_bind_loopback()

import kserve  # noqa: E402
from kserve import InferOutput, InferRequest, InferResponse  # noqa: E402


class OnnxRuntimeModel(kserve.Model):
    def __init__(self, name):
        super().__init__(name)
        self.session = None
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ort")
        self.batcher = None
        self.load()

    def load(self):
        self.session = peer_common.make_session()
        if peer_common.BATCHING:
            self.batcher = peer_common.AsyncBatcher(self.session)
        self.ready = True
        return self.ready

    def get_input_types(self):
        return [{"name": peer_common.INPUT_NAME, "datatype": "FP32", "shape": [-1] + peer_common.INPUT_DIMS}]

    def get_output_types(self):
        return [{"name": peer_common.OUTPUT_NAME, "datatype": "FP32", "shape": [-1] + peer_common.OUTPUT_DIMS}]

    async def predict(self, payload: InferRequest, headers=None, response_headers=None) -> InferResponse:
        start = time.perf_counter_ns()
        x = payload.inputs[0].as_numpy()
        if self.batcher is not None:
            out = await self.batcher.infer(x)
        else:
            loop = asyncio.get_running_loop()
            out = (await loop.run_in_executor(self.executor, peer_common.run_batch, self.session, [x]))[0]
        output = InferOutput(name=peer_common.OUTPUT_NAME, shape=list(out.shape), datatype="FP32")
        output.set_data_from_numpy(out)
        peer_common.STATS.record_request(time.perf_counter_ns() - start)
        return InferResponse(response_id=payload.id or "", model_name=self.name, infer_outputs=[output])


if __name__ == "__main__":
    http_port, grpc_port = int(sys.argv[1]), int(sys.argv[2])
    server = kserve.ModelServer(http_port=http_port, grpc_port=grpc_port, workers=1, enable_docs_url=False,
                                enable_latency_logging=False)
    # KServe logs every gRPC call and HTTP request at INFO; the other servers log none.
    for name in ("kserve", "kserve.trace", "uvicorn.access"):
        logging.getLogger(name).setLevel(logging.WARNING)
    server.start([OnnxRuntimeModel(peer_common.MODEL_NAME)])
