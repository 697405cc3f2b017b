#!/usr/bin/env bash
# Foundation benchmark: the built-in model served by Serval (perf_analyzer over gRPC, batch 1) against the same
# model run in-process with ONNX Runtime's Java API, at concurrency 1, 4 and 16. Prints a markdown table and
# keeps the raw CSVs and the server log in the output folder.
#
#   loadtest/bench-foundation.sh [OUTPUT_DIR] [SECONDS_PER_POINT]
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-loadtest/reports/raw/$(date +%F)-foundation}
SECONDS_PER_POINT=${2:-10}
CONCURRENCIES=(1 4 16)
mkdir -p "$OUT"

mvn -B -q -DskipTests install
bash server/src/test/python/setup_env.sh .venv

java -jar server/target/serval-server.jar --http_port=18000 --grpc_port=18001 --metrics_port=18002 \
  --cpu_threads=2 > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 60); do
  curl -sf localhost:18000/v2/health/ready >/dev/null && break
  sleep 1
done

for c in "${CONCURRENCIES[@]}"; do
  .venv/bin/perf_analyzer -m ocr_orientation -u localhost:18001 -i grpc -b 1 \
    --concurrency-range "$c:$c" --measurement-interval $((SECONDS_PER_POINT * 1000)) \
    -f "$OUT/served-grpc-c$c.csv" > "$OUT/served-grpc-c$c.txt"
done
kill $SERVER; wait $SERVER 2>/dev/null || true

java -jar loadtest/target/serval-loadtest-*.jar models/ocr_orientation/1/model.onnx x 1,3,48,192 2 \
  "$(IFS=,; echo "${CONCURRENCIES[*]}")" "$SECONDS_PER_POINT" > "$OUT/raw-onnxruntime.csv"

.venv/bin/python - "$OUT" <<'PY'
import csv, pathlib, sys
out = pathlib.Path(sys.argv[1])
raw = {int(r["concurrency"]): r for r in csv.DictReader(open(out / "raw-onnxruntime.csv"))}
print("| concurrency | served infer/s | served p50 (us) | served p99 (us) | raw infer/s | raw p50 (us) | raw p99 (us) | throughput ratio | p50 added (us) |")
print("|---|---|---|---|---|---|---|---|---|")
for c in sorted(raw):
    served = next(csv.DictReader(open(out / f"served-grpc-c{c}.csv")))
    s_tp, s50, s99 = float(served["Inferences/Second"]), float(served["p50 latency"]), float(served["p99 latency"])
    r_tp, r50, r99 = float(raw[c]["infer_per_sec"]), float(raw[c]["p50_us"]), float(raw[c]["p99_us"])
    print(f"| {c} | {s_tp:.0f} | {s50:.0f} | {s99:.0f} | {r_tp:.0f} | {r50:.0f} | {r99:.0f} | {s_tp / r_tp:.2f} | {s50 - r50:.0f} |")
PY
