#!/usr/bin/env bash
# Hot swaps under load, Serval and Triton side by side (issue [7 of 10, addendum]; not part of the test run): the
# PaddleOCR orientation classifier (models/ocr_orientation) served by Serval (ONNX Runtime, poll mode) and by
# Triton 2.51 from the nvidia-pytriton wheel (its python backend running the same ONNX file on ONNX Runtime,
# --model-control-mode=poll --repository-poll-secs=1: loadtest/peers/triton), one after the other on this
# machine. For each: 8 tritonclient gRPC clients, STEADY seconds steady, then SWAPS new version folders appearing
# (copied as .incoming-N, renamed to N) and the old ones removed once the new one serves; every answer checked
# against the answer to the same input before the load (loadtest/swap_bench.py).
#
#   loadtest/swap-vs-triton.sh [STEADY_SECONDS] [SWAPS]      default: 60 s, 50 swaps
#
# Needs the built jars, the test venv (.venv) and Triton's peer venv (loadtest/peers.sh setup triton).
# Output: loadtest/reports/raw/<date>-swap-vs-triton/ (override with OUT=...): serval.json, triton.json, the
# servers' logs and summary.md (printed). Run nothing else meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
STEADY=${1:-60}
SWAPS=${2:-50}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-swap-vs-triton}
MODEL=ocr_orientation
mkdir -p "$OUT"
WORK=$(mktemp -d)
SERVER=
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
[ -x loadtest/target/peers/triton/venv/bin/python ] || loadtest/peers.sh setup triton

bench() { # NAME GRPC_PORT REPO
  .venv/bin/python loadtest/swap_bench.py --grpc "localhost:$2" --repo "$3" --target model --model "$MODEL" \
    --input x --output softmax_0.tmp_0 --shape 3,48,192 --steady "$STEADY" --swaps "$SWAPS" --out "$OUT/$1.json" \
    > /dev/null
}

# Serval: a copy of the model's folder, poll mode.
mkdir -p "$WORK/serval" && cp -r "models/$MODEL" "$WORK/serval/$MODEL"
bin/serval --model_repositories="$WORK/serval" --http_port=18710 --grpc_port=18711 --metrics_port=18712 \
  --management.port=18713 --model_control_mode=poll > "$OUT/serval.log" 2>&1 &
SERVER=$!
until curl -sf localhost:18710/v2/health/ready >/dev/null; do sleep 0.2; done
bench serval 18711 "$WORK/serval"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

# Triton: the peer's python-backend model (dynamic batching on), its repository polled every second.
PEER_REPO="$WORK/triton" PEER_MODEL_NAME=$MODEL PEER_TRITON_ARGS="--model-control-mode=poll --repository-poll-secs=1" \
  loadtest/peers/triton/serve.sh 18720 18721 18722 on "models/$MODEL/1/model.onnx" > "$OUT/triton.log" 2>&1 &
SERVER=$!
until curl -sf localhost:18720/v2/health/ready >/dev/null; do sleep 0.5; done
bench triton 18721 "$WORK/triton"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

echo "| server | phase | requests | failed | mismatched | p50 ms | p99 ms | p99.9 ms | new version serving after (median / max) |" \
  > "$OUT/summary.md"
echo "|---|---|---|---|---|---|---|---|---|" >> "$OUT/summary.md"
for server in serval triton; do
  .venv/bin/python - "$OUT/$server.json" "$server" >> "$OUT/summary.md" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for phase in ("steady", "during_swaps"):
    p = r[phase]
    pickup = "%.2f s / %.2f s" % (r["pickup_s"]["median"], r["pickup_s"]["max"]) if phase == "during_swaps" else ""
    print("| %s | %s | %d | %d | %d | %.1f | %.1f | %.1f | %s |" % (sys.argv[2], phase.replace("_", " "),
          p["requests"], p["failed"], p["mismatched"], p["p50_ms"], p["p99_ms"], p["p999_ms"], pickup))
PY
done
sed -i "s#$PWD/##g; s#$WORK/##g" "$OUT"/*.log 2>/dev/null || true
cat "$OUT/summary.md"
