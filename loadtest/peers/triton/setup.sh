#!/usr/bin/env bash
# Run by `loadtest/peers.sh setup triton` after the venv is installed: lays out Triton's backend directory
# (the python backend and the stub built for this venv's Python) from the nvidia-pytriton wheel.
#   usage: setup.sh VENV_DIR PEER_BUILD_DIR
set -euo pipefail
VENV=$1 BUILD=$2
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
PYVER=$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
WHEEL="$SITE/pytriton/tritonserver"
[ -x "$WHEEL/bin/tritonserver" ] || { echo "no tritonserver binary in $WHEEL" >&2; exit 1; }
STUB="$WHEEL/python_backend_stubs/$PYVER/triton_python_backend_stub"
[ -x "$STUB" ] || { echo "the wheel has no python backend stub for Python $PYVER" >&2; exit 1; }
rm -rf "$BUILD/backends"
mkdir -p "$BUILD/backends/python"
cp "$WHEEL/backends/python/libtriton_python.so" "$WHEEL/backends/python/triton_python_backend_utils.py" \
  "$STUB" "$BUILD/backends/python/"
missing=$(LD_LIBRARY_PATH="$SITE/nvidia_pytriton.libs" ldd "$WHEEL/bin/tritonserver" "$STUB" | grep 'not found' || true)
[ -z "$missing" ] || { echo "tritonserver or its python stub misses libraries: $missing" >&2; exit 1; }
echo "triton: backends in $BUILD/backends (python stub for $PYVER)"
