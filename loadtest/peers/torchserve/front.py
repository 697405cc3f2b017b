"""KServe v2 front for TorchServe: answers perf_analyzer (v2 gRPC and REST) and forwards every inference to
TorchServe's own gRPC inference API (Predictions), as the raw FP32 tensor bytes.

TorchServe 0.12 has no v2 endpoint perf_analyzer can use (see README.md), so this process is the extra hop:
  perf_analyzer -> front (v2) -> TorchServe frontend (Java, gRPC Predictions; batching) -> worker (handler.py)

It starts listening only when TorchServe reports the model's worker ready, and exits when TorchServe does.
Model config and statistics come from the suite's v2 add-on (peer_common.install_v2_addon); the statistics count
requests around the forwarded call and executions from the record handler.py appends to each reply.

  usage: front.py HTTP_PORT GRPC_PORT TORCHSERVE_GRPC_PORT TORCHSERVE_MANAGEMENT_PORT TORCHSERVE_PID
"""

import asyncio
import json
import os
import struct
import sys
import time
import urllib.request

import numpy as np

import peer_common

peer_common.install_v2_addon()

import grpc  # noqa: E402
import uvicorn  # noqa: E402

RECORD = struct.Struct("<IQ")
PREDICTIONS = "/org.pytorch.serve.grpc.inference.InferenceAPIsService/Predictions"
SERVICE = "inference.GRPCInferenceService"
SERVER = {"name": "torchserve", "version": "0.12.0", "extensions": []}


class TorchServe:
    """Client of TorchServe's gRPC Predictions (inference.proto, package org.pytorch.serve.grpc.inference): the
    two messages are encoded by hand, so no generated code for them is needed."""

    def __init__(self, port):
        self.channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=[
            ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
        self.call = self.channel.unary_unary(PREDICTIONS)  # bytes in, bytes out
        # PredictionsRequest{model_name = 1; map<string, bytes> input = 3}, the map entry {key = 1; value = 2}
        self.prefix = peer_common._str(1, peer_common.MODEL_NAME)

    async def infer(self, array):
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        request = self.prefix + peer_common._bytes(3, peer_common._str(1, "data") + peer_common._bytes(2, raw))
        reply = _prediction(await self.call(request))  # PredictionResponse{bytes prediction = 1}
        size, infer_ns = RECORD.unpack_from(reply, len(reply) - RECORD.size)
        if size:
            peer_common.STATS.record_execution(size, infer_ns)
        return np.frombuffer(reply, dtype="<f4", count=(len(reply) - RECORD.size) // 4).reshape(
            [-1] + peer_common.OUTPUT_DIMS)


def _varint(data, pos):
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7


def _prediction(message):
    """The bytes of field 1 of a PredictionResponse."""
    pos = 0
    while pos < len(message):
        key, pos = _varint(message, pos)
        if key & 7 == 2:
            length, pos = _varint(message, pos)
            if key >> 3 == 1:
                return message[pos:pos + length]
            pos += length
        elif key & 7 == 0:
            _, pos = _varint(message, pos)
        else:
            raise ValueError(f"unexpected wire type in PredictionResponse: {key & 7}")
    raise ValueError("PredictionResponse without a prediction")


async def timed_infer(torchserve, array):
    start = time.perf_counter_ns()
    out = await torchserve.infer(array)
    peer_common.STATS.record_request(time.perf_counter_ns() - start)
    return out


def grpc_handler(torchserve):
    pb = peer_common.grpc_pb()

    def method(fn, request_class):
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=request_class.FromString, response_serializer=lambda m: m.SerializeToString())

    async def server_live(request, context):
        return pb.ServerLiveResponse(live=True)

    async def server_ready(request, context):
        return pb.ServerReadyResponse(ready=True)

    async def model_ready(request, context):
        return pb.ModelReadyResponse(ready=request.name == peer_common.MODEL_NAME)

    async def server_metadata(request, context):
        return pb.ServerMetadataResponse(**SERVER)

    async def model_metadata(request, context):
        if request.name != peer_common.MODEL_NAME:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown model '{request.name}'")
        return peer_common.grpc_metadata_response()

    async def model_infer(request, context):
        if request.model_name != peer_common.MODEL_NAME:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown model '{request.model_name}'")
        try:
            array = peer_common.decode_grpc_infer(request)
        except ValueError as e:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
        try:
            out = await timed_infer(torchserve, array)
        except grpc.aio.AioRpcError as e:
            await context.abort(grpc.StatusCode.INTERNAL, f"TorchServe: {e.code().name} {e.details()}")
        return peer_common.encode_grpc_infer(request, out)

    return grpc.method_handlers_generic_handler(SERVICE, {
        "ServerLive": method(server_live, pb.ServerLiveRequest),
        "ServerReady": method(server_ready, pb.ServerReadyRequest),
        "ModelReady": method(model_ready, pb.ModelReadyRequest),
        "ServerMetadata": method(server_metadata, pb.ServerMetadataRequest),
        "ModelMetadata": method(model_metadata, pb.ModelMetadataRequest),
        "ModelInfer": method(model_infer, pb.ModelInferRequest),
    })


def rest_app(torchserve):
    # the add-on adds .../config and .../stats
    return peer_common.v2_rest_app(SERVER, lambda array: timed_infer(torchserve, array))


def torchserve_ready(management_port):
    """True when TorchServe's management API reports a READY worker for the model."""
    url = f"http://127.0.0.1:{management_port}/models/{peer_common.MODEL_NAME}"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            workers = json.load(r)[0].get("workers", [])
        return any(w.get("status") == "READY" for w in workers)
    except (OSError, ValueError, IndexError, KeyError):
        return False


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


async def main(http_port, grpc_port, ts_grpc_port, ts_management_port, ts_pid):
    while not torchserve_ready(ts_management_port):
        if not alive(ts_pid):
            sys.exit("front: TorchServe exited before its model was ready")
        await asyncio.sleep(0.5)
    torchserve = TorchServe(ts_grpc_port)
    server = grpc.aio.server(options=[("grpc.max_receive_message_length", -1),
                                      ("grpc.max_send_message_length", -1)])  # the add-on's methods come first
    server.add_generic_rpc_handlers((grpc_handler(torchserve),))
    server.add_insecure_port(f"127.0.0.1:{grpc_port}")
    await server.start()
    rest = uvicorn.Server(uvicorn.Config(rest_app(torchserve), host="127.0.0.1", port=http_port, loop="none",
                                         log_level="warning", access_log=False))
    rest_task = asyncio.create_task(rest.serve())
    print(f"front: v2 REST on 127.0.0.1:{http_port}, v2 gRPC on 127.0.0.1:{grpc_port} -> TorchServe gRPC "
          f"127.0.0.1:{ts_grpc_port}", flush=True)
    while alive(ts_pid) and not rest_task.done():
        await asyncio.sleep(1)
    sys.exit("front: TorchServe exited")


if __name__ == "__main__":
    asyncio.run(main(*map(int, sys.argv[1:6])))
