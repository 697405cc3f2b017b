#!/usr/bin/env bash
# Peer suite: Serval against other model servers, each serving the same model with the same engine (ONNX Runtime,
# CPU), the same thread budget and the same batching settings, measured in one run. See loadtest/peers/README.md.
#
#   loadtest/peers.sh setup [PEER...]                 install peers into loadtest/target/peers/<peer>/venv
#                                                      (default: all peers; a failed install is reported, the rest go on)
#   loadtest/peers.sh run [--seconds N] [--protocol grpc|http] [PEER...]
#                                                      Serval + the installed peers (default: all installed), batching
#                                                      off and on, perf_analyzer at each concurrency, then Serval's own
#                                                      load tool when its jar is built; prints a markdown table
#   loadtest/peers.sh rounds [--rounds N] [--seconds S] [PEER...]
#                                                      side by side on a noisy machine: N rounds, each starting Serval
#                                                      then each peer in turn (batching on) and measuring concurrency
#                                                      1 and 16; prints each server's median, min and max
#   loadtest/peers.sh smoke [PEER...]                  each installed peer (and Serval) started, one short
#                                                      perf_analyzer point at concurrency 1 with batching on, stopped;
#                                                      exits non-zero when one of them failed
#
# Output: loadtest/reports/raw/<date>-peers/ (OUT=... to override; smoke: <date>-peers-smoke): perf_analyzer CSVs
# and logs, every server's log, versions.txt, summary.md.
# Needs: the built jar (server/target/serval-server.jar) and the test venv .venv with perf_analyzer
# (bash server/src/test/python/setup_env.sh .venv); this script runs neither Maven nor that setup.
set -uo pipefail
cd "$(dirname "$0")/.."

# ---- common settings: every server gets these ---------------------------------------------------------------
# (each can be set from the environment, e.g. THREADS=1 loadtest/peers.sh rounds)
THREADS=${THREADS:-2}      # ONNX Runtime intra-op threads (Serval --cpu_threads); inter-op 1, sequential
MAX_BATCH=${MAX_BATCH:-8}  # max batch size (the model's max_batch_size)
DELAY_US=${DELAY_US:-0}    # dynamic batching: max queue delay, microseconds
INSTANCES=${INSTANCES:-1}  # model instances (one execution at a time)
MODEL_NAME=ocr_orientation
MODEL_DIR=models/ocr_orientation
MODEL_ONNX=$MODEL_DIR/1/model.onnx
CONCURRENCY="1 4 16 64"
BATCHING="off on"
SECONDS_PER_POINT=10
PROTOCOL=grpc
ALL_PEERS="triton mlserver kserve torchserve rayserve"
# ports: HTTP, gRPC = HTTP+1, metrics = HTTP+2
declare -A PORT=([serval]=18000 [triton]=18010 [mlserver]=18020 [kserve]=18030 [torchserve]=18040 [rayserve]=18050)
# ---------------------------------------------------------------------------------------------------------------

BUILD=loadtest/target/peers
PEERS_SRC=loadtest/peers
PA=.venv/bin/perf_analyzer
PY=.venv/bin/python
JAR=server/target/serval-server.jar
LOAD_JAR=loadtest/target/serval-load.jar
export PEER_THREADS=$THREADS PEER_MAX_BATCH=$MAX_BATCH PEER_DELAY_US=$DELAY_US PEER_INSTANCES=$INSTANCES \
  PEER_MODEL_NAME=$MODEL_NAME

log() { echo "peers: $*" >&2; }

