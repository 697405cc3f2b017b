#!/usr/bin/env bash
# Serval's built-in `ocr` pipeline against RapidOCR (not part of the test run): the same PP-OCRv4 ONNX models
# (models/ocr_det, ocr_orientation, ocr_rec and the dictionary) on ONNX Runtime, in Java behind Serval's HTTP API
# and in Python in RapidOCR (rapidocr-onnxruntime, set up with PaddleOCR's defaults and the pipeline's stages:
# det -> cls -> rec; loadtest/peers/rapidocr/ocr_compare.py, RAPIDOCR_CONFIG), on the same rendered images in one
# run:
#   - accuracy: 40 images rendered with Pillow (seeded; single lines, pages of 3-6 lines and 800x600 pages of 8-10
#     lines; Latin words, digits, Chinese; DejaVu Sans/Serif/Mono and WenQuanYi Micro Hei, 20-40 px; 13 lines
#     upside down), each read once by each: the character error rate of each against the ground truth, counting
#     spaces and without them, and the agreement of the two (identical line lists; Serval's CER with RapidOCR's
#     text as the reference);
#   - throughput: images/s and p50/p99 latency over whole passes of the images, ROUNDS rounds alternating which
#     system goes first: RapidOCR in one process (ONNX Runtime's own threads, all cores) and in 2 processes of one
#     thread each, Serval at 1, 2 and 4 concurrent HTTP uploads (multipart, field `image`, kept-alive
#     connections), each after WARMUP seconds of the same loop.
#
#   loadtest/ocr-vs-rapidocr.sh [ROUNDS] [SECONDS]   default: 2 rounds (or ROUNDS=N), at least 30 s per
#                                                    measurement (which ends with the pass over the images
#                                                    under way then); about 10 minutes on 2 cores
#
# Environment: WARMUP (seconds, default 5); SERVAL_ARGS, more arguments for the server (e.g. --cpu_threads=2;
# default: none, Serval's defaults); SERVAL, the command that starts the server (default bin/serval).
# Needs the built jars (mvn -B -q -DskipTests install; this script runs no Maven) and the fonts (Debian packages
# fonts-dejavu-core, fonts-wqy-microhei). RapidOCR's venv is loadtest/target/peers/rapidocr/venv, made by
# `loadtest/peers.sh setup rapidocr` from loadtest/peers/rapidocr/requirements.txt when missing or older than it.
# Run nothing else meanwhile: cpu.jsonl records the CPU of other processes every 2 s, and summary.md gives their
# share during each measurement (and says when the machine was busy).
# Output: loadtest/reports/raw/<date>-ocr-vs-rapidocr/ (override with OUT=...): the images and index.json (their
# ground truth), accuracy.json (every answer), disagreements.md, throughput/*.json, machine.txt, cpu.jsonl,
# server.log, and summary.md, the accuracy and throughput tables (also printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-${ROUNDS:-2}}
RUN_SECONDS=${2:-30}
WARMUP=${WARMUP:-5}
SERVAL=${SERVAL:-bin/serval}
SERVAL_ARGS=${SERVAL_ARGS:-}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-ocr-vs-rapidocr}
PEER=loadtest/target/peers/rapidocr
PY=$PEER/venv/bin/python
COMPARE=loadtest/peers/rapidocr/ocr_compare.py
HTTP_PORT=18600
URL=http://127.0.0.1:$HTTP_PORT/v1/pipelines/ocr
JAR=server/target/serval-server.jar

log() { echo "ocr-vs-rapidocr: $*" >&2; }

if [ "$SERVAL" = bin/serval ]; then
  [ -f "$JAR" ] || { log "$JAR is missing: run mvn -B -q -DskipTests install first"; exit 1; }
  stale=$(find core/src/main dag/src/main engine-*/src/main server/src/main -newer "$JAR" -type f 2>/dev/null | wc -l)
  [ "$stale" -eq 0 ] ||
    log "warning: $stale source files are newer than $JAR (mvn -B -q -DskipTests install rebuilds it)"
fi
for font in /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/wqy/wqy-microhei.ttc; do
  [ -f "$font" ] || { log "$font is missing (apt-get install fonts-dejavu-core fonts-wqy-microhei)"; exit 1; }
