"""Shared pieces of the peer suite's model wrappers (loadtest/peers/*).

Every peer serves the same model with the same ONNX Runtime session settings as Serval's CPU engine
(intra-op threads = PEER_THREADS, inter-op 1, sequential execution, all graph optimisations, no spinning),
so the comparison measures the servers, not the engine.

It also holds the "v2 add-on" for servers that lack the parts of the Open Inference Protocol that
perf_analyzer calls (model config and model statistics, REST and gRPC): ``install_v2_addon`` hooks the
server's FastAPI apps and gRPC servers, in the server's own process, before they are created.

Settings come from the environment that loadtest/peers.sh exports:
  PEER_THREADS (2), PEER_MAX_BATCH (8), PEER_DELAY_US (0), PEER_MODEL_NAME (ocr_orientation),
  PEER_MODEL_PATH (path of model.onnx), PEER_BATCHING (on|off).
"""

import asyncio
import os
import threading
import time

import numpy as np

THREADS = int(os.environ.get("PEER_THREADS", "2"))
MAX_BATCH = int(os.environ.get("PEER_MAX_BATCH", "8"))
DELAY_US = int(os.environ.get("PEER_DELAY_US", "0"))
MODEL_NAME = os.environ.get("PEER_MODEL_NAME", "ocr_orientation")
MODEL_PATH = os.environ.get("PEER_MODEL_PATH", "models/ocr_orientation/1/model.onnx")
BATCHING = os.environ.get("PEER_BATCHING", "on") == "on"

INPUT_NAME = "x"
INPUT_DIMS = [3, 48, 192]
OUTPUT_NAME = "softmax_0.tmp_0"
OUTPUT_DIMS = [2]


