#!/usr/bin/env bash
# Time to ready and the first seconds' speed, by warm-up size. Not part of the test run.
#
#   loadtest/warmup.sh [ROUNDS] [REQUESTS...]   default: 2 rounds of warm-up sizes 0 20 100
#
# For each size: start bin/serval (default settings) with --warmup.requests=N, time launch -> /v2/health/ready,
# then perf_analyzer at concurrency 1 over gRPC for the first 10 s after ready (three 3.3 s windows) and for the
# next two 10 s; the ratio is the first 10 s against the better of the next two. JAVA_OPTS reach the server (e.g.
# C1 only: JAVA_OPTS=-XX:TieredStopAtLevel=1).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
shift || true
SIZES=${*:-0 20 100}
INPUT=loadtest/target/peers/input.json
[ -f "$INPUT" ] || { echo "run loadtest/peers.sh smoke (or run) once: it writes $INPUT" >&2; exit 1; }
PA=.venv/bin/perf_analyzer

window() { # -> throughput of 10 s (three 3.3 s windows) at concurrency 1
  "$PA" -m ocr_orientation -u localhost:18201 -i grpc --concurrency-range 1:1 -p 3333 -s 999 \
    --input-data "$INPUT" 2>&1 | awk '/Throughput/{printf "%.0f", $2}'
}

echo "| warm-up requests | round | ready ms | first 10 s infer/s | next 10 s | then 10 s | ratio |"
echo "|---|---|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  for n in $SIZES; do
    started=$(date +%s%N)
    bin/serval --http_port=18200 --grpc_port=18201 --metrics_port=18202 --management.port=18203 \
      --warmup.requests="$n" > /dev/null 2>&1 &
    server=$!
    until curl -sf localhost:18200/v2/health/ready >/dev/null; do sleep 0.02; done
    ready=$(( ($(date +%s%N) - started) / 1000000 ))
    a=$(window); b=$(window); c=$(window)
    kill "$server"; wait "$server" 2>/dev/null || true
    echo "| $n | $round | $ready | $a | $b | $c | $(awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN{m=b>c?b:c; printf "%.2f", a/m}') |"
  done
done
