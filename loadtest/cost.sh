#!/usr/bin/env bash
# CPU cost per request, and where it goes: the server's threads' CPU time (from /proc) over a fixed load, divided
# by the requests it answered, grouped by what the threads do. Not part of the test run.
#
#   loadtest/cost.sh [SECONDS] [CPUS]   perf_analyzer gRPC and HTTP, concurrency 1 and 16, batch 1 and 8 (the
#                                       per-KB cost), batching on; the server pinned to CPUS with taskset when given
#
# Thread groups, by the names jstack reports with each thread's CPU time: engine (the instance worker that calls
# ONNX Runtime, and ONNX Runtime's own pool threads: the process's CPU time that no Java thread accounts for),
# event loops (armeria-common-worker-*: network, protocol decoding and encoding), blocking
# (armeria-common-blocking-tasks-*), JIT (C1/C2 compiler threads), GC, other. "Outside the engine" is everything
# but the engine group. Output: a markdown table; raw files in loadtest/reports/raw/<date>-cost/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_POINT=${1:-10}
CPUS=${2:-}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-cost${CPUS:+-cpus$CPUS}}
mkdir -p "$OUT"
PA=.venv/bin/perf_analyzer
INPUT=loadtest/target/peers/input.json
[ -f "$INPUT" ] || { echo "run loadtest/peers.sh smoke (or run) once: it writes $INPUT" >&2; exit 1; }

REPO=$(mktemp -d)
mkdir -p "$REPO/ocr_orientation/1"
cp models/ocr_orientation/1/model.onnx "$REPO/ocr_orientation/1/"
cp models/ocr_orientation/labels.txt "$REPO/ocr_orientation/"
sed '/^instances:/d' models/ocr_orientation/config.yaml > "$REPO/ocr_orientation/config.yaml"
printf 'instances: 1\ndynamic_batching:\n  max_queue_delay_microseconds: 0\n' >> "$REPO/ocr_orientation/config.yaml"

PIN=()
[ -n "$CPUS" ] && PIN=(taskset -c "$CPUS")
"${PIN[@]}" bin/serval --http_port=18100 --grpc_port=18101 --metrics_port=18102 --management.port=18103 \
  --cpu_threads=2 --model_repositories="$REPO" > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$REPO"' EXIT
until curl -sf localhost:18100/v2/health/ready >/dev/null; do
  kill -0 "$SERVER" 2>/dev/null || { echo "the server did not start; see $OUT/server.log" >&2; exit 1; }
  sleep 0.2
done
JAVA_PID=$(pgrep -P "$SERVER" java || echo "$SERVER")

threads() { # -> "name<TAB>cpu ms" per Java thread (jstack), and the whole process (/proc) as __process__
  jstack "$JAVA_PID" | sed -n 's/^"\([^"]*\)".* cpu=\([0-9.]*\)ms.*/\1\t\2/p'
  printf '__process__\t%s\n' "$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) * 1000 / hz}' /proc/"$JAVA_PID"/stat)"
}
count() { curl -s localhost:18100/v2/models/ocr_orientation/stats | .venv/bin/python -c \
  'import json,sys; s=json.load(sys.stdin)["model_stats"][0]; print(s["inference_count"], s["execution_count"])'; }

point() { # PROTOCOL CONCURRENCY BATCH
  local port=18101 name="$1-c$2-b$3"
  [ "$1" = http ] && port=18100
  # warm this path first, unmeasured
  "$PA" -m ocr_orientation -u localhost:$port -i "$1" -b "$3" --concurrency-range "$2:$2" -p 3000 -s 999 \
    --input-data "$INPUT" > /dev/null 2>&1 || true
  threads > "$OUT/$name.before"; count > "$OUT/$name.count-before"
  "$PA" -m ocr_orientation -u localhost:$port -i "$1" -b "$3" --concurrency-range "$2:$2" \
    -p $((SECONDS_PER_POINT * 1000)) -s 999 --input-data "$INPUT" -f "$OUT/$name.csv" > "$OUT/$name.txt" 2>&1
  threads > "$OUT/$name.after"; count > "$OUT/$name.count-after"
}

# The whole request path compiled before the first measured point: 20 s of load, unmeasured.
"$PA" -m ocr_orientation -u localhost:18101 -i grpc --concurrency-range 4:4 -p 10000 -s 999 -r 2 \
  --input-data "$INPUT" > /dev/null 2>&1 || true
"$PA" -m ocr_orientation -u localhost:18100 -i http --concurrency-range 4:4 -p 10000 -s 999 -r 2 \
  --input-data "$INPUT" > /dev/null 2>&1 || true

for protocol in grpc http; do
  for c in 1 16; do
    for b in 1 8; do point "$protocol" "$c" "$b"; done
  done
done

.venv/bin/python - "$OUT" <<'PY'
import csv, pathlib, re, sys
out = pathlib.Path(sys.argv[1])
def group(name):
    if name.startswith("serval-") and re.search(r"-v\d+-\d+$", name): return "engine"  # instance workers
    if name.startswith("armeria-common-worker") or name.startswith("armeria-boss"): return "event loops"
    if name.startswith("armeria-common-blocking"): return "blocking"
    if re.match(r"C[12] CompilerThread", name): return "JIT"
    if name.startswith("G1") or name.startswith("GC Thread") or name == "VM Thread": return "GC"
    return "other"
def read(path):
    rows = {}
    for line in open(path):
        name, ms = line.rstrip("\n").split("\t")
        rows[name] = rows.get(name, 0.0) + float(ms)
    return rows
groups = ["engine", "event loops", "blocking", "JIT", "GC", "other"]
print("| protocol | concurrency | batch | KB/request | infer/s | CPU us/request | engine | outside the engine |"
      " event loops | blocking | JIT | GC | other |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for f in sorted(out.glob("*.csv")):
    name = f.stem
    protocol, c, b = re.match(r"(\w+)-c(\d+)-b(\d+)", name).groups()
    before, after = read(out / f"{name}.before"), read(out / f"{name}.after")
    n0 = int(open(out / f"{name}.count-before").read().split()[0])
    n1 = int(open(out / f"{name}.count-after").read().split()[0])
    requests = (n1 - n0) / int(b)
    if requests <= 0: continue
    per = {g: 0.0 for g in groups}
    named = 0.0
    for nm in set(before) | set(after):
        if nm == "__process__" or nm not in after: continue   # a thread that ended: its CPU stays unnamed
        delta = after.get(nm, 0.0) - before.get(nm, 0.0)
        named += delta
        per[group(nm)] += delta * 1000 / requests
    process = (after["__process__"] - before["__process__"]) * 1000 / requests
    per["engine"] += process - named * 1000 / requests   # ONNX Runtime's own threads
    row = next(csv.DictReader(open(f)))
    kb = int(b) * 3 * 48 * 192 * 4 / 1024
    print(f"| {protocol} | {c} | {b} | {kb:.0f} | {float(row['Inferences/Second']):.0f} | {process:.0f} |"
          f" {per['engine']:.0f} | {process - per['engine']:.0f} | " +
          " | ".join(f"{per[g]:.0f}" for g in groups[1:]) + " |")
PY
