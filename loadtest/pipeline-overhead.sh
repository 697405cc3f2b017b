#!/usr/bin/env bash
# What a pipeline costs over a direct call (not part of the test run): the built-in classifier called directly,
# through a one-node pipeline (infer only) and through a four-node one (infer, then three softmax nodes over its
# [N,2] output), perf_analyzer over gRPC at concurrency 1 and 16, ROUNDS rounds alternating the three.
#
#   loadtest/pipeline-overhead.sh [ROUNDS] [SECONDS]      default: 2 rounds, 5 s windows
#
# Output: a markdown table of infer/s and p50/p99 per target, concurrency and round, then the medians.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
WINDOW_MS=$(( ${2:-5} * 1000 ))
INPUT=loadtest/target/peers/input.json
PA=.venv/bin/perf_analyzer
[ -f "$INPUT" ] || { echo "run loadtest/peers.sh smoke (or run) once: it writes $INPUT" >&2; exit 1; }
REPO=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null; rm -rf "$REPO"' EXIT
cp -r models/ocr_orientation "$REPO/"
mkdir -p "$REPO/one_node" "$REPO/four_nodes"
cat > "$REPO/one_node/pipeline.yaml" <<'YAML'
inputs:  [{name: x, datatype: FP32, dims: [-1, 3, 48, 192]}]
outputs: [{name: softmax_0.tmp_0, from: model.softmax_0.tmp_0}]
nodes: [{name: model, op: infer, inputs: {x: x}, params: {model: ocr_orientation}}]
YAML
cat > "$REPO/four_nodes/pipeline.yaml" <<'YAML'
inputs:  [{name: x, datatype: FP32, dims: [-1, 3, 48, 192]}]
outputs: [{name: softmax_0.tmp_0, from: s3.y}]
nodes:
  - {name: model, op: infer, inputs: {x: x}, params: {model: ocr_orientation}}
  - {name: s1, op: softmax, inputs: {x: model.softmax_0.tmp_0}}
  - {name: s2, op: softmax, inputs: {x: s1.y}}
  - {name: s3, op: softmax, inputs: {x: s2.y}}
YAML
# Pipelines take whole requests (max_batch_size 0), so perf_analyzer sends them the batch dimension itself.
.venv/bin/python - "$INPUT" "$REPO/input-pipeline.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
data["data"][0]["x"]["shape"] = [1] + data["data"][0]["x"]["shape"]
json.dump(data, open(sys.argv[2], "w"))
PY
bin/serval --http_port=18400 --grpc_port=18401 --metrics_port=18402 --management.port=18403 \
  --model_repositories="$REPO" > "$REPO/server.log" 2>&1 &
SERVER=$!
until curl -sf localhost:18400/v2/health/ready >/dev/null; do sleep 0.2; done
echo "| target | concurrency | round | infer/s | p50 us | p99 us |"
echo "|---|---|---|---|---|---|"
for round in $(seq "$ROUNDS"); do
  for c in 1 16; do
    for target in ocr_orientation one_node four_nodes; do
      input=$INPUT
      [ "$target" = ocr_orientation ] || input=$REPO/input-pipeline.json
      "$PA" -m "$target" -u localhost:18401 -i grpc --concurrency-range "$c:$c" -p "$WINDOW_MS" -s 25 \
        --input-data "$input" -f "$REPO/pa.csv" > "$REPO/pa.log" 2>&1 || { tail -5 "$REPO/pa.log" >&2; exit 1; }
      awk -F, -v t="$target" -v c="$c" -v r="$round" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
        NR == 2 { printf "| %s | %s | %s | %.0f | %s | %s |\n", t, c, r, $col["Inferences/Second"],
                  $col["p50 latency"], $col["p99 latency"] }' "$REPO/pa.csv"
    done
  done
done
