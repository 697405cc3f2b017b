#!/usr/bin/env bash
# Starts MLServer 1.7 on loopback with the ONNX Runtime custom runtime (runtime.py).
#   usage: serve.sh HTTP_PORT GRPC_PORT METRICS_PORT on|off MODEL_ONNX
# Settings from the environment (loadtest/peers.sh): PEER_THREADS, PEER_MAX_BATCH, PEER_DELAY_US, PEER_MODEL_NAME.
set -euo pipefail
HTTP=$1 GRPC=$2 METRICS=$3 BATCHING=$4
export PEER_MODEL_PATH=$(realpath "$5") PEER_BATCHING=$BATCHING
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${PEER_BUILD:-$ROOT/loadtest/target/peers/mlserver}
NAME=${PEER_MODEL_NAME:-ocr_orientation}
MAX_BATCH=${PEER_MAX_BATCH:-8}

# MLServer ignores adaptive batching when max_batch_time is 0, so "delay 0" becomes the smallest value it
# accepts: 1 microsecond (it then batches what is already queued).
DELAY_S=$(python3 -c "print(max(${PEER_DELAY_US:-0}, 1) / 1e6)")
[ "$BATCHING" = on ] || { MAX_BATCH=0; DELAY_S=0; }

DIR=$BUILD/serve-$BATCHING
rm -rf "$DIR" && mkdir -p "$DIR/$NAME"
cat > "$DIR/settings.json" <<JSON
{"host": "127.0.0.1", "http_port": $HTTP, "grpc_port": $GRPC, "metrics_port": $METRICS,
 "parallel_workers": 0, "debug": false, "load_models_at_startup": true}
JSON
cat > "$DIR/$NAME/model-settings.json" <<JSON
{"name": "$NAME", "implementation": "runtime.OnnxRuntimeModel",
 "max_batch_size": $MAX_BATCH, "max_batch_time": $DELAY_S,
 "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 3, 48, 192]}],
 "outputs": [{"name": "softmax_0.tmp_0", "datatype": "FP32", "shape": [-1, 2]}],
 "parameters": {"version": "1"}}
JSON
cp "$HERE/runtime.py" "$DIR/$NAME/"
export PYTHONPATH="$DIR/$NAME:$ROOT/loadtest/peers/common${PYTHONPATH:+:$PYTHONPATH}"
exec "$BUILD/venv/bin/python" "$HERE/launch.py" "$DIR"
