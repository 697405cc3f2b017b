#!/usr/bin/env bash
# The cost of an A/B route and of its shadow (not part of the test run): the load tool calls the digits model
# directly, through route digits-route (one variant: digits), and through digits-shadowed (the same, with a shadow
# copying every request to digits again), over gRPC at concurrency 1 and 8, ROUNDS rounds alternating the three.
#
#   loadtest/route-bench.sh [ROUNDS] [SECONDS]      default: 2 rounds, 15 s per measurement
#
# Needs the built jars (mvn -B -q -DskipTests install). Output: loadtest/reports/raw/<date>-route-bench/ (override
# with OUT=...): the load tool's results per target, concurrency and round, server.log, and summary.md (printed).
# Run nothing else meanwhile.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SECONDS_PER_RUN=${2:-15}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-route-bench}
LOAD="java -jar loadtest/target/serval-load.jar"
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/routes/digits-route" "$WORK/routes/digits-shadowed"
cat > "$WORK/routes/digits-route/route.yaml" <<'YAML'
variants:
  - {name: a, model: digits, weight: 1}
YAML
cat > "$WORK/routes/digits-shadowed/route.yaml" <<'YAML'
variants:
  - {name: a, model: digits, weight: 1}
shadow: {name: copy, model: digits, max_inflight: 64}
YAML
bin/serval --model_repositories="models,$WORK/routes" --http_port=18800 --grpc_port=18801 --metrics_port=18802 \
  --management.port=18803 > "$OUT/server.log" 2>&1 &
SERVER=$!
until curl -sf localhost:18800/v2/health/ready >/dev/null; do sleep 0.2; done

echo "| target | concurrency | round | requests/s | p50 ms | p99 ms | errors |" > "$OUT/summary.md"
echo "|---|---|---|---|---|---|---|" >> "$OUT/summary.md"
for round in $(seq "$ROUNDS"); do
  for target in digits digits-route digits-shadowed; do
    for c in 1 8; do
      run=$OUT/$target-c$c-round$round
      $LOAD --url grpc://localhost:18801 --model "$target" --concurrency "$c" --warmup 3s \
        --duration "${SECONDS_PER_RUN}s" --out "$run" --quiet > "$run.log" 2>&1 || { tail -5 "$run.log" >&2; exit 1; }
      .venv/bin/python loadtest/level_row.py "$run/results.json" "$target" "$c" "$round" >> "$OUT/summary.md"
    done
  done
done
curl -s localhost:18802/metrics | grep -E '^serval_route_shadow_(requests|comparisons)_total' > "$OUT/shadow-metrics.txt" || true
sed -i "s#$PWD/##g; s#$WORK/##g" "$OUT"/*.log 2>/dev/null || true
cat "$OUT/summary.md"
