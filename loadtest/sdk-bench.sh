#!/usr/bin/env bash
# The Java client SDK's cost per call (issue [9 of 10]): the SDK over gRPC and over HTTP against the bare generated
# gRPC stub (the floor) and against Python's tritonclient.grpc, on one server in one run. Each is a closed loop of
# synchronous calls at 1 and 32 threads on two built-in models: digits (3 KiB in, the per-call cost shows) and
# ocr_orientation ([1,3,48,192] FP32, 108 KiB in). Client and server share the machine, so a client's CPU per call
# also takes CPU from the server: both throughput and the client's own CPU per request are reported.
#
#   loadtest/sdk-bench.sh [ROUNDS] [SECONDS]     default: 2 rounds of 10 s per measurement, after WARMUP s of the
#                                                same loop (4 modes x 2 models x 2 concurrencies x ROUNDS;
#                                                about 16 minutes with the defaults)
#
# Run nothing else meanwhile (each result line records the CPU of other processes). Drivers: client-sdk/src/test/java/io/serval/client/bench/SdkOverheadBench.java (modes
# sdk-grpc, sdk-http, raw-grpc; started with java -cp on the test classpath, which this script compiles and caches
# in client-sdk/target/sdk-bench.classpath with Maven, offline, when missing or older than the sources) and
# loadtest/sdk_bench.py (mode py-grpc, in the test venv .venv, server/src/test/python/setup_env.sh .venv).
# Rounds alternate the order of the modes.
#
# Every driver is a new process: WARMUP seconds of its loop let the JIT compile the client's paths first (on 2 cores
# a Java client still gets faster after 10 s). Before the first round the server itself is warmed, SERVER_WARMUP
# seconds per model over gRPC and over HTTP at 8 in flight (discarded).
# What else ran: each line of results.jsonl also has the CPU the server, the driver (whole process life) and the
# rest of the machine used during that measurement, in % of the machine.
#
# Environment: WARMUP (seconds, default 15); SERVER_WARMUP (seconds, default 15); MODELS (default "digits
# ocr_orientation"); SERVAL_ARGS, more arguments for the server. Needs the built jars (mvn -B -q -DskipTests
# install).
# Output: loadtest/reports/raw/<date>-sdk-bench/ (override with OUT=...): results.jsonl (one line per measurement),
# logs/ (each driver's output), machine.txt, server.log, and summary.md (also printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
SECONDS_PER=${2:-10}
WARMUP=${WARMUP:-15}
SERVER_WARMUP=${SERVER_WARMUP:-15}
MODELS=${MODELS:-digits ocr_orientation}
SERVAL_ARGS=${SERVAL_ARGS:-}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-sdk-bench}
PY=.venv/bin/python
JAR=server/target/serval-server.jar
CLASSPATH_FILE=client-sdk/target/sdk-bench.classpath
HTTP_PORT=18900
GRPC_PORT=18901
MODES="sdk-grpc sdk-http raw-grpc py-grpc"

log() { echo "sdk-bench: $*" >&2; }

[ -f "$JAR" ] || { log "$JAR is missing: mvn -B -q -DskipTests install"; exit 1; }
"$PY" -c 'import tritonclient.grpc, numpy' 2>/dev/null ||
  { log "no tritonclient in $PY: server/src/test/python/setup_env.sh .venv"; exit 1; }
for port in $HTTP_PORT $GRPC_PORT $((HTTP_PORT + 2)) $((HTTP_PORT + 3)); do
  if ss -ltn "sport = :$port" | grep -q LISTEN; then log "port $port is in use"; exit 1; fi
done

bench_sources=client-sdk/src/test/java/io/serval/client/bench
if [ ! -f "$CLASSPATH_FILE" ] || [ client-sdk/pom.xml -nt "$CLASSPATH_FILE" ] ||
   [ -n "$(find "$bench_sources" client-sdk/src/main -newer "$CLASSPATH_FILE" -type f | head -1)" ]; then
  log "compiling the client's test classes and caching its test classpath (Maven, offline)"
  mvn -B -q -o -pl client-sdk test-compile dependency:build-classpath -Dmdep.includeScope=test \
    -Dmdep.outputFile="$PWD/$CLASSPATH_FILE"
fi
JAVA_CP=client-sdk/target/test-classes:client-sdk/target/classes:$(cat "$CLASSPATH_FILE")

