#!/usr/bin/env bash
# The built-in services under load (not part of the test run): each of models/'s pipelines called over gRPC with
# a real input file by the load tool, at concurrency 1 and 8, ROUNDS rounds alternating the services.
#
#   loadtest/services.sh [ROUNDS] [SECONDS]      default: 2 rounds, 15 s per measurement
#
# Needs the built jars (mvn -B -q -DskipTests install). Output: loadtest/reports/raw/<date>-services/ (override
# with OUT=...): the load tool's results per service, concurrency and round, and summary.md, a table of
# requests/s and p50/p99 (also printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SECONDS_PER_RUN=${2:-15}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-services}
LOAD="java -jar loadtest/target/serval-load.jar"
mkdir -p "$OUT"
printf 'good morning, the slides for Thursday are attached; see you at the meeting' > "$OUT/message.txt"
bin/serval --http_port=18500 --grpc_port=18501 --metrics_port=18502 --management.port=18503 \
  > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null' EXIT
until curl -sf localhost:18500/v2/health/ready >/dev/null; do sleep 0.2; done

input() { # SERVICE -> the --input option
  case $1 in
    image-classification) echo "image=models/digits/golden/three_112_rgb.jpg" ;;
    text-classification) echo "text=$OUT/message.txt" ;;
    ocr) echo "image=models/ocr/golden/page.png" ;;
    text-orientation) echo "image=models/ocr_orientation/golden/rotated.png" ;;
  esac
}

echo "| service | concurrency | round | requests/s | p50 ms | p99 ms | errors |" > "$OUT/summary.md"
echo "|---|---|---|---|---|---|---|" >> "$OUT/summary.md"
for round in $(seq "$ROUNDS"); do
  for service in image-classification text-classification ocr text-orientation; do
    for c in 1 8; do
      run=$OUT/$service-c$c-round$round
      $LOAD --url grpc://localhost:18501 --model "$service" --input "$(input "$service")" --concurrency "$c" \
        --warmup 3s --duration "${SECONDS_PER_RUN}s" --out "$run" --quiet > "$run.log" 2>&1 \
        || { tail -5 "$run.log" >&2; exit 1; }
      .venv/bin/python loadtest/level_row.py "$run/results.json" "$service" "$c" "$round" >> "$OUT/summary.md"
    done
  done
done
sed -i "s#$PWD/##g" "$OUT"/*.log 2>/dev/null || true
cat "$OUT/summary.md"
