"""Image pre-processing with Pillow + NumPy, the steps of PreprocessingBenchmark, in images per second.

The 640x480 JPEG (benchmarks/data/photo-640x480.jpg) is decoded by Pillow (libjpeg-turbo), resized with its
shorter side to 256 (BILINEAR, 341x256), center-cropped to 224x224, turned to float32 / 255, normalised with the
ImageNet mean and std and transposed HWC -> CHW, as torchvision's Resize(256), CenterCrop(224), ToTensor() and
Normalize() do on a PIL image. Steps: pipeline (all of it, from the JPEG's bytes), and decode, resize, center_crop
and normalize each alone on what the step before it made.

Each step runs for --seconds after --warmup seconds, timed with time.perf_counter, in 1 process and in N
processes at once (started together, each timing itself; their rates are summed).

    .venv/bin/python benchmarks/python/preprocess_bench.py [--seconds 3] [--warmup 1] [--processes 1 2]

Output: CSV on stdout, "step,processes,images_per_s", one line per step and process count.
"""
import argparse
import io
import multiprocessing
import time
from pathlib import Path

import numpy as np
from PIL import Image

IMAGE = Path(__file__).resolve().parent.parent / "data" / "photo-640x480.jpg"
SHORTER_SIDE = 256
CROP = 224
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
STEPS = ["pipeline", "decode", "resize", "center_crop", "normalize"]


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image if image.mode == "RGB" else image.convert("RGB")


def resize(image: Image.Image) -> Image.Image:
    width, height = image.size
    if width <= height:
        size = (SHORTER_SIDE, height * SHORTER_SIDE // width)
    else:
        size = (width * SHORTER_SIDE // height, SHORTER_SIDE)
    return image.resize(size, Image.BILINEAR)


def center_crop(image: Image.Image) -> Image.Image:
    width, height = image.size
    left, top = (width - CROP) // 2, (height - CROP) // 2
    return image.crop((left, top, left + CROP, top + CROP))


def normalize(image: Image.Image) -> np.ndarray:
    pixels = np.asarray(image, dtype=np.float32) / 255
    pixels -= MEAN
    pixels /= STD
    return np.ascontiguousarray(pixels.transpose(2, 0, 1))


def pipeline(data: bytes) -> np.ndarray:
    return normalize(center_crop(resize(decode(data))))


def work(step: str):
    """The step's function and its input: what the steps before it made of the image."""
    data = IMAGE.read_bytes()
    tensor = pipeline(data)
    assert tensor.shape == (3, CROP, CROP) and tensor.dtype == np.float32, tensor.shape
    decoded = decode(data)
    resized = resize(decoded)
    return {
        "pipeline": (pipeline, data),
        "decode": (decode, data),
        "resize": (resize, decoded),
        "center_crop": (center_crop, resized),
        "normalize": (normalize, center_crop(resized)),
    }[step]


def rate(function, value, seconds: float) -> float:
    count = 0
    started = time.perf_counter()
    deadline = started + seconds
    while True:
        function(value)
        count += 1
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - started)


def worker(step: str, warmup: float, seconds: float, start, results) -> None:
    function, value = work(step)
    rate(function, value, warmup)
    start.wait()
    results.put(rate(function, value, seconds))


def measure(step: str, processes: int, warmup: float, seconds: float) -> float:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(processes)
    results = context.Queue()
    workers = [context.Process(target=worker, args=(step, warmup, seconds, start, results))
               for _ in range(processes)]
    for process in workers:
        process.start()
    total = sum(results.get() for _ in workers)
    for process in workers:
        process.join()
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", nargs="+", default=STEPS, choices=STEPS)
    args = parser.parse_args()
    print("step,processes,images_per_s", flush=True)
    for step in args.steps:
        for processes in args.processes:
            print(f"{step},{processes},{measure(step, processes, args.warmup, args.seconds):.1f}", flush=True)


if __name__ == "__main__":
    main()