usage() { sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

installed() { [ -f "$BUILD/$1/.installed" ]; }

# ---- setup ----------------------------------------------------------------------------------------------------
setup_peer() { # PEER
  local peer=$1 dir=$BUILD/$1
  [ -f "$PEERS_SRC/$peer/requirements.txt" ] || { log "$peer: no $PEERS_SRC/$peer/requirements.txt"; return 1; }
  rm -f "$dir/.installed"
  mkdir -p "$dir"
  log "$peer: creating $dir/venv and installing $PEERS_SRC/$peer/requirements.txt (log: $dir/setup.log)"
  {
    python3 -m venv "$dir/venv" &&
      nice "$dir/venv/bin/pip" install --disable-pip-version-check -r "$PEERS_SRC/$peer/requirements.txt" &&
      if [ -f "$PEERS_SRC/$peer/setup.sh" ]; then bash "$PEERS_SRC/$peer/setup.sh" "$dir/venv" "$dir"; fi &&
      "$dir/venv/bin/pip" freeze --disable-pip-version-check > "$dir/freeze.txt"
  } > "$dir/setup.log" 2>&1 || { log "$peer: setup FAILED (see $dir/setup.log)"; tail -5 "$dir/setup.log" >&2; return 1; }
  touch "$dir/.installed"
  log "$peer: installed"
}

# ---- servers --------------------------------------------------------------------------------------------------
SERVER_PID=
start_server() { # NAME on|off LOG -> 0 when the model is ready
  local name=$1 batching=$2 logfile=$3 http=${PORT[$1]}
  if [ "$name" = serval ]; then
    local repo=$BUILD/serval/repo-$batching
    rm -rf "$repo" && mkdir -p "$repo/$MODEL_NAME/1"
    cp "$MODEL_ONNX" "$repo/$MODEL_NAME/1/"
    cp "$MODEL_DIR/labels.txt" "$repo/$MODEL_NAME/"
    sed -e '/^instances:/d' -e "s/^max_batch_size:.*/max_batch_size: $MAX_BATCH/" "$MODEL_DIR/config.yaml" \
      > "$repo/$MODEL_NAME/config.yaml"
    printf 'instances: %s\n' "$INSTANCES" >> "$repo/$MODEL_NAME/config.yaml"
    if [ "$batching" = on ]; then
      printf 'dynamic_batching:\n  max_queue_delay_microseconds: %s\n' "$DELAY_US" >> "$repo/$MODEL_NAME/config.yaml"
    fi
    setsid bin/serval --http_port="$http" --grpc_port=$((http + 1)) --metrics_port=$((http + 2)) \
      --management.port=$((http + 3)) --cpu_threads="$THREADS" --model_repositories="$repo" > "$logfile" 2>&1 &
  else
    setsid bash "$PEERS_SRC/$name/serve.sh" "$http" $((http + 1)) $((http + 2)) "$batching" "$MODEL_ONNX" \
      > "$logfile" 2>&1 &
  fi
  SERVER_PID=$!
  local waited=0
  while [ $waited -lt "${START_TIMEOUT:-180}" ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      log "$name: exited while starting (see $logfile)"; SERVER_PID=; return 1
    fi
    if curl -sf "http://127.0.0.1:$http/v2/health/ready" >/dev/null 2>&1 &&
       curl -sf "http://127.0.0.1:$http/v2/models/$MODEL_NAME/ready" >/dev/null 2>&1; then
      log "$name: ready after ${waited}s (batching $batching)"; return 0
    fi
    sleep 1; waited=$((waited + 1))
  done
  log "$name: not ready after ${waited}s (see $logfile)"; stop_server; return 1
}

stop_server() { # the server's whole process group (it was started with setsid)
  [ -n "$SERVER_PID" ] || return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null
  for _ in $(seq 30); do
    kill -0 -- "-$SERVER_PID" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null
  wait "$SERVER_PID" 2>/dev/null
  SERVER_PID=
}
trap 'stop_server' EXIT
trap 'exit 130' INT TERM

# ---- measuring ------------------------------------------------------------------------------------------------
perf() { # NAME on|off CONCURRENCY SECONDS -> OUT/NAME-BATCHING-cC.csv (+ .txt)
  local name=$1 batching=$2 c=$3 secs=$4 port=$((${PORT[$1]} + 1))
  [ "$PROTOCOL" = http ] && port=${PORT[$1]}
  local csv=$OUT/$name-$batching-c$c.csv
  local args=(-m "$MODEL_NAME" -u "127.0.0.1:$port" -i "$PROTOCOL" -b 1 --concurrency-range "$c:$c"
    --input-data "$INPUT_JSON" --measurement-interval $((secs * 1000)) -f "$csv")
  rm -f "$csv" "${csv%.csv}.unstable"
  if ! "$PA" "${args[@]}" --stability-percentage 25 > "${csv%.csv}.txt" 2>&1; then
    # Not stable within 25% over 10 windows (on a shared 2-core machine): measure once more accepting any
    # three windows, and mark the point as unstable in the table.
    if grep -q 'stable measurement' "${csv%.csv}.txt" &&
       "$PA" "${args[@]}" --stability-percentage 1000 > "${csv%.csv}.retry.txt" 2>&1; then
      touch "${csv%.csv}.unstable"
      log "$name batching $batching c=$c: unstable within 25%, measured again without the stability bound"
    else
      log "$name batching $batching c=$c: perf_analyzer failed (see ${csv%.csv}.txt)"; rm -f "$csv"; return 1
    fi
  fi
  log "$name batching $batching c=$c: $(cat "${csv%.csv}.txt" "${csv%.csv}.retry.txt" 2>/dev/null | grep 'Throughput:' | tail -1 | sed 's/^ *//')"
}

snapshot() { # NAME on|off: what the server says about itself and its model, and its statistics
  local name=$1 batching=$2 http=${PORT[$1]}
  curl -s "http://127.0.0.1:$http/v2" > "$OUT/$name-$batching-server.json" 2>/dev/null
  curl -s "http://127.0.0.1:$http/v2/models/$MODEL_NAME/config" > "$OUT/$name-$batching-config.json" 2>/dev/null
  curl -s "http://127.0.0.1:$http/v2/models/$MODEL_NAME/stats" > "$OUT/$name-$batching-stats.json" 2>/dev/null
}

# Serval's own load tool (loadtest/target/serval-load.jar, built by mvn install), on the same input.
serval_load() { # NAME on|off
  local name=$1 batching=$2 url
  [ -f "$LOAD_JAR" ] || return 0
  url=grpc://127.0.0.1:$((${PORT[$1]} + 1))
  [ "$PROTOCOL" = http ] && url=http://127.0.0.1:${PORT[$1]}
  java -jar "$LOAD_JAR" --url "$url" --model "$MODEL_NAME" --concurrency "${CONCURRENCY// /,}" \
    --input-data "$INPUT_JSON" --duration "${SECONDS_PER_POINT}s" --warmup 3s --label "$name batching $batching" \
    --out "$OUT/serval-load/$name-$batching" > "$OUT/serval-load-$name-$batching.log" 2>&1 \
    || log "$name batching $batching: serval-load failed (see $OUT/serval-load-$name-$batching.log)"
}

versions() {
  {
    echo "date: $(date -u +%FT%TZ)"
    echo "host: $(nproc) cores, $(uname -sr)"
    echo "serval: $(git describe --always --dirty 2>/dev/null), onnxruntime (Java) $(sed -n 's:.*<onnxruntime.version>\(.*\)</onnxruntime.version>.*:\1:p' pom.xml), $(java -version 2>&1 | head -1)"
    echo "perf_analyzer: $("$PA" --version 2>&1 | head -1)"
    echo "settings: threads=$THREADS (intra-op; inter-op 1, sequential), max_batch_size=$MAX_BATCH, max_queue_delay_us=$DELAY_US, instances=$INSTANCES, protocol=$PROTOCOL, measurement interval ${SECONDS_PER_POINT}s, stability 25%, batch-1 requests of one fixed input (uniform [-1,1), seed 0)"
    for peer in "$@"; do
      [ "$peer" = serval ] && continue
      echo "$peer: $(grep -iE '^(nvidia-pytriton|mlserver|kserve|torchserve|torch|ray|onnxruntime|numpy|uvloop|fastapi|grpcio)==' "$BUILD/$peer/freeze.txt" 2>/dev/null | tr '\n' ' ')"
    done
  } > "$OUT/versions.txt"
}

table() { # SERVER... : markdown from the CSVs in OUT
  "$PY" - "$OUT" "$CONCURRENCY" "$BATCHING" "$@" <<'PY'
import csv, json, pathlib, sys
out, concurrency, batching, servers = pathlib.Path(sys.argv[1]), sys.argv[2].split(), sys.argv[3].split(), sys.argv[4:]
unstable = False
print("| server | batching | concurrency | infer/s | p50 us | p99 us |")
print("|---|---|---|---|---|---|")
for b in batching:
    for s in servers:
        for c in concurrency:
            f = out / f"{s}-{b}-c{c}.csv"
            if not f.exists():
                if (out / f"{s}-{b}.log").exists() or (out / f"{s}-{b}-c{c}.txt").exists():
                    print(f"| {s} | {b} | {c} | failed | | |")
                continue
            r = next(csv.DictReader(open(f)))
            mark = "*" if (out / f"{s}-{b}-c{c}.unstable").exists() else ""
            unstable = unstable or bool(mark)
            print(f"| {s} | {b} | {c} | {float(r['Inferences/Second']):.0f}{mark} | {float(r['p50 latency']):.0f} |"
                  f" {float(r['p99 latency']):.0f} |")
if unstable:
    print("\n\\* not stable within 25% over 10 windows; measured again without the stability bound", end="")
for s in servers:
    for b in batching:
        try:
            st = json.load(open(out / f"{s}-{b}-stats.json"))["model_stats"][0]
            sizes = {x["batch_size"]: x["compute_infer"]["count"] for x in st.get("batch_stats", [])}
            if b == "on" and sizes:
                print(f"\n{s} batching on: executions by batch size {dict(sorted(sizes.items()))}", end="")
        except Exception:
            pass
print()
PY
}

measure_server() { # NAME on|off CONCURRENCIES SECONDS
  local name=$1 batching=$2 c
  start_server "$name" "$batching" "$OUT/$name-$batching.log" || return 1
  for c in $3; do perf "$name" "$batching" "$c" "$4"; done
  snapshot "$name" "$batching"
  [ "$MODE" = run ] && serval_load "$name" "$batching"
  stop_server
}

preflight() {
  [ -f "$JAR" ] || { log "$JAR missing: build it first (mvn -DskipTests install)"; exit 1; }
  [ -x "$PA" ] || { log "$PA missing: run bash server/src/test/python/setup_env.sh .venv"; exit 1; }
  # One fixed input for every request to every server: uniform [-1, 1) like a normalised text-line image.
  # (perf_analyzer's default random bytes include NaNs and denormals, which MLServer cannot encode back and
  # which can change the engine's speed.)
  INPUT_JSON=$BUILD/input.json
  mkdir -p "$BUILD"
  [ -f "$INPUT_JSON" ] || "$PY" - "$INPUT_JSON" <<'PY'
import json, sys
import numpy as np
x = np.random.default_rng(0).uniform(-1, 1, size=(3, 48, 192)).astype(np.float32)
json.dump({"data": [{"x": {"content": [round(float(v), 6) for v in x.ravel()], "shape": [3, 48, 192]}}]},
          open(sys.argv[1], "w"))
PY
}

pick_peers() { # PEER... -> PEERS (only installed ones; default all installed)
  PEERS=()
  local p
  for p in ${*:-$ALL_PEERS}; do
    [ -n "${PORT[$p]:-}" ] && [ "$p" != serval ] || { log "unknown peer '$p' (peers: $ALL_PEERS)"; exit 2; }
    if installed "$p"; then PEERS+=("$p"); else log "$p: not installed (loadtest/peers.sh setup $p); skipped"; fi
  done
}

MODE=${1:-}
[ -n "$MODE" ] || usage
shift
case "$MODE" in
  setup)
    failed=0
    for p in ${*:-$ALL_PEERS}; do
      [ -d "$PEERS_SRC/$p" ] || { log "unknown peer '$p' (peers: $ALL_PEERS)"; failed=1; continue; }
      setup_peer "$p" || failed=1
    done
    exit $failed
    ;;
  run)
    while [ $# -gt 0 ]; do
      case "$1" in
        --seconds) SECONDS_PER_POINT=$2; shift 2 ;;
        --protocol) PROTOCOL=$2; shift 2 ;;
        -*) usage ;;
        *) break ;;
      esac
    done
    preflight
    pick_peers "$@"
    OUT=${OUT:-loadtest/reports/raw/$(date +%F)-peers}
    mkdir -p "$OUT"
    SERVERS=(serval "${PEERS[@]}")
    log "measuring ${SERVERS[*]} -> $OUT"
    versions "${SERVERS[@]}"
    [ -f "$LOAD_JAR" ] || log "$LOAD_JAR not built: skipping Serval's own load tool (mvn install builds it)"
    for b in $BATCHING; do
      for s in "${SERVERS[@]}"; do measure_server "$s" "$b" "$CONCURRENCY" "$SECONDS_PER_POINT"; done
    done
    { table "${SERVERS[@]}"; echo; echo '```'; cat "$OUT/versions.txt"; echo '```'; } | tee "$OUT/summary.md"
    if compgen -G "$OUT/serval-load/*/results.json" >/dev/null; then
      java -jar "$LOAD_JAR" chart --out "$OUT/serval-load" "$OUT"/serval-load/*/results.json
    fi
    ;;
  rounds)
    ROUNDS=3
    while [ $# -gt 0 ]; do
      case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --seconds) SECONDS_PER_POINT=$2; shift 2 ;;
        -*) usage ;;
        *) break ;;
      esac
    done
    preflight
    pick_peers "$@"
    OUT=${OUT:-loadtest/reports/raw/$(date +%F)-peers-rounds}
    mkdir -p "$OUT"
    SERVERS=(serval "${PEERS[@]}")
    versions "${SERVERS[@]}"
    for r in $(seq "$ROUNDS"); do
      for s in "${SERVERS[@]}"; do
        start_server "$s" on "$OUT/$s-on-r$r.log" || continue
        for c in 1 16; do
          perf "$s" on "$c" "$SECONDS_PER_POINT" && mv "$OUT/$s-on-c$c.csv" "$OUT/$s-r$r-c$c.csv"
        done
        stop_server
      done
    done
    "$PY" - "$OUT" "$ROUNDS" "${SERVERS[@]}" <<'PY' | tee "$OUT/summary.md"
import csv, pathlib, statistics, sys
out, rounds, servers = pathlib.Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
print("| server | concurrency | rounds | infer/s median (min-max) | p50 us median | p99 us median (min-max) |")
print("|---|---|---|---|---|---|")
for c in (1, 16):
    for s in servers:
        rows = [next(csv.DictReader(open(f))) for f in sorted(out.glob(f"{s}-r*-c{c}.csv"))]
        if not rows:
            print(f"| {s} | {c} | 0 | failed | | |"); continue
        tp = [float(r["Inferences/Second"]) for r in rows]
        p50 = [float(r["p50 latency"]) for r in rows]
        p99 = [float(r["p99 latency"]) for r in rows]
        print(f"| {s} | {c} | {len(rows)} | {statistics.median(tp):.0f} ({min(tp):.0f}-{max(tp):.0f}) |"
              f" {statistics.median(p50):.0f} | {statistics.median(p99):.0f} ({min(p99):.0f}-{max(p99):.0f}) |")
PY
    ;;
  smoke)
    preflight
    pick_peers "$@"
    OUT=${OUT:-loadtest/reports/raw/$(date +%F)-peers-smoke}
    mkdir -p "$OUT"
    SERVERS=(serval "${PEERS[@]}")
    CONCURRENCY=1 BATCHING=on SECONDS_PER_POINT=2
    versions "${SERVERS[@]}"
    failed=()
    for s in "${SERVERS[@]}"; do
      measure_server "$s" on 1 "$SECONDS_PER_POINT" && [ -f "$OUT/$s-on-c1.csv" ] || failed+=("$s")
    done
    { table "${SERVERS[@]}"; echo; echo '```'; cat "$OUT/versions.txt"; echo '```'; } | tee "$OUT/summary.md"
    if [ ${#failed[@]} -gt 0 ]; then log "smoke FAILED: ${failed[*]}"; exit 1; fi
    log "smoke passed: ${SERVERS[*]}"
    ;;
  *) usage ;;
esac
