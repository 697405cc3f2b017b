#!/usr/bin/env bash
# Serval benchmarks (not part of the test run). Each prints a markdown table and keeps raw CSVs and server logs.
#
#   loadtest/bench.sh foundation [SECONDS]   served (perf_analyzer, gRPC, batch 1) vs ONNX Runtime in-process,
#                                             concurrency 1, 4, 16, on the built-in model
#   loadtest/bench.sh throughput [SECONDS]   dynamic batching on vs off at concurrency 16, and served throughput
#                                             at saturation vs the raw engine at the batch size the batcher forms
#   loadtest/bench.sh compare [SECONDS]      this tree against the jar of commit BASE (default HEAD~1), side by side
#                                             in one run: perf_analyzer gRPC and HTTP, concurrency 1 and 16, two
#                                             rounds alternating old/new, on the built-in model (BASE=rev to choose)
#
# Output: loadtest/reports/raw/<date>-<name>/ (override with OUT=...). THREADS (default 2) is the intra-op thread
# count of both the server (--cpu_threads) and the in-process engine.
set -euo pipefail
cd "$(dirname "$0")/.."
NAME=${1:?usage: loadtest/bench.sh foundation|throughput [SECONDS]}
SECONDS_PER_POINT=${2:-10}
THREADS=${THREADS:-2}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-$NAME}
mkdir -p "$OUT"
PY=.venv/bin/python

mvn -B -q -DskipTests install
bash server/src/test/python/setup_env.sh .venv

start_server() { # REPOSITORY LOG [JAR]
  java -jar "${3:-server/target/serval-server.jar}" --http_port=18000 --grpc_port=18001 --metrics_port=18002 \
    --cpu_threads="$THREADS" --model_repositories="$1" > "$2" 2>&1 &
  SERVER=$!
  for _ in $(seq 60); do
    curl -sf localhost:18000/v2/health/ready >/dev/null && return 0
    sleep 1
  done
  echo "server did not become ready; see $2" >&2
  exit 1
}
stop_server() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
}
trap 'kill ${SERVER:-0} 2>/dev/null || true' EXIT

perf() { # MODEL CONCURRENCY CSV [PROTOCOL]
  local protocol=${4:-grpc} port=18001
  [ "$protocol" = http ] && port=18000
  .venv/bin/perf_analyzer -m "$1" -u localhost:$port -i "$protocol" -b 1 --concurrency-range "$2:$2" \
    --measurement-interval $((SECONDS_PER_POINT * 1000)) --stability-percentage 25 -f "$3" > "${3%.csv}.txt"
}

raw() { # SHAPE CONCURRENCIES CSV
  java -cp loadtest/target/serval-load.jar io.serval.loadtest.RawOnnxRuntimeBenchmark models/ocr_orientation/1/model.onnx x "$1" "$THREADS" "$2" \
    "$SECONDS_PER_POINT" > "$3"
}

case "$NAME" in
  foundation)
    start_server models "$OUT/server.log"
    for c in 1 4 16; do perf ocr_orientation "$c" "$OUT/served-c$c.csv"; done
    stop_server
    raw 1,3,48,192 1,4,16 "$OUT/raw.csv"
    "$PY" - "$OUT" <<'PY'
import csv, pathlib, sys
out = pathlib.Path(sys.argv[1])
raw = {int(r["concurrency"]): r for r in csv.DictReader(open(out / "raw.csv"))}
print("| concurrency | served infer/s | served p50 (us) | served p99 (us) | raw infer/s | raw p50 (us) | raw p99 (us) | throughput served/raw | p50 added (us) |")
print("|---|---|---|---|---|---|---|---|---|")
for c in sorted(raw):
    s = next(csv.DictReader(open(out / f"served-c{c}.csv")))
    tp, p50, p99 = float(s["Inferences/Second"]), float(s["p50 latency"]), float(s["p99 latency"])
    rtp, r50, r99 = float(raw[c]["infer_per_sec"]), float(raw[c]["p50_us"]), float(raw[c]["p99_us"])
    print(f"| {c} | {tp:.0f} | {p50:.0f} | {p99:.0f} | {rtp:.0f} | {r50:.0f} | {r99:.0f} | {tp / rtp:.2f} | {p50 - r50:.0f} |")
