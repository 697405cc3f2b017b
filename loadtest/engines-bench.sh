#!/usr/bin/env bash
# OpenVINO against ONNX Runtime on every built-in model, in one server and one run (issue [8 of 10]): each model
# served twice, NAME on onnxruntime and NAME_openvino on openvino (the same file), driven in turn by serval-load
# over gRPC at one request in flight, batch 1 and batch 8 (the detector, which takes one page, at batch 1 only),
# ROUNDS rounds alternating which engine goes first. Both engines get the same share of the CPU budget (the server
# splits cpu_threads between the two thread pools; GET /v1/engines in the raw output says what each got).
#
#   loadtest/engines-bench.sh [ROUNDS] [SECONDS]      default: 2 rounds of 10 s per measurement (about 9 minutes)
#
# Environment: SERVAL_ARGS, more arguments for the server (e.g. --cpu_threads=2). Needs the built jars
# (mvn -B -q -DskipTests install) and the test venv with the openvino wheel (server/src/test/python/setup_env.sh
# .venv). Output: loadtest/reports/raw/<date>-engines/ (override with OUT=...): one serval-load results.json per
# measurement, engines.json, server.log and summary.md (also printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SECONDS_PER=${2:-10}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-engines}
PY=.venv/bin/python
SERVAL_ARGS=${SERVAL_ARGS:-}
LOAD=loadtest/target/serval-load.jar
HTTP_PORT=18700
GRPC_PORT=18701
MANAGE_PORT=18703
TOKEN=engines-bench
[ -f "$LOAD" ] || { echo "engines-bench: $LOAD is missing: mvn -B -q -DskipTests install" >&2; exit 1; }
"$PY" -c 'import openvino' || { echo "engines-bench: no openvino in .venv: server/src/test/python/setup_env.sh .venv" >&2; exit 1; }

work=$(mktemp -d)
server=
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$OUT" "$work/repo"
models="digits spam ocr_det ocr_orientation ocr_rec"
for m in $models; do
  cp -r "models/$m" "$work/repo/$m"
  cp -r "models/$m" "$work/repo/${m}_openvino"
  sed -i 's/^backend: .*/backend: openvino/' "$work/repo/${m}_openvino/config.yaml"
done
# Token ids inside the spam model's vocabulary (random ids outside it are not a valid input), half a sentence long.
"$PY" - "$work" <<'PYEOF'
import sys, numpy as np
rng = np.random.default_rng(1)
for batch in (1, 8):
    ids = rng.integers(1000, 5000, size=(batch, 128), dtype=np.int64); ids[:, 0] = 2; ids[:, 64:] = 0
    mask = np.zeros((batch, 128), dtype=np.int64); mask[:, :64] = 1
    np.save(f"{sys.argv[1]}/input_ids_{batch}.npy", ids)
    np.save(f"{sys.argv[1]}/attention_mask_{batch}.npy", mask)
    np.save(f"{sys.argv[1]}/token_type_ids_{batch}.npy", np.zeros((batch, 128), dtype=np.int64))
PYEOF
hash=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
printf 'auth:\n  tokens:\n    - {name: bench, sha256: %s, scopes: [manage, infer, metrics]}\n' "$hash" > "$work/serval.yaml"
# shellcheck disable=SC2086 # SERVAL_ARGS is a list of arguments
bin/serval --config="$work/serval.yaml" --model_repositories="$work/repo" --http_port=$HTTP_PORT \
  --grpc_port=$GRPC_PORT --metrics_port=18702 --management.port=$MANAGE_PORT $SERVAL_ARGS > "$OUT/server.log" 2>&1 &
server=$!
for _ in $(seq 120); do
  curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/v2/health/ready" && break
  sleep 0.5
done
curl -sf -o /dev/null "http://127.0.0.1:$HTTP_PORT/v2/health/ready" || { echo "engines-bench: server not ready" >&2; exit 1; }
curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$MANAGE_PORT/v1/engines" > "$OUT/engines.json"

measure() { # model engine batch round
  local model=$1 name=$1 batch=$3 args=()
  [ "$2" = openvino ] && name=${model}_openvino
  case $model in
    spam) args=(--input "input_ids=$work/input_ids_$batch.npy" --input "attention_mask=$work/attention_mask_$batch.npy"
                --input "token_type_ids=$work/token_type_ids_$batch.npy") ;;
    ocr_det) args=(--shape "x=$batch,3,480,640") ;;
    ocr_rec) args=(--shape "x=$batch,3,48,320") ;;
    *) args=(--batch "$batch") ;;
  esac
  java -jar "$LOAD" --url "grpc://127.0.0.1:$GRPC_PORT" --model "$name" --token "$TOKEN" --concurrency 1 \
    --duration "${SECONDS_PER}s" --warmup 2s --quiet "${args[@]}" --label "$2 $model batch $batch round $4" \
    --out "$OUT/$model-$2-b$batch-r$4" > /dev/null
}
for round in $(seq "$ROUNDS"); do
  for m in $models; do
    for b in 1 8; do
      [ "$m" = ocr_det ] && [ "$b" = 8 ] && continue
      if [ $((round % 2)) = 1 ]; then order="onnxruntime openvino"; else order="openvino onnxruntime"; fi
      for e in $order; do
        measure "$m" "$e" "$b" "$round"
      done
    done
  done
done

"$PY" - "$OUT" "$ROUNDS" <<'PYEOF' | tee "$OUT/summary.md"
import json, statistics, sys, glob, os
out, rounds = sys.argv[1], int(sys.argv[2])
print("# OpenVINO vs ONNX Runtime, one request in flight over gRPC\n")
print("| model | batch | onnxruntime rows/s | openvino rows/s | openvino / onnxruntime | onnxruntime p50 ms | openvino p50 ms |")
print("|---|---|---|---|---|---|---|")
for model in ["digits", "spam", "ocr_det", "ocr_orientation", "ocr_rec"]:
    for batch in (1, 8):
        cells = {}
        for engine in ("onnxruntime", "openvino"):
            runs = [json.load(open(f))["levels"][0] for f in sorted(glob.glob(f"{out}/{model}-{engine}-b{batch}-r*/results.json"))]
            if runs:
                # Rows per second: requests x batch (the inputs given as files or shapes carry the batch).
                cells[engine] = (statistics.median(r["requests_per_sec"] * batch for r in runs),
                                 statistics.median(r["latency_us"]["p50"] for r in runs) / 1000,
                                 sum(len(r["errors"]) for r in runs))
        if len(cells) == 2:
            o, v = cells["onnxruntime"], cells["openvino"]
            print(f"| {model} | {batch} | {o[0]:.1f} | {v[0]:.1f} | {v[0] / o[0]:.2f} | {o[1]:.2f} | {v[1]:.2f} |")
            if o[2] or v[2]:
                print(f"| {model} | {batch} | errors: onnxruntime {o[2]}, openvino {v[2]} | | | | |")
print(f"\nMedians of {rounds} rounds; rows/s = requests/s x batch; p50 of one request. Engines: "
      + json.dumps(json.load(open(f"{out}/engines.json"))))
PYEOF
