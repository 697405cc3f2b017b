#!/usr/bin/env bash
# The pipelines' JMH benchmarks (not part of the test run; module benchmarks/), and the same pre-processing in
# Python measured in the same run:
#   - the executor's overhead per node and per pipeline: chains of 1, 4 and 12 trivial nodes and a fan-out of 8
#     joined, 1 and 16 callers (ExecutorOverheadBenchmark), beside one bare hop to the node threads
#     (ExecutorHopBenchmark);
#   - decode + resize + center crop + normalise of a 640x480 JPEG, whole and step by step, 1 and 2 callers
#     (PreprocessingBenchmark), against Pillow + NumPy in 1 and 2 processes (benchmarks/python/preprocess_bench.py).
# Java and Python pre-processing run back to back in each round, in alternating order, so both see the same
# machine; ROUNDS rounds.
#
#   loadtest/pipeline-bench.sh [ROUNDS]       default: 2 rounds (about 10 minutes on 2 cores)
#
# Builds serval-benchmarks offline (mvn -o) when its jar is missing or older than its sources; run nothing else
# meanwhile, builds included. JMH settings are the benchmarks' own (1 fork, 5 measured iterations of 1 s after 10
# warm-up ones for the executor, 3 for pre-processing); JMH_OPTS adds to or overrides them.
# Output: loadtest/reports/raw/<date>-pipeline-bench/ (override with OUT=...): JMH's text and JSON, the Python
# CSVs, machine.txt, load.txt (the busiest processes as each phase starts), and summary.md, the tables (also
# printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-2}
OUT=${OUT:-loadtest/reports/raw/$(date +%F)-pipeline-bench}
JMH_OPTS=${JMH_OPTS:-}
PY=.venv/bin/python
JAR=benchmarks/target/benchmarks.jar
CP="$JAR:benchmarks/target/lib/*"
mkdir -p "$OUT"

if [ ! -f "$JAR" ] || [ -n "$(find benchmarks/pom.xml benchmarks/src benchmarks/data -newer "$JAR" -type f)" ]; then
  mvn -B -o -q -pl benchmarks -am package -DskipTests
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD);" \
    "$(git status --short -- core dag benchmarks | wc -l) changed or new paths in core, dag, benchmarks"
  echo "nproc: $(nproc)"
  lscpu | grep -E '^(Model name|Thread\(s\) per core|Core\(s\) per socket|CPU MHz|L2 cache|L3 cache):' || true
  java -version 2>&1 | head -2
  echo "the JDK's JPEG reader links: $(ldd "$(dirname "$(readlink -f "$(command -v java)")")/../lib/libjavajpeg.so" \
    | grep -o 'libjpeg[^ ]*' | head -1 || echo 'none: its bundled libjpeg')"
  "$PY" -c 'import sys, numpy, PIL; from PIL import features
print("python", sys.version.split()[0], "numpy", numpy.__version__, "pillow", PIL.__version__,
      "libjpeg-turbo", features.version("libjpeg_turbo"))'
  echo "image: benchmarks/data/photo-640x480.jpg, $(wc -c < benchmarks/data/photo-640x480.jpg) bytes"
  echo "JMH_OPTS: ${JMH_OPTS:-(none)}"
} > "$OUT/machine.txt"

jmh() { # NAME PATTERN
  # shellcheck disable=SC2086 # JMH_OPTS is a list of options
  java -cp "$CP" org.openjdk.jmh.Main $JMH_OPTS -foe true -rf json -rff "$OUT/$1.json" "$2" > "$OUT/$1.txt" 2>&1 \
    || { tail -20 "$OUT/$1.txt" >&2; exit 1; }
}
python_side() { # NAME
  "$PY" benchmarks/python/preprocess_bench.py --seconds 3 --warmup 1 > "$OUT/$1.csv"
}

phase() { # TEXT: says what starts, and notes what else keeps the machine busy (the benchmarks need it to themselves)
  echo "$1" >&2
  { echo "$1, $(date -u +%T): $(uptime | sed 's/.*load/load/')"; ps -eo pcpu,etime,comm --sort=-pcpu | head -4; } \
    >> "$OUT/load.txt"
}

for round in $(seq "$ROUNDS"); do
  phase "round $round of $ROUNDS: pre-processing"
  if [ $((round % 2)) = 1 ]; then
    jmh "preprocessing-round$round" 'io.serval.benchmarks.PreprocessingBenchmark'
    python_side "python-round$round"
  else
    python_side "python-round$round"
    jmh "preprocessing-round$round" 'io.serval.benchmarks.PreprocessingBenchmark'
  fi
  phase "round $round of $ROUNDS: executor"
  jmh "executor-round$round" 'io.serval.benchmarks.Executor(Overhead|Hop)Benchmark'
done

"$PY" benchmarks/python/summarize.py "$OUT" > "$OUT/summary.md"
# No paths of this machine in what is kept.
sed -i "s#$PWD/##g" "$OUT"/*
cat "$OUT/summary.md"
