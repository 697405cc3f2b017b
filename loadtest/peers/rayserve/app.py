"""Ray Serve application: the PaddleOCR orientation classifier on ONNX Runtime (CPU), answering KServe v2 over
Ray Serve's own HTTP proxy (a FastAPI ingress) and gRPC proxy (tritonclient's inference.GRPCInferenceService
registered as the proxy's servicer; each RPC reaches the deployment method of the same name).

One deployment, one replica, which is both the ingress and the model. Its FastAPI app is built in the replica
(__serve_build_asgi_app__), after the suite's v2 add-on is installed there, so the add-on's config/stats routes
and the ModelConfig/ModelStatistics methods answer from the replica's own statistics (requests around the engine
path, executions around the engine call). Batching on: @serve.batch(max_batch_size=PEER_MAX_BATCH,
batch_wait_timeout_s=PEER_DELAY_US), one batch executing at a time; off: one request per engine call. The engine
runs in one worker thread, so the replica's event loop stays free and one execution runs at a time.

  usage: app.py HTTP_PORT GRPC_PORT METRICS_PORT RAY_TEMP_DIR
"""

import asyncio
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import peer_common
from ray import serve

SERVICER = "tritonclient.grpc.service_pb2_grpc.add_GRPCInferenceServiceServicer_to_server"


def samples(arrays):
    return sum(a.shape[0] for a in arrays)


@serve.deployment(num_replicas=1, max_ongoing_requests=1024, ray_actor_options={"num_cpus": 1})
@serve.ingress()
class OnnxRuntimeModel:
    def __init__(self):
        import ray

        self.server = {"name": "rayserve", "version": ray.__version__, "extensions": []}
        self.session = peer_common.make_session()
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ort")
        self.pb = peer_common.grpc_pb()

    async def _run(self, arrays):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, peer_common.run_batch, self.session, arrays)

    @serve.batch(max_batch_size=peer_common.MAX_BATCH, batch_wait_timeout_s=peer_common.DELAY_US / 1e6,
                 batch_size_fn=samples)
    async def _batched(self, arrays):
        return await self._run(arrays)

    async def infer(self, array):
        start = time.perf_counter_ns()
        if peer_common.BATCHING:
            out = await self._batched(array)
        else:
            out = (await self._run([array]))[0]
        peer_common.STATS.record_request(time.perf_counter_ns() - start)
        return out

    # ---- v2 REST (Ray Serve's HTTP proxy -> this app, built in the replica) ----

    def __serve_build_asgi_app__(self):
        peer_common.install_v2_addon(rest=True, grpc_server=False)  # GET .../config and .../stats
        return peer_common.v2_rest_app(self.server, self.infer)

    # ---- v2 gRPC (Ray Serve's gRPC proxy -> the method named like the RPC) ----

    async def ServerLive(self, request):  # noqa: N802 - RPC names
        return self.pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request):  # noqa: N802
        return self.pb.ServerReadyResponse(ready=True)

    async def ModelReady(self, request):  # noqa: N802
        return self.pb.ModelReadyResponse(ready=request.name == peer_common.MODEL_NAME)

    async def ServerMetadata(self, request):  # noqa: N802
        return self.pb.ServerMetadataResponse(**self.server)

    async def ModelMetadata(self, request):  # noqa: N802
        return peer_common.grpc_metadata_response()

    async def ModelConfig(self, request):  # noqa: N802 - the add-on's encoding
        return self.pb.ModelConfigResponse.FromString(peer_common.config_proto())

    async def ModelStatistics(self, request):  # noqa: N802 - the add-on's encoding
        return self.pb.ModelStatisticsResponse.FromString(peer_common.stats_proto())

    async def ModelInfer(self, request):  # noqa: N802
        out = await self.infer(peer_common.decode_grpc_infer(request))
        return peer_common.encode_grpc_infer(request, out)


def main(http_port, grpc_port, metrics_port, temp_dir):
    import ray
    from ray.serve.config import gRPCOptions
    from ray.serve.schema import LoggingConfig

    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        _temp_dir=temp_dir,
        _metrics_export_port=metrics_port,
        logging_level=logging.WARNING,
        runtime_env={"worker_process_setup_hook": "worker_setup.setup"},
    )
    # Ray Serve logs every request (proxy and replica access logs) at INFO; the other servers log none.
    quiet = LoggingConfig(enable_access_log=False, log_level="WARNING")
    serve.start(
        http_options={"host": "127.0.0.1", "port": http_port},
        grpc_options=gRPCOptions(port=grpc_port, grpc_servicer_functions=[SERVICER]),
        logging_config=quiet,
    )
    serve.run(OnnxRuntimeModel.bind(), name=peer_common.MODEL_NAME, route_prefix="/", logging_config=quiet)
    print(f"rayserve: v2 REST on 127.0.0.1:{http_port}, v2 gRPC on 127.0.0.1:{grpc_port}", flush=True)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    while not stop:
        time.sleep(0.5)
    ray.shutdown()  # ends the local cluster this driver started (serve.sh then ends any process left)


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
