"""Hot swaps under load (issue [7 of 10] and its addendum): Serval in poll mode, 8 gRPC clients of NVIDIA's
tritonclient, first steady, then while new version folders of the digits model appear (copied under another name
and renamed into place) and the old ones are removed. Run by loadtest/swap-bench.sh, which starts the server on a
copy of the built-in repository.

Each client sends held-out digits (models/digits/golden/heldout.bin) round-robin and checks every answer against
the expected probabilities of that digit (computed once before the load): a wrong answer is a mismatch, an error a
failure. Targets are the same through the image-classification pipeline (PNG in, label out), whose infer node
calls the model being swapped.

    python swap_bench.py --grpc localhost:18701 --repo DIR --target model|pipeline --steady 60 --swaps 50 --out F
"""
import argparse
import io
import json
import os
import shutil
import statistics
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "..", "models", "digits", "golden")
PICKUP_POLL_SECONDS = 0.02


def digits(count):
    """The first held-out digits as the model takes them: FP32 [1, 28, 28] in [0, 1] (heldout.bin: uint8)."""
    raw = np.fromfile(os.path.join(GOLDEN, "heldout.bin"), dtype=np.uint8).reshape(-1, 1, 28, 28)[:count]
    return raw.astype(np.float32) / 255


def png(digit):
    image = Image.fromarray((digit[0] * 255).round().astype(np.uint8), mode="L")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class Client(threading.Thread):
    def __init__(self, url, target, spec, samples, expected, records, stop):
        super().__init__(daemon=True)
        self.client = grpcclient.InferenceServerClient(url)
        self.target, self.spec, self.samples, self.expected = target, spec, samples, expected
        self.records, self.stop = records, stop

    def call(self, i):
        if self.target == "model":
            return infer_model(self.client, self.spec, self.samples[i])
        image = grpcclient.InferInput("image", [1], "BYTES")
        image.set_data_from_numpy(np.array([self.samples[i]], dtype=object))
        result = self.client.infer("image-classification", [image])
        return "", result.as_numpy("label").reshape(-1)[0].decode()

    def run(self):
        i = 0
        while not self.stop.is_set():
            k = i % len(self.samples)
            started = time.monotonic()
            try:
                version, answer = self.call(k)
                ok = (np.allclose(answer, self.expected[k], atol=1e-5) if self.target == "model"
                      else answer == self.expected[k])
                self.records.append((started, time.monotonic() - started, "ok" if ok else "mismatch", version))
            except Exception as e:  # noqa: BLE001 - every failure is counted, none stops the client
                self.records.append((started, time.monotonic() - started, "failure:" + str(e)[:200], ""))
            i += 1


def infer_model(client, spec, sample):
    """One request of one sample to the model: (the version that answered, its output)."""
    x = grpcclient.InferInput(spec["input"], [1] + list(sample.shape), "FP32")
    x.set_data_from_numpy(sample[None])
    result = client.infer(spec["model"], [x])
    return result.get_response().model_version, result.as_numpy(spec["output"])[0]


def percentiles(latencies):
    if not latencies:
        return {}
    ordered = sorted(latencies)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
    return {"requests": len(ordered), "p50_ms": pick(0.50), "p99_ms": pick(0.99), "p999_ms": pick(0.999)}


def served_versions(client, model):
    return client.get_model_metadata(model).versions


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpc", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--target", choices=["model", "pipeline"], default="model")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--steady", type=float, default=60)
    parser.add_argument("--swaps", type=int, default=50)
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", default="digits", help="the model swapped (a folder of --repo)")
    parser.add_argument("--input", default="x")
    parser.add_argument("--output", default="probabilities")
    parser.add_argument("--shape", default="", help="a sample's shape without the batch, for generated inputs"
                        " (default: held-out digits)")
    args = parser.parse_args()

    control = grpcclient.InferenceServerClient(args.grpc)
    spec = {"model": args.model, "input": args.input, "output": args.output}
    raw = digits(64)
    if args.target == "model":
        if args.shape:
            generator = np.random.default_rng(1)
            shape = [int(d) for d in args.shape.split(",")]
            samples = [generator.uniform(-1, 1, shape).astype(np.float32) for _ in range(64)]
        else:
            samples = list(raw)
        expected = [infer_model(control, spec, sample)[1] for sample in samples]
    else:
        samples = [png(digit) for digit in raw]
        expected = []
        for data in samples:
            image = grpcclient.InferInput("image", [1], "BYTES")
            image.set_data_from_numpy(np.array([data], dtype=object))
            expected.append(control.infer("image-classification", [image]).as_numpy("label").reshape(-1)[0]
                            .decode())

    records, stop = [], threading.Event()
    clients = [Client(args.grpc, args.target, spec, samples, expected, records, stop)
               for _ in range(args.clients)]
    for client in clients:
        client.start()
    time.sleep(3)  # warm: not measured
    steady_from = time.monotonic()
    time.sleep(args.steady)
    swaps_from = time.monotonic()
    model_dir = os.path.join(args.repo, args.model)
    current = max(int(v) for v in served_versions(control, args.model))
    pickups = []
    for _ in range(args.swaps):
        new = current + 1
        incoming = os.path.join(model_dir, f".incoming-{new}")
        shutil.copytree(os.path.join(model_dir, str(current)), incoming)
        appeared = time.monotonic()
        os.rename(incoming, os.path.join(model_dir, str(new)))
        # Every 20 ms: a tighter loop would load the 2 cores the clients measure, during the swaps only (at 2 ms it
        # made up to 250 metadata calls per swap on Serval, 500 on Triton).
        while str(new) not in served_versions(control, args.model):
            time.sleep(PICKUP_POLL_SECONDS)
        pickups.append(time.monotonic() - appeared)
        time.sleep(0.2)
        shutil.rmtree(os.path.join(model_dir, str(current)))
        current = new
        time.sleep(0.3)
    swaps_until = time.monotonic()
    stop.set()
    for client in clients:
        client.join()

    def phase(since, until):
        chosen = [r for r in records if since <= r[0] < until]
        failures = [r for r in chosen if r[2].startswith("failure")]
        return dict(percentiles([r[1] for r in chosen]), seconds=until - since,
                    failed=len(failures), mismatched=sum(1 for r in chosen if r[2] == "mismatch"),
                    failure_examples=sorted({r[2] for r in failures})[:3])

    result = {
        "target": args.target, "model": args.model, "clients": args.clients, "swaps": args.swaps,
        "steady": phase(steady_from, swaps_from), "during_swaps": phase(swaps_from, swaps_until),
        "pickup_s": {"median": statistics.median(pickups), "max": max(pickups)} if pickups else {},
        "versions_seen": sorted({r[3] for r in records if r[3]}, key=lambda v: int(v))[-3:],
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
