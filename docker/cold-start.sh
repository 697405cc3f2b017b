#!/usr/bin/env bash
# Measures the image: its size, and the cold start of a container to ready (every built-in model loaded and warmed,
# GET /v2/health/ready answering 200), from `docker run` to the first 200, several times; then the memory a ready,
# idle container holds. Run it on a quiet machine (README, "Docker").
#   docker/cold-start.sh [image] [runs]      # defaults: serval:test 5; DOCKER_RUN_ARGS go to docker run
set -euo pipefail
image=${1:-serval:test}
runs=${2:-5}
port=${COLD_START_PORT:-18500}

echo "image $image: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1 / 1e6}')"
for run in $(seq 1 "$runs"); do
  name=serval-cold-start-$run
  start=$(date +%s%N)
  # shellcheck disable=SC2086 # DOCKER_RUN_ARGS is a list of options
  docker run -d --rm --name "$name" -p "127.0.0.1:$port:8000" ${DOCKER_RUN_ARGS:-} "$image" >/dev/null
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:$port/v2/health/ready")" = 200 ]; do
    sleep 0.05
  done
  ready_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  memory=$(docker stats --no-stream --format '{{.MemUsage}}' "$name" | cut -d/ -f1)
  echo "run $run: ready after ${ready_ms} ms; memory when ready ${memory}"
  docker stop -t 30 "$name" >/dev/null
done
