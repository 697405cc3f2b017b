#!/usr/bin/env bash
# Run by `loadtest/peers.sh setup torchserve` after requirements.txt is installed: installs torch without its
# dependencies (requirements.txt pins the ones import needs, without the triton compiler) and checks that the
# worker's imports and Java work.
#   usage: setup.sh VENV_DIR PEER_BUILD_DIR
set -euo pipefail
VENV=$1
"$VENV/bin/pip" install --disable-pip-version-check --no-deps torch==2.4.1
"$VENV/bin/python" -c 'import torch, ts.model_service_worker, onnxruntime; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
java -version 2>&1 | head -1
