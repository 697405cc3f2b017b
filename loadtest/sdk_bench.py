"""Python tritonclient against a running server, for loadtest/sdk-bench.sh: the counterpart of the Java driver
client-sdk/src/test/java/io/serval/client/bench/SdkOverheadBench.java, with the same workload, loop and output.

    .venv/bin/python loadtest/sdk_bench.py --endpoint 127.0.0.1:8001 --model digits --concurrency 32 \
        --seconds 10 --warmup 3

A closed loop of CONCURRENCY threads, each with its own tritonclient.grpc.InferenceServerClient (the client is not
meant to be shared between threads) calling the synchronous infer() one request after another: the input set from
the same float32 array every call (set_data_from_numpy, binary), the one output asked for and read with
as_numpy(), then checked against the answer of a first call (shape, values within 1e-3), so a wrong answer counts
as an error. Prints one JSON line: mode (py-grpc), model, concurrency, round, seconds, requests, requests_per_sec,
p50_us, p99_us, errors, cpu_us_per_request (the process's CPU time over the measured window per request).
"""
import argparse
import json
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient

WORKLOADS = {
    # model: (input, input shape, output, output shape)
    "digits": ("x", (1, 1, 28, 28), "probabilities", (1, 10)),
    "ocr_orientation": ("x", (1, 3, 48, 192), "softmax_0.tmp_0", (1, 2)),
}


def values(shape):
    """The Java driver's pattern: ((i * 7919) % 256) / 255 in float32."""
    count = int(np.prod(shape))
    return ((np.arange(count, dtype=np.int64) * 7919 % 256).astype(np.float32) / np.float32(255)).reshape(shape)


class Caller:
    """One thread's client: sends the workload's input, answers its output."""

    def __init__(self, endpoint, model):
        self.client = grpcclient.InferenceServerClient(url=endpoint)
        self.model = model
        self.input, self.input_shape, self.output, self.output_shape = WORKLOADS[model]
        self.values = values(self.input_shape)

    def call(self):
        tensor = grpcclient.InferInput(self.input, list(self.input_shape), "FP32")
        tensor.set_data_from_numpy(self.values)
        result = self.client.infer(self.model, [tensor], outputs=[grpcclient.InferRequestedOutput(self.output)])
        answer = result.as_numpy(self.output)
        if answer is None or tuple(answer.shape) != self.output_shape:
            raise ValueError(f"{self.output} shape {None if answer is None else list(answer.shape)} "
                             f"(expected: {list(self.output_shape)})")
        return answer

    def close(self):
        self.client.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="host:port of the gRPC listener")
    parser.add_argument("--model", default="ocr_orientation", choices=sorted(WORKLOADS))
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--round", type=int, default=1)
    args = parser.parse_args()
    if args.concurrency < 1:
        parser.error(f"concurrency: {args.concurrency} (expected: > 0)")

    first = Caller(args.endpoint, args.model)
    reference = first.call()
    callers = [first] + [Caller(args.endpoint, args.model) for _ in range(args.concurrency - 1)]

    start = time.perf_counter_ns()
    measure_from = start + int(args.warmup * 1e9)
    until = measure_from + int(args.seconds * 1e9)
    latencies = [[] for _ in callers]
    errors = [0] * len(callers)
    first_error = []

    def loop(index):
        caller, mine = callers[index], latencies[index]
        while (began := time.perf_counter_ns()) < until:
            failure = None
            try:
                answer = caller.call()
                if not np.allclose(answer, reference, rtol=0, atol=1e-3):
                    raise ValueError(f"{caller.output} {answer.ravel()[:4]} (expected: {reference.ravel()[:4]} "
                                     "as in the first answer)")
            except Exception as e:  # every failure of a call counts as an error, whatever its type
                failure = e
            ended = time.perf_counter_ns()
            if failure is not None and not first_error:
                first_error.append(f"{type(failure).__name__}: {failure}")
            if ended < measure_from or ended >= until:
                continue
            if failure is None:
                mine.append(ended - began)
            else:
                errors[index] += 1

    threads = [threading.Thread(target=loop, args=(i,), name=f"bench-{i}") for i in range(len(callers))]
    for thread in threads:
        thread.start()
    time.sleep(max(0, (measure_from - time.perf_counter_ns()) / 1e9))
    cpu_from = time.process_time_ns()
    time.sleep(max(0, (until - time.perf_counter_ns()) / 1e9))
    cpu_until = time.process_time_ns()
    for thread in threads:
        thread.join()
    for caller in callers:
        caller.close()

    merged = np.concatenate([np.asarray(l, dtype=np.int64) for l in latencies]) if any(latencies) else np.zeros(0)
    requests = int(merged.size)

    def percentile(p):
        # The smallest recorded value with p% of the values at or below it, as HdrHistogram answers.
        return round(float(np.percentile(merged, p, method="inverted_cdf")) / 1000, 1) if requests else None

    result = {
        "mode": "py-grpc", "model": args.model, "concurrency": args.concurrency, "round": args.round,
        "seconds": args.seconds, "requests": requests, "requests_per_sec": round(requests / args.seconds, 1),
        "p50_us": percentile(50), "p99_us": percentile(99), "errors": sum(errors),
        "cpu_us_per_request": round((cpu_until - cpu_from) / 1000 / requests, 1) if requests else None,
    }
    if first_error:
        result["first_error"] = first_error[0]
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
