#!/usr/bin/env bash
# Starts the KServe model server (v2 REST + gRPC) on loopback with model.py.
#   usage: serve.sh HTTP_PORT GRPC_PORT METRICS_PORT on|off MODEL_ONNX
# METRICS_PORT is unused: KServe serves /metrics on the HTTP port.
# Settings from the environment (loadtest/peers.sh): PEER_THREADS, PEER_MAX_BATCH, PEER_DELAY_US, PEER_MODEL_NAME.
set -euo pipefail
HTTP=$1 GRPC=$2 BATCHING=$4
export PEER_MODEL_PATH=$(realpath "$5") PEER_BATCHING=$BATCHING
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${PEER_BUILD:-$ROOT/loadtest/target/peers/kserve}
export PYTHONPATH="$ROOT/loadtest/peers/common${PYTHONPATH:+:$PYTHONPATH}"
exec "$BUILD/venv/bin/python" "$HERE/model.py" "$HTTP" "$GRPC"