def make_session(path=None, threads=None):
    """An ONNX Runtime CPU session configured like Serval's engine."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or THREADS
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return ort.InferenceSession(path or MODEL_PATH, sess_options=options, providers=["CPUExecutionProvider"])


class Stats:
    """Triton-shaped model statistics, kept by wrappers whose server has none."""

    def __init__(self):
        self._lock = threading.Lock()
        self.success_count = 0
        self.success_ns = 0
        self.inference_count = 0
        self.execution_count = 0
        self.infer_ns = 0
        self.last_inference_ms = 0
        self.batches = {}  # batch size -> [count, ns]

    def record_execution(self, batch_size, infer_ns):
        with self._lock:
            self.execution_count += 1
            self.inference_count += batch_size
            self.infer_ns += infer_ns
            entry = self.batches.setdefault(batch_size, [0, 0])
            entry[0] += 1
            entry[1] += infer_ns
            self.last_inference_ms = int(time.time() * 1000)

    def record_request(self, request_ns):
        with self._lock:
            self.success_count += 1
            self.success_ns += request_ns

    def as_dict(self):
        with self._lock:
            def duration(count, ns):
                return {"count": count, "ns": ns}

            # Only the end-to-end request time and the engine time are measured; queue, input and output
            # times are not separated out (reported as zero, with the request count).
            n = self.success_count
            return {
                "model_stats": [{
                    "name": MODEL_NAME,
                    "version": "1",
                    "last_inference": self.last_inference_ms,
                    "inference_count": self.inference_count,
                    "execution_count": self.execution_count,
                    "inference_stats": {
                        "success": duration(n, self.success_ns),
                        "fail": duration(0, 0),
                        "queue": duration(n, 0),
                        "compute_input": duration(n, 0),
                        "compute_infer": duration(n, int(self.infer_ns * n / max(self.inference_count, 1))),
                        "compute_output": duration(n, 0),
                        "cache_hit": duration(0, 0),
                        "cache_miss": duration(0, 0),
                    },
                    "batch_stats": [
                        {"batch_size": size, "compute_input": duration(c, 0), "compute_infer": duration(c, ns),
                         "compute_output": duration(c, 0)}
                        for size, (c, ns) in sorted(self.batches.items())
                    ],
                }]
            }


STATS = Stats()


def run_batch(session, arrays, stats=STATS):
    """Runs one execution over the concatenation of ``arrays`` (each [n,3,48,192]); returns one output per array."""
    batch = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
    batch = np.ascontiguousarray(batch, dtype=np.float32)
    start = time.perf_counter_ns()
    out = session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0]
    stats.record_execution(batch.shape[0], time.perf_counter_ns() - start)
    if len(arrays) == 1:
        return [out]
    parts, offset = [], 0
    for a in arrays:
        parts.append(out[offset:offset + a.shape[0]])
        offset += a.shape[0]
    return parts


class AsyncBatcher:
    """A dynamic batcher for servers without one: requests that are waiting when the engine becomes free are
    run together, up to MAX_BATCH samples, waiting at most DELAY_US for more (0: never waits). The engine runs in
    one worker thread, so one execution at a time, like one model instance."""

    def __init__(self, session, max_batch=None, delay_us=None):
        self.session = session
        self.max_batch = max_batch or MAX_BATCH
        self.delay_s = (DELAY_US if delay_us is None else delay_us) / 1e6
        self.queue = None
        self.task = None

    async def infer(self, array):
        if self.queue is None:
            self.queue = asyncio.Queue()
            self.task = asyncio.get_running_loop().create_task(self._loop())
        future = asyncio.get_running_loop().create_future()
        await self.queue.put((array, future))
        return await future

    async def _loop(self):
        loop = asyncio.get_running_loop()
        pending = None
        while True:
            first = pending or await self.queue.get()
            pending = None
            items, size = [first], first[0].shape[0]
            deadline = loop.time() + self.delay_s
            while size < self.max_batch:
                try:
                    if self.delay_s > 0:
                        item = await asyncio.wait_for(self.queue.get(), max(deadline - loop.time(), 0))
                    else:
                        item = self.queue.get_nowait()
                except (asyncio.QueueEmpty, asyncio.TimeoutError):
                    break
                if size + item[0].shape[0] > self.max_batch:
                    pending = item
                    break
                items.append(item)
                size += item[0].shape[0]
            try:
                outs = await loop.run_in_executor(None, run_batch, self.session, [a for a, _ in items])
                for (_, fut), out in zip(items, outs):
                    if not fut.done():
                        fut.set_result(out)
            except Exception as e:  # noqa: BLE001 - handed to every waiting request
                for _, fut in items:
                    if not fut.done():
                        fut.set_exception(e)


# ----------------------------------------------------------------------------------------------------------
# Triton-shaped model config, as JSON (REST) and as protobuf bytes (gRPC, encoded by hand so no second copy of
# the inference.* protobuf messages is registered next to the server's own).


def config_dict(batching=None):
    batching = BATCHING if batching is None else batching
    config = {
        "name": MODEL_NAME,
        "platform": "",
        "backend": "onnxruntime",
        "max_batch_size": MAX_BATCH,
        "input": [{"name": INPUT_NAME, "data_type": "TYPE_FP32", "format": "FORMAT_NONE", "dims": INPUT_DIMS}],
        "output": [{"name": OUTPUT_NAME, "data_type": "TYPE_FP32", "dims": OUTPUT_DIMS}],
        "instance_group": [{"name": MODEL_NAME, "kind": "KIND_CPU", "count": 1}],
    }
    if batching:
        config["dynamic_batching"] = {"max_queue_delay_microseconds": DELAY_US}
    return config


def _varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(field, value):
    return _varint(field << 3) + _varint(value) if value else b""


def _bytes(field, data):
    return _varint((field << 3) | 2) + _varint(len(data)) + data


def _str(field, text):
    return _bytes(field, text.encode()) if text else b""


def _packed(field, values):
    return _bytes(field, b"".join(_varint(v) for v in values))


TYPE_FP32 = 11
KIND_CPU = 2


def config_proto(batching=None):
    """inference.ModelConfigResponse bytes."""
    c = config_dict(batching)
    model_input = _str(1, INPUT_NAME) + _int(2, TYPE_FP32) + _packed(4, INPUT_DIMS)
    model_output = _str(1, OUTPUT_NAME) + _int(2, TYPE_FP32) + _packed(3, OUTPUT_DIMS)
    instance = _str(1, MODEL_NAME) + _int(4, KIND_CPU) + _int(2, 1)
    config = (_str(1, c["name"]) + _str(17, c["backend"]) + _int(4, c["max_batch_size"])
              + _bytes(5, model_input) + _bytes(6, model_output) + _bytes(7, instance))
    if "dynamic_batching" in c:
        config += _bytes(11, _int(2, c["dynamic_batching"]["max_queue_delay_microseconds"]))
    return _bytes(1, config)


def _duration(d):
    return _int(1, d["count"]) + _int(2, d["ns"])


def stats_proto(stats=STATS):
    """inference.ModelStatisticsResponse bytes."""
    s = stats.as_dict()["model_stats"][0]
    keys = ["success", "fail", "queue", "compute_input", "compute_infer", "compute_output", "cache_hit",
            "cache_miss"]
    infer = b"".join(_bytes(i + 1, _duration(s["inference_stats"][k])) for i, k in enumerate(keys))
    body = (_str(1, s["name"]) + _str(2, s["version"]) + _int(3, s["last_inference"])
            + _int(4, s["inference_count"]) + _int(5, s["execution_count"]) + _bytes(6, infer))
    for b in s["batch_stats"]:
        body += _bytes(7, _int(1, b["batch_size"]) + _bytes(2, _duration(b["compute_input"]))
                       + _bytes(3, _duration(b["compute_infer"])) + _bytes(4, _duration(b["compute_output"])))
    return _bytes(1, body)


# ----------------------------------------------------------------------------------------------------------
# The add-on: hooks installed before the server builds its REST app and gRPC server.

GRPC_SERVICE = "inference.GRPCInferenceService"


def _grpc_handler():
    import grpc

    async def model_config(request, context):
        return config_proto()

    async def model_statistics(request, context):
        return stats_proto()

    return grpc.method_handlers_generic_handler(GRPC_SERVICE, {
        "ModelConfig": grpc.unary_unary_rpc_method_handler(model_config),
        "ModelStatistics": grpc.unary_unary_rpc_method_handler(model_statistics),
    })


def _add_rest_routes(app):
    from fastapi.responses import JSONResponse

    async def model_config():
        return JSONResponse(config_dict())

    async def model_statistics():
        return JSONResponse(STATS.as_dict())

    for prefix in (f"/v2/models/{MODEL_NAME}", f"/v2/models/{MODEL_NAME}/versions/1"):
        app.add_api_route(prefix + "/config", model_config, methods=["GET"])
        app.add_api_route(prefix + "/stats", model_statistics, methods=["GET"])


def install_v2_addon(rest=True, grpc_server=True):
    """Adds GET /v2/models/NAME[/versions/1]/config|stats to every FastAPI app created from now on, and the gRPC
    methods ModelConfig and ModelStatistics to every grpc.aio server created from now on."""
    if rest:
        import fastapi

        original_init = fastapi.FastAPI.__init__

        def init(self, *args, **kwargs):
            original_init(self, *args, **kwargs)
            _add_rest_routes(self)

        fastapi.FastAPI.__init__ = init
    if grpc_server:
        import grpc.aio

        original_server = grpc.aio.server

        def server(*args, **kwargs):
            s = original_server(*args, **kwargs)
            s.add_generic_rpc_handlers((_grpc_handler(),))
            return s

        grpc.aio.server = server


# ----------------------------------------------------------------------------------------------------------
# v2 codecs for peers whose server does not speak KServe v2 itself (TorchServe's front, Ray Serve's ingress):
# model metadata, the REST infer body (JSON, or JSON plus the binary tensor data extension perf_analyzer uses)
# and the gRPC ModelInfer messages (tritonclient's inference.* protobuf classes, imported only when called).


def model_metadata():
    return {
        "name": MODEL_NAME,
        "versions": ["1"],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": INPUT_NAME, "datatype": "FP32", "shape": [-1] + INPUT_DIMS}],
        "outputs": [{"name": OUTPUT_NAME, "datatype": "FP32", "shape": [-1] + OUTPUT_DIMS}],
    }


def v2_rest_app(server, infer):
    """A FastAPI app answering v2 REST for the one model: health, server and model metadata, readiness, and infer
    (JSON or binary tensors). `server` is the server metadata; `infer` an async function from the input array to
    the output array, whose failures become 500s. With install_v2_addon(rest=True), the app also has .../config
    and .../stats."""
    from fastapi import FastAPI, Request, Response
    from fastapi.responses import JSONResponse

    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    model = f"/v2/models/{MODEL_NAME}"

    @app.get("/v2/health/live")
    async def live():
        return {"live": True}

    @app.get("/v2/health/ready")
    async def ready():
        return {"ready": True}

    @app.get("/v2")
    async def server_metadata():
        return server

    @app.get(model + "/ready")
    @app.get(model + "/versions/1/ready")
    async def model_ready():
        return {"name": MODEL_NAME, "ready": True}

    @app.get(model)
    @app.get(model + "/versions/1")
    async def metadata():
        return model_metadata()

    @app.post(model + "/infer")
    @app.post(model + "/versions/1/infer")
    async def model_infer(request: Request):
        try:
            body, array = decode_rest_infer(
                await request.body(), request.headers.get("inference-header-content-length"))
        except (ValueError, KeyError, TypeError) as e:
            return JSONResponse({"error": str(e)}, status_code=400)
        try:
            out = await infer(array)
        except Exception as e:  # noqa: BLE001 - every failure of the peer's engine call is this request's 500
            return JSONResponse({"error": f"{type(e).__name__}: {e}"}, status_code=500)
        content, headers = encode_rest_infer(body, out)
        return Response(content, headers=headers)

    return app


def decode_rest_infer(body, header_length=None):
    """A v2 REST infer body -> (request JSON, input array). header_length: the Inference-Header-Content-Length
    header (binary tensor data follows the JSON), None for plain JSON."""
    import json

    header_length = len(body) if header_length is None else int(header_length)
    request = json.loads(body[:header_length])
    tensor = next((t for t in request.get("inputs", []) if t.get("name") == INPUT_NAME), None)
    if tensor is None:
        raise ValueError(f"request has no input '{INPUT_NAME}'")
    if tensor.get("datatype") != "FP32":
        raise ValueError(f"input '{INPUT_NAME}' must be FP32")
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if size is not None:
        array = np.frombuffer(body, dtype="<f4", count=size // 4, offset=header_length)
    else:
        array = np.asarray(tensor["data"], dtype=np.float32)
    return request, array.reshape(tensor["shape"])


def encode_rest_infer(request, out):
    """The v2 REST infer response for ``out`` -> (body bytes, headers): binary output data when the request asks
    for it (binary_data_output, or the output's binary_data parameter), JSON otherwise."""
    import json

    binary = (request.get("parameters") or {}).get("binary_data_output", False)
    for requested in request.get("outputs") or []:
        if requested.get("name") == OUTPUT_NAME:
            binary = (requested.get("parameters") or {}).get("binary_data", binary)
    tensor = {"name": OUTPUT_NAME, "datatype": "FP32", "shape": list(out.shape)}
    response = {"model_name": MODEL_NAME, "model_version": "1", "outputs": [tensor]}
    if request.get("id"):
        response["id"] = request["id"]
    if not binary:
        tensor["data"] = out.ravel().tolist()
        return json.dumps(response).encode(), {"content-type": "application/json"}
    raw = np.ascontiguousarray(out, dtype="<f4").tobytes()
    tensor["parameters"] = {"binary_data_size": len(raw)}
    header = json.dumps(response).encode()
    return header + raw, {"content-type": "application/octet-stream",
                          "inference-header-content-length": str(len(header))}


def grpc_pb():
    """tritonclient's inference.* protobuf classes (service_pb2)."""
    from tritonclient.grpc import service_pb2

    return service_pb2


def decode_grpc_infer(request):
    """inference.ModelInferRequest -> input array (raw_input_contents, or the typed fp32_contents)."""
    index, tensor = next(((i, t) for i, t in enumerate(request.inputs) if t.name == INPUT_NAME), (None, None))
    if tensor is None:
        raise ValueError(f"request has no input '{INPUT_NAME}'")
    if tensor.datatype != "FP32":
        raise ValueError(f"input '{INPUT_NAME}' must be FP32")
    if request.raw_input_contents:
        array = np.frombuffer(request.raw_input_contents[index], dtype="<f4")
    else:
        array = np.asarray(tensor.contents.fp32_contents, dtype=np.float32)
    return array.reshape(list(tensor.shape))


def encode_grpc_infer(request, out):
    """The inference.ModelInferResponse for ``out`` (raw output contents, as Triton answers)."""
    pb = grpc_pb()
    response = pb.ModelInferResponse(model_name=MODEL_NAME, model_version="1", id=request.id)
    tensor = response.outputs.add()
    tensor.name, tensor.datatype = OUTPUT_NAME, "FP32"
    tensor.shape.extend(out.shape)
    response.raw_output_contents.append(np.ascontiguousarray(out, dtype="<f4").tobytes())
    return response


def grpc_metadata_response():
    pb = grpc_pb()
    m = model_metadata()
    response = pb.ModelMetadataResponse(name=m["name"], versions=m["versions"], platform=m["platform"])
    for field in ("inputs", "outputs"):
        for t in m[field]:
            getattr(response, field).add(name=t["name"], datatype=t["datatype"], shape=t["shape"])
    return response