mkdir -p "$OUT/logs"
rm -f "$OUT"/logs/*.log "$OUT/results.jsonl"

# ---- the server: the built-in models, the default settings --------------------------------------------------------
# shellcheck disable=SC2086 # SERVAL_ARGS is a list of arguments
bin/serval --http_port=$HTTP_PORT --grpc_port=$GRPC_PORT --metrics_port=$((HTTP_PORT + 2)) \
  --management.port=$((HTTP_PORT + 3)) $SERVAL_ARGS > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
waited=0
until curl -sf "localhost:$HTTP_PORT/v2/health/ready" >/dev/null; do
  kill -0 "$SERVER" 2>/dev/null || { log "the server exited while starting:"; tail -5 "$OUT/server.log" >&2; exit 1; }
  [ $waited -lt 600 ] || { log "the server is not ready after 120 s (see $OUT/server.log)"; exit 1; }
  sleep 0.2; waited=$((waited + 1))
done
for m in $MODELS; do
  curl -sf "localhost:$HTTP_PORT/v2/models/$m/ready" >/dev/null || { log "model $m is not ready"; exit 1; }
done

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD); $(git status --short | wc -l) changed or new paths in the work tree"
  echo "nproc: $(nproc)"
  lscpu | grep -E '^(Model name|Thread\(s\) per core|Core\(s\) per socket|CPU MHz|L2 cache|L3 cache):' || true
  echo "memory: $(free -m | awk '/^Mem:/ {print $2 " MiB"}')"
  echo "kernel: $(uname -r)"
  java -version 2>&1 | head -2
  echo "python: $("$PY" --version 2>&1); tritonclient $("$PY" -c 'import importlib.metadata as m; print(m.version("tritonclient"))');" \
    "grpcio $("$PY" -c 'import grpc; print(grpc.__version__)'); numpy $("$PY" -c 'import numpy; print(numpy.__version__)')"
  echo "armeria: $(sed -n 's:.*<armeria.version>\(.*\)</armeria.version>.*:\1:p' pom.xml);" \
    "grpc-java: $(sed -n 's:.*<grpc.version>\(.*\)</grpc.version>.*:\1:p' pom.xml)"
  echo "server: bin/serval --http_port=$HTTP_PORT --grpc_port=$GRPC_PORT ... $SERVAL_ARGS (built-in models, defaults)"
  echo "settings: rounds $ROUNDS, $SECONDS_PER s per measurement after $WARMUP s of warm-up; models $MODELS;" \
    "concurrency 1 and 32; modes $MODES"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$OUT/machine.txt"

# CPU ticks: the machine's busy time, the server's, and this shell's waited-for children's (the drivers).
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
server_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
child_ticks() { sed 's/.*) //' "/proc/$$/stat" | awk '{print $14 + $15}'; }
TICKS=$(getconf CLK_TCK)
NPROC=$(nproc)

drive() { # mode model concurrency round seconds warmup log
  local mode=$1 endpoint=127.0.0.1:$GRPC_PORT
  [ "$mode" = sdk-http ] && endpoint=127.0.0.1:$HTTP_PORT
  if [ "$mode" = py-grpc ]; then
    "$PY" loadtest/sdk_bench.py --endpoint "$endpoint" --model "$2" --concurrency "$3" --round "$4" \
      --seconds "$5" --warmup "$6" > "$7" 2>&1 || true
  else
    java -cp "$JAVA_CP" io.serval.client.bench.SdkOverheadBench --mode "$mode" --endpoint "$endpoint" \
      --model "$2" --concurrency "$3" --round "$4" --seconds "$5" --warmup "$6" > "$7" 2>&1 || true
  fi
}
measure() { # mode model concurrency round
  local name="$1-$2-c$3-r$4" line busy0 server0 child0 wall0 busy1 server1 child1 wall1
  busy0=$(busy_ticks); server0=$(server_ticks); child0=$(child_ticks); wall0=$(date +%s.%N)
  drive "$@" "$SECONDS_PER" "$WARMUP" "$OUT/logs/$name.log"
  busy1=$(busy_ticks); server1=$(server_ticks); child1=$(child_ticks); wall1=$(date +%s.%N)
  line=$(grep '^{"mode"' "$OUT/logs/$name.log" | tail -1 || true)
  if [ -z "$line" ]; then
    log "$name: no result (see $OUT/logs/$name.log):"; tail -3 "$OUT/logs/$name.log" >&2
    return
  fi
  # The shares of the machine (100 = all its cores) over the driver's whole life, warm-up and start included.
  line=${line%\}}$(awk -v b="$((busy1 - busy0))" -v s="$((server1 - server0))" -v c="$((child1 - child0))" \
    -v w="$(echo "$wall1 - $wall0" | bc)" -v t="$TICKS" -v n="$NPROC" 'BEGIN {
      m = w * t * n / 100; o = b - s - c; if (o < 0) o = 0
      printf ", \"server_cpu_pct\": %.1f, \"driver_cpu_pct\": %.1f, \"other_cpu_pct\": %.1f}", s / m, c / m, o / m }')
  echo "$line" >> "$OUT/results.jsonl"
  log "$line"
}

# The server's JIT: both listeners, both models, before anything is measured.
for model in $MODELS; do
  for mode in raw-grpc sdk-http; do
    drive "$mode" "$model" 8 0 "$SERVER_WARMUP" 0 "$OUT/logs/server-warmup-$mode-$model.log"
  done
done
for round in $(seq "$ROUNDS"); do
  order=$MODES
  [ $((round % 2)) -eq 0 ] && order=$(tr ' ' '\n' <<<"$MODES" | tac | tr '\n' ' ')
  for model in $MODELS; do
    for c in 1 32; do
      for mode in $order; do
        measure "$mode" "$model" "$c" "$round"
      done
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"

"$PY" - "$OUT" "$ROUNDS" "$SECONDS_PER" "$WARMUP" <<'PYEOF' > "$OUT/summary.md"
import json, statistics, sys
out, rounds, seconds, warmup = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
runs = [json.loads(line) for line in open(f"{out}/results.jsonl")]
modes = ["raw-grpc", "sdk-grpc", "sdk-http", "py-grpc"]
models = list(dict.fromkeys(r["model"] for r in runs))

def cell(mode, model, c):
    rs = [r for r in runs if (r["mode"], r["model"], r["concurrency"]) == (mode, model, c)]
    if not rs:
        return None
    med = lambda key: statistics.median(r[key] for r in rs if r[key] is not None)
    return {"rps": med("requests_per_sec"), "p50": med("p50_us"), "p99": med("p99_us"),
            "cpu": med("cpu_us_per_request"), "errors": sum(r["errors"] for r in rs), "n": len(rs),
            "server": med("server_cpu_pct"), "other": max(r["other_cpu_pct"] for r in rs),
            "spread": (min(r["requests_per_sec"] for r in rs), max(r["requests_per_sec"] for r in rs))}

print("# Client SDK overhead: Serval's Java SDK vs the raw gRPC stub vs Python tritonclient\n")
print(f"Closed loop of synchronous calls, one thread per call in flight; medians of {rounds} rounds of {seconds} s "
      f"(after {warmup} s of warm-up). Client CPU = the client process's CPU time per request (all its threads), over "
      "the measured seconds. Server and other CPU: shares of the whole machine (100 % = every core) over each "
      "driver's life (start and warm-up included); server the median, other processes the highest of the rounds.\n")
for model in models:
    print(f"## {model}\n")
    print("| mode | concurrency | requests/s | (min-max over rounds) | p50 us | p99 us | client CPU us/request "
          "| server CPU % | other CPU % | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in (1, 32):
        for mode in modes:
            x = cell(mode, model, c)
            if x:
                print(f"| {mode} | {c} | {x['rps']:.0f} | {x['spread'][0]:.0f}-{x['spread'][1]:.0f} | {x['p50']:.0f} "
                      f"| {x['p99']:.0f} | {x['cpu']:.0f} | {x['server']:.0f} | {x['other']:.0f} | {x['errors']} |")
    print()
print("## Against the raw stub (same model, same concurrency)\n")
print("| model | concurrency | mode | throughput / raw | p50 - raw (us) | p99 - raw (us) | client CPU - raw (us/request) |")
print("|---|---|---|---|---|---|---|")
for model in models:
    for c in (1, 32):
        raw = cell("raw-grpc", model, c)
        if not raw:
            continue
        for mode in modes[1:]:
            x = cell(mode, model, c)
            if x:
                print(f"| {model} | {c} | {mode} | {x['rps'] / raw['rps']:.3f} | {x['p50'] - raw['p50']:+.0f} "
                      f"| {x['p99'] - raw['p99']:+.0f} | {x['cpu'] - raw['cpu']:+.0f} |")
PYEOF
sed -i -e "s#$PWD/##g" -e "s#$HOME/#~/#g" "$OUT"/*.log "$OUT"/*.txt "$OUT"/*.md "$OUT"/logs/*.log 2>/dev/null || true
cat "$OUT/summary.md"