done
if [ ! -f "$PEER/.installed" ] || [ loadtest/peers/rapidocr/requirements.txt -nt "$PEER/.installed" ]; then
  loadtest/peers.sh setup rapidocr
fi

mkdir -p "$OUT"
rm -rf "$OUT/throughput" "$OUT/cpu.jsonl"
"$PY" "$COMPARE" render "$OUT"

# ---- the server -------------------------------------------------------------------------------------------------
# shellcheck disable=SC2086 # SERVAL and SERVAL_ARGS are lists of words
$SERVAL --http_port=$HTTP_PORT --grpc_port=$((HTTP_PORT + 1)) --metrics_port=$((HTTP_PORT + 2)) \
  --management.port=$((HTTP_PORT + 3)) $SERVAL_ARGS > "$OUT/server.log" 2>&1 &
SERVER=$!
SAMPLER=
trap 'kill "$SERVER" $SAMPLER 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
waited=0
until curl -sf "localhost:$HTTP_PORT/v2/health/ready" >/dev/null; do
  kill -0 "$SERVER" 2>/dev/null || { log "the server exited while starting:"; tail -5 "$OUT/server.log" >&2; exit 1; }
  [ $waited -lt 600 ] || { log "the server is not ready after 120 s (see $OUT/server.log)"; exit 1; }
  sleep 0.2; waited=$((waited + 1))
done
# The pipeline itself (a server built before models/ocr/pipeline.yaml's last change may refuse it).
if ! answer=$(curl -s -w '\n%{http_code}' -F image=@models/ocr/golden/page.png "$URL") ||
   [ "$(tail -1 <<<"$answer")" != 200 ]; then
  log "the ocr pipeline does not answer (run mvn -B -q -DskipTests install first if the jars are older than"
  log "models/ocr/pipeline.yaml): $(head -c 400 <<<"$answer")"
  exit 1
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD); $(git status --short | wc -l) changed or new paths in the work tree"
  echo "nproc: $(nproc)"
  lscpu | grep -E '^(Model name|Thread\(s\) per core|Core\(s\) per socket|CPU MHz|L2 cache|L3 cache):' || true
  java -version 2>&1 | head -2
  echo "serval: $SERVAL --http_port=$HTTP_PORT ... $SERVAL_ARGS; onnxruntime (Java)" \
    "$(sed -n 's:.*<onnxruntime.version>\(.*\)</onnxruntime.version>.*:\1:p' pom.xml)"
  grep -o 'engine onnxruntime: .*' "$OUT/server.log" | head -1 || true
  "$PY" "$COMPARE" versions
  echo "settings: rounds $ROUNDS, at least $RUN_SECONDS s per measurement (whole passes), warm-up $WARMUP s"
} > "$OUT/machine.txt"

# What else runs: this run's CPU (its process group: this script, the server, the Python workers) and the rest's,
# every 2 s, into cpu.jsonl; summary.md gives the others' share during each measurement.
"$PY" "$COMPARE" cpu-sampler "$OUT" "$(ps -o pgid= $$ | tr -d ' ')" &
SAMPLER=$!

# ---- accuracy ---------------------------------------------------------------------------------------------------
"$PY" "$COMPARE" accuracy "$OUT" "$URL"

# ---- throughput -------------------------------------------------------------------------------------------------
rapidocr() { # ROUND
  for p in 1 2; do
    "$PY" "$COMPARE" rapidocr-bench "$OUT" "rapidocr-p$p-r$1" "$p" "$RUN_SECONDS" "$WARMUP"
  done
}
serval() { # ROUND
  for c in 1 2 4; do
    "$PY" "$COMPARE" serval-bench "$OUT" "serval-c$c-r$1" "$URL" "$c" "$RUN_SECONDS" "$WARMUP"
  done
}
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then rapidocr "$round"; serval "$round"; else serval "$round"; rapidocr "$round"; fi
done

"$PY" "$COMPARE" summary "$OUT"
sed -i "s#$PWD/##g" "$OUT"/*.log "$OUT"/*.txt "$OUT"/*.md "$OUT"/*.json 2>/dev/null || true
cat "$OUT/summary.md"