PY
    ;;
  throughput)
    REPO=$(mktemp -d)
    for variant in unbatched batched; do
      mkdir -p "$REPO/cls_$variant/1"
      cp models/ocr_orientation/1/model.onnx "$REPO/cls_$variant/1/"
      cp models/ocr_orientation/labels.txt "$REPO/cls_$variant/"
      sed '/^instances:/d' models/ocr_orientation/config.yaml > "$REPO/cls_$variant/config.yaml"
    done
    printf 'instances: 1\n' >> "$REPO/cls_unbatched/config.yaml"
    printf 'instances: 1\ndynamic_batching:\n  preferred_batch_sizes: [8]\n  max_queue_delay_microseconds: 2000\n' \
      >> "$REPO/cls_batched/config.yaml"
    start_server "$REPO" "$OUT/server.log"
    perf cls_unbatched 16 "$OUT/served-unbatched-c16.csv"
    perf cls_batched 16 "$OUT/served-batched-c16.csv"
    curl -s localhost:18000/v2/models/cls_batched/stats > "$OUT/batched-stats.json"
    stop_server
    raw 8,3,48,192 1 "$OUT/raw-batch8.csv"
    raw 1,3,48,192 1 "$OUT/raw-batch1.csv"
    "$PY" - "$OUT" <<'PY'
import csv, json, pathlib, sys
out = pathlib.Path(sys.argv[1])
def served(name):
    r = next(csv.DictReader(open(out / f"served-{name}-c16.csv")))
    return float(r["Inferences/Second"]), float(r["p50 latency"]), float(r["p99 latency"])
def raw(name, batch):
    r = next(csv.DictReader(open(out / f"raw-{name}.csv")))
    return float(r["infer_per_sec"]) * batch
off, on = served("unbatched"), served("batched")
raw8, raw1 = raw("batch8", 8), raw("batch1", 1)
stats = json.load(open(out / "batched-stats.json"))["model_stats"][0]
sizes = {b["batch_size"]: b["compute_infer"]["count"] for b in stats["batch_stats"]}
print("| server, concurrency 16, batch 1 requests | infer/s | p50 (us) | p99 (us) |")
print("|---|---|---|---|")
print(f"| dynamic batching off | {off[0]:.0f} | {off[1]:.0f} | {off[2]:.0f} |")
print(f"| dynamic batching on (preferred 8, delay 2 ms) | {on[0]:.0f} | {on[1]:.0f} | {on[2]:.0f} |")
print()
print(f"- batching on / off throughput: **{on[0] / off[0]:.2f}x**")
print(f"- raw ONNX Runtime in-process: batch 8 {raw8:.0f} samples/s, batch 1 {raw1:.0f} samples/s")
print(f"- served (batching on) / raw batch 8: **{on[0] / raw8:.2f}**")
print(f"- executions by batch size while batching: {dict(sorted(sizes.items()))}")
PY
    ;;
  compare)
    BASE=${BASE:-HEAD~1}
    WORKTREE=$(mktemp -d)
    git worktree add -q --detach "$WORKTREE" "$BASE"
    (cd "$WORKTREE" && mvn -B -q -DskipTests package -pl server -am)
    OLD_JAR="$WORKTREE/server/target/serval-server.jar"
    git -C "$WORKTREE" log --oneline -1 > "$OUT/base.txt"
    git log --oneline -1 > "$OUT/head.txt"
    for round in 1 2; do
      for side in old new; do
        jar=server/target/serval-server.jar
        [ "$side" = old ] && jar=$OLD_JAR
        start_server models "$OUT/server-$side-$round.log" "$jar"
        for protocol in grpc http; do
          for c in 1 16; do perf ocr_orientation "$c" "$OUT/$side-$protocol-c$c-r$round.csv" "$protocol"; done
        done
        stop_server
      done
    done
    git worktree remove --force "$WORKTREE"
    "$PY" - "$OUT" <<'PY'
import csv, pathlib, sys
out = pathlib.Path(sys.argv[1])
print("base:", (out / "base.txt").read_text().strip(), "| head:", (out / "head.txt").read_text().strip())
print()
print("| protocol | concurrency | round | old infer/s | new infer/s | new/old | old p50 (us) | new p50 (us) | old p99 (us) | new p99 (us) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for protocol in ("grpc", "http"):
    for c in (1, 16):
        for r in (1, 2):
            o = next(csv.DictReader(open(out / f"old-{protocol}-c{c}-r{r}.csv")))
            n = next(csv.DictReader(open(out / f"new-{protocol}-c{c}-r{r}.csv")))
            ot, nt = float(o["Inferences/Second"]), float(n["Inferences/Second"])
            print(f"| {protocol} | {c} | {r} | {ot:.0f} | {nt:.0f} | {nt / ot:.2f} | {float(o['p50 latency']):.0f} |"
                  f" {float(n['p50 latency']):.0f} | {float(o['p99 latency']):.0f} | {float(n['p99 latency']):.0f} |")
PY
    ;;
  *)
    echo "unknown benchmark '$NAME' (expected: foundation, throughput or compare)" >&2
    exit 2
    ;;
esac
