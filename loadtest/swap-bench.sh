#!/usr/bin/env bash
# Hot swaps under load (not part of the test run): Serval in poll mode on a copy of models/, 8 tritonclient gRPC
# clients calling the digits model, then the image-classification pipeline over it; each time a steady phase, then
# SWAPS new version folders of digits appearing (copy under another name, rename into place) and the old ones
# removed. Reports p50/p99/p99.9 steady and during swaps, failed and mismatched answers, and how long a new version
# took to serve after its folder appeared (loadtest/swap_bench.py).
#
#   loadtest/swap-bench.sh [STEADY_SECONDS] [SWAPS]      default: 60 s, 50 swaps
#
# Needs the built jars (mvn -B -q -DskipTests install) and the test venv (.venv, made by the test run).
# Output: loadtest/reports/raw/<date>-swap-bench/ (override with OUT=...): model.json, pipeline.json, server.log,
# summary.md (also printed). Run nothing else meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
STEADY=${1:-60}
SWAPS=${2:-50}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-swap-bench}
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

echo "| target | phase | requests | failed | mismatched | p50 ms | p99 ms | p99.9 ms | new version serving after (median / max) |" \
  > "$OUT/summary.md"
echo "|---|---|---|---|---|---|---|---|---|" >> "$OUT/summary.md"
for target in model pipeline; do
  rm -rf "$WORK/models" && cp -r models "$WORK/models"
  bin/serval --model_repositories="$WORK/models" --http_port=18700 --grpc_port=18701 --metrics_port=18702 \
    --management.port=18703 --model_control_mode=poll > "$OUT/server-$target.log" 2>&1 &
  SERVER=$!
  until curl -sf localhost:18700/v2/health/ready >/dev/null; do sleep 0.2; done
  .venv/bin/python loadtest/swap_bench.py --grpc localhost:18701 --repo "$WORK/models" --target "$target" \
    --steady "$STEADY" --swaps "$SWAPS" --out "$OUT/$target.json" > /dev/null
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true
  .venv/bin/python - "$OUT/$target.json" >> "$OUT/summary.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for phase in ("steady", "during_swaps"):
    p = r[phase]
    pickup = "%.2f s / %.2f s" % (r["pickup_s"]["median"], r["pickup_s"]["max"]) if phase == "during_swaps" else ""
    print("| %s | %s | %d | %d | %d | %.1f | %.1f | %.1f | %s |" % (r["target"], phase.replace("_", " "),
          p["requests"], p["failed"], p["mismatched"], p["p50_ms"], p["p99_ms"], p["p999_ms"], pickup))
PY
done
sed -i "s#$PWD/##g; s#$WORK/##g" "$OUT"/*.log 2>/dev/null || true
cat "$OUT/summary.md"
