#!/usr/bin/env bash
# Starts a local Ray cluster and Ray Serve (HTTP and gRPC proxies on loopback) with app.py's deployment.
#   usage: serve.sh HTTP_PORT GRPC_PORT METRICS_PORT on|off MODEL_ONNX
# METRICS_PORT: Ray's Prometheus metrics export port.
# Settings from the environment (loadtest/peers.sh): PEER_THREADS, PEER_MAX_BATCH, PEER_DELAY_US, PEER_MODEL_NAME.
set -euo pipefail
HTTP=$1 GRPC=$2 METRICS=$3 BATCHING=$4
export PEER_MODEL_PATH=$(realpath "$5") PEER_BATCHING=$BATCHING
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${PEER_BUILD:-$ROOT/loadtest/target/peers/rayserve}
# Ray's session directory holds unix sockets, whose paths must stay short: a fresh one under the temp directory.
RAY_TMP=$(mktemp -d -t rayserve-XXXXXX)
export PYTHONPATH="$HERE:$ROOT/loadtest/peers/common${PYTHONPATH:+:$PYTHONPATH}"
export RAY_USAGE_STATS_ENABLED=0
# Ray turns a node address of 127.0.0.1 into the machine's address unless this is 0; with it, Ray's own servers
# (GCS, raylet, workers, agents) bind 127.0.0.1 instead of every interface.
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0

# app.py (the driver) and everything Ray starts run in a session of their own: Ray's workers put themselves in
# their own process groups, so stopping serve.sh's group would not reach them. Stopping serve.sh stops the driver
# (ray.shutdown), then ends whatever is left in that session.
cleanup() {
  trap - EXIT INT TERM
  if [ -n "${APP:-}" ]; then
    kill -TERM "$APP" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$APP" 2>/dev/null || break; sleep 0.5; done
    for pid in $(ps -s "$APP" -o pid= 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
  fi
  rm -rf "$RAY_TMP"
}
trap cleanup EXIT
trap 'exit 143' INT TERM
cd "$HERE"
setsid "$BUILD/venv/bin/python" "$HERE/app.py" "$HTTP" "$GRPC" "$METRICS" "$RAY_TMP" &
APP=$!
wait "$APP"
