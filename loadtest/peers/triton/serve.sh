#!/usr/bin/env bash
# Starts Triton 2.51 (from the nvidia-pytriton wheel) on loopback with the python-backend model.py.
#   usage: serve.sh HTTP_PORT GRPC_PORT METRICS_PORT on|off MODEL_ONNX
# Settings from the environment (loadtest/peers.sh): PEER_THREADS, PEER_MAX_BATCH, PEER_DELAY_US, PEER_MODEL_NAME;
# PEER_REPO (where the model repository is written) and PEER_TRITON_ARGS (more tritonserver options), for
# loadtest/swap-vs-triton.sh.
set -euo pipefail
HTTP=$1 GRPC=$2 METRICS=$3 BATCHING=$4 MODEL=$(realpath "$5")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
BUILD=${PEER_BUILD:-$ROOT/loadtest/target/peers/triton}
VENV=$BUILD/venv
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
NAME=${PEER_MODEL_NAME:-ocr_orientation}

REPO=${PEER_REPO:-$BUILD/repo-$BATCHING}
rm -rf "$REPO"
mkdir -p "$REPO/$NAME/1"
cp "$HERE/model.py" "$REPO/$NAME/1/model.py"
{
  cat <<PBTXT
name: "$NAME"
backend: "python"
max_batch_size: ${PEER_MAX_BATCH:-8}
input [ { name: "x", data_type: TYPE_FP32, dims: [ 3, 48, 192 ] } ]
output [ { name: "softmax_0.tmp_0", data_type: TYPE_FP32, dims: [ 2 ] } ]
instance_group [ { count: 1, kind: KIND_CPU } ]
parameters [
  { key: "model_path", value: { string_value: "$MODEL" } },
  { key: "intra_op_threads", value: { string_value: "${PEER_THREADS:-2}" } },
  { key: "common_dir", value: { string_value: "$ROOT/loadtest/peers/common" } }
]
PBTXT
  if [ "$BATCHING" = on ]; then
    echo "dynamic_batching { max_queue_delay_microseconds: ${PEER_DELAY_US:-0} }"
  fi
} > "$REPO/$NAME/config.pbtxt"

# The stub embeds the system's libpython; with the venv's bin first on PATH it takes the venv's site-packages
# (numpy, onnxruntime). model.py finds peer_common through the common_dir parameter.
export PATH="$VENV/bin:$PATH"
export LD_LIBRARY_PATH="$SITE/nvidia_pytriton.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec "$SITE/pytriton/tritonserver/bin/tritonserver" \
  --model-repository="$REPO" --backend-directory="$BUILD/backends" \
  --http-address=127.0.0.1 --http-port="$HTTP" \
  --grpc-address=127.0.0.1 --grpc-port="$GRPC" \
  --metrics-address=127.0.0.1 --metrics-port="$METRICS" --allow-gpu-metrics=false \
  --disable-auto-complete-config --strict-readiness=true --exit-timeout-secs=5 --log-info=true \
  ${PEER_TRITON_ARGS:-}
