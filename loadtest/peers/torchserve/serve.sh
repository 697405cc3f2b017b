#!/usr/bin/env bash
# Starts TorchServe 0.12 (Java frontend + one Python worker running handler.py) on loopback, and the v2 front
# (front.py) that perf_analyzer talks to.
#   usage: serve.sh HTTP_PORT GRPC_PORT METRICS_PORT on|off MODEL_ONNX
# HTTP_PORT/GRPC_PORT: the front's v2 REST and gRPC; METRICS_PORT: TorchServe's Prometheus metrics. TorchServe's
# own inference/management listeners take HTTP_PORT+3 .. HTTP_PORT+6.
# Settings from the environment (loadtest/peers.sh): PEER_THREADS, PEER_MAX_BATCH, PEER_DELAY_US, PEER_MODEL_NAME.
# TS_MAX_BATCH_DELAY_MS overrides the batch delay (see README.md).
set -euo pipefail
HTTP=$1 GRPC=$2 METRICS=$3 BATCHING=$4
export PEER_MODEL_PATH=$(realpath "$5") PEER_BATCHING=$BATCHING
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${PEER_BUILD:-$ROOT/loadtest/target/peers/torchserve}
VENV=$BUILD/venv
NAME=${PEER_MODEL_NAME:-ocr_orientation}
TS_HTTP=$((HTTP + 3)) TS_MANAGEMENT=$((HTTP + 4)) TS_GRPC=$((HTTP + 5)) TS_GRPC_MANAGEMENT=$((HTTP + 6))

# Batching on: TorchServe's batching, batchSize = max batch. TorchServe reads a maxBatchDelay of 0 as unset (its
# default is then 100 ms), so the delay is PEER_DELAY_US rounded up to whole ms, at least 1 (see README.md).
# Off: batchSize 1.
DELAY_MS=$(( (${PEER_DELAY_US:-0} + 999) / 1000 ))
[ "$DELAY_MS" -ge 1 ] || DELAY_MS=1
DELAY_MS=${TS_MAX_BATCH_DELAY_MS:-$DELAY_MS}
BATCH_SIZE=${PEER_MAX_BATCH:-8}
[ "$BATCHING" = on ] || { BATCH_SIZE=1; DELAY_MS=1; }

DIR=$BUILD/serve-$BATCHING
rm -rf "$DIR" && mkdir -p "$DIR/store" "$DIR/logs" "$DIR/tmp"
# The model as a TorchServe model directory (no archive): handler.py and the shared peer_common.py.
"$VENV/bin/torch-model-archiver" --model-name "$NAME" --version 1 --handler "$HERE/handler.py" \
  --extra-files "$ROOT/loadtest/peers/common/peer_common.py" --archive-format no-archive \
  --export-path "$DIR/store" --force
cat > "$DIR/config.properties" <<PROPS
inference_address=http://127.0.0.1:$TS_HTTP
management_address=http://127.0.0.1:$TS_MANAGEMENT
metrics_address=http://127.0.0.1:$METRICS
grpc_inference_address=127.0.0.1
grpc_inference_port=$TS_GRPC
grpc_management_address=127.0.0.1
grpc_management_port=$TS_GRPC_MANAGEMENT
model_store=$DIR/store
load_models=$NAME
models={"$NAME": {"1": {"defaultVersion": true, "marName": "$NAME", "minWorkers": 1, "maxWorkers": 1, \
  "batchSize": $BATCH_SIZE, "maxBatchDelay": $DELAY_MS, "responseTimeout": 120}}}
default_workers_per_model=1
job_queue_size=1000
disable_token_authorization=true
enable_envvars_config=false
install_py_dep_per_model=false
disable_system_metrics=true
metrics_mode=prometheus
PROPS

# TorchServe keeps its pid file in the temp directory and its logs under LOG_LOCATION: both in DIR, so nothing
# is shared with another TorchServe on the machine.
export TMPDIR=$DIR/tmp TEMP=$DIR/tmp LOG_LOCATION=$DIR/logs METRICS_LOCATION=$DIR/logs
export PATH="$VENV/bin:$PATH"
export PYTHONPATH="$ROOT/loadtest/peers/common${PYTHONPATH:+:$PYTHONPATH}"
cd "$DIR"
"$VENV/bin/torchserve" --start --foreground --ts-config "$DIR/config.properties" --log-config "$HERE/log4j2.xml" \
  --disable-token-auth &
TS_PID=$!
"$VENV/bin/python" "$HERE/front.py" "$HTTP" "$GRPC" "$TS_GRPC" "$TS_MANAGEMENT" "$TS_PID" &
FRONT_PID=$!
trap 'kill -TERM $TS_PID $FRONT_PID 2>/dev/null; wait' EXIT INT TERM
wait -n "$TS_PID" "$FRONT_PID"
