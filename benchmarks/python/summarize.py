"""Summarises a loadtest/pipeline-bench.sh run as markdown tables.

Reads, in the run's folder, the JMH results (executor-round<N>.json, preprocessing-round<N>.json) and the
Python ones (python-round<N>.csv), and prints: the executor's microseconds per request by shape, callers and
round, with the cost of one node and of the pipeline fitted over the chains; then images per second of each
pre-processing step, Java against Pillow + NumPy, by callers (threads or processes) and round. Across rounds the
median is taken: this machine's noise comes in bursts, which the median rides out.

    .venv/bin/python benchmarks/python/summarize.py RUN_FOLDER
"""
import csv
import json
import re
import sys
from collections import defaultdict
from pathlib import Path
from statistics import mean, median

STEPS = ["pipeline", "decode", "resize", "center_crop", "normalize", "jdk_decoder"]


def rounds(folder: Path, pattern: str):
    for path in sorted(folder.glob(pattern)):
        yield int(re.search(r"round(\d+)", path.name).group(1)), path


def jmh(folder: Path, prefix: str):
    """{(benchmark, param, threads): {round: score}} from JMH's JSON results."""
    scores = defaultdict(dict)
    for number, path in rounds(folder, prefix + "-round*.json"):
        for result in json.loads(path.read_text()):
            benchmark = result["benchmark"].rsplit(".", 2)[-2]
            param = next(iter(result.get("params", {}).values()), "")
            scores[(benchmark, param, result["threads"])][number] = result["primaryMetric"]["score"]
    return scores


def python(folder: Path):
    """{(step, processes): {round: images/s}} from preprocess_bench.py's CSV."""
    scores = defaultdict(dict)
    for number, path in rounds(folder, "python-round*.csv"):
        for row in csv.DictReader(path.open()):
            scores[(row["step"], int(row["processes"]))][number] = float(row["images_per_s"])
    return scores


def nodes(shape: str) -> int:
    count = int(re.sub(r"\D", "", shape))
    return count + 1 if shape.startswith("fan") else count


def fit(points):
    """Least-squares slope and intercept of [(x, y)]."""
    xs, ys = [x for x, _ in points], [y for _, y in points]
    mx, my = mean(xs), mean(ys)
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x in xs)
    return slope, my - slope * mx


def show(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}"


def cells(by_round, numbers, digits):
    return " | ".join(f"{by_round[n]:.{digits}f}" if n in by_round else "-" for n in numbers)


def executor(folder: Path) -> None:
    scores = jmh(folder, "executor")
    if not scores:
        return
    numbers = sorted({n for by_round in scores.values() for n in by_round})
    heads = " | ".join(f"round {n} us" for n in numbers)
    print("### Executor: microseconds per request, as each caller sees it\n")
    print(f"| what | nodes | callers | {heads} | median us | requests/s |")
    print("|---|---|---|" + "---|" * len(numbers) + "---|---|")
    for (benchmark, shape, threads), by_round in sorted(
            scores.items(), key=lambda item: (item[0][2], item[0][0] != "ExecutorHopBenchmark",
                                              nodes(item[0][1]) if item[0][1] else 0)):
        what = "hop (one empty task)" if benchmark == "ExecutorHopBenchmark" else shape
        count = nodes(shape) if shape else 0
        middle = median(by_round.values())
        print(f"| {what} | {count} | {threads} | {cells(by_round, numbers, 1)} | {middle:.1f} |"
              f" {threads / middle * 1e6:.0f} |")
    print("\n### Executor: us per node (slope) and per pipeline (intercept), fitted over the chains\n")
    heads = " | ".join(f"round {n}" for n in numbers)
    print(f"| callers | {heads} | over the medians | machine us per node (slope / callers) |")
    print("|---|" + "---|" * len(numbers) + "---|---|")
    for threads in sorted({key[2] for key in scores}):
        chains = {shape: by_round for (benchmark, shape, t), by_round in scores.items()
                  if t == threads and shape.startswith("chain")}
        fits = [fit([(nodes(shape), by_round[n]) for shape, by_round in chains.items() if n in by_round])
                for n in numbers]
        slope, intercept = fit([(nodes(shape), median(by_round.values())) for shape, by_round in chains.items()])
        per_round = " | ".join(f"{s:.2f} per node, {i:.1f}" for s, i in fits)
        print(f"| {threads} | {per_round} | {slope:.2f} per node, {intercept:.1f} | {slope / threads:.2f} |")
    print()


def preprocessing(folder: Path) -> None:
    java = jmh(folder, "preprocessing")
    py = python(folder)
    if not java and not py:
        return
    numbers = sorted({n for by_round in list(java.values()) + list(py.values()) for n in by_round})
    print("### Pre-processing: images per second, Java (threads) and Python (processes), by round\n")
    heads = " | ".join(f"round {n}" for n in numbers)
    print(f"| step | side | callers | {heads} | median |")
    print("|---|---|---|" + "---|" * len(numbers) + "---|")
    medians = {}
    for step in STEPS:
        for callers in (1, 2):
            for side, by_round in (("Java", java.get(("PreprocessingBenchmark", step, callers))),
                                   ("Python", py.get((step, callers)))):
                if by_round:
                    medians[(step, side, callers)] = median(by_round.values())
                    print(f"| {step} | {side} | {callers} | {cells(by_round, numbers, 1)} |"
                          f" {medians[(step, side, callers)]:.1f} |")
    print("\n### Pre-processing: Java against Python (medians; per core: the 2-caller rate over the 2 cores)\n")
    print("| step | Java ms/image (1) | Python ms/image (1) | Java img/s (1) | Python img/s (1) | Java/Python (1) |"
          " Java img/s per core | Python img/s per core | Java/Python per core |")
    print("|---|---|---|---|---|---|---|---|---|")
    for step in STEPS:
        j1, p1 = medians.get((step, "Java", 1)), medians.get((step, "Python", 1))
        j2, p2 = medians.get((step, "Java", 2)), medians.get((step, "Python", 2))
        print(f"| {step} | {show(j1 and 1000 / j1, 2)} | {show(p1 and 1000 / p1, 2)} | {show(j1)} | {show(p1)} |"
              f" {ratio(j1, p1)} | {show(j2 and j2 / 2)} | {show(p2 and p2 / 2)} | {ratio(j2, p2)} |")
    print()


def main() -> None:
    folder = Path(sys.argv[1])
    executor(folder)
    preprocessing(folder)


if __name__ == "__main__":
    main()
