#!/usr/bin/env bash
# Fuzz soak (not part of the test run): the malformed-request generator of the server's fuzz tests
# (server/src/test/java/io/serval/server/fuzz/) for many more cases against one server, with a report.
#
#   loadtest/fuzz-soak.sh [CASES]      default 100000 (about 4 minutes of fuzzing on 2 cores, plus the build)
#
# Environment: SEED (default: the clock; the report names it, and FuzzReplay replays any case from it),
# THREADS (requests in flight, default 4), OUT (the report, default loadtest/reports/<date>-fuzz-soak.md),
# MVN (the Maven command, default mvn). The server's own log goes to server/target/fuzz-soak.log.
# Exit status 1 when any answer was a server error (5xx, gRPC INTERNAL/UNKNOWN) or a hang, or when valid
# requests were no longer answered exactly afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-100000}
SEED=${SEED:-$(date +%s)}
THREADS=${THREADS:-4}
OUT=${OUT:-loadtest/reports/$(date +%F)-fuzz-soak.md}
MVN=${MVN:-mvn}
LOG=server/target/fuzz-soak.log

$MVN -B -q -pl server -am install -DskipTests
$MVN -B -q -pl server dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/fuzz-soak-classpath.txt

# The soak runs from a copy of the classes, so that a rebuild in the working tree cannot pull them away.
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
cp -r server/target/classes "$STAGE/classes"
cp -r server/target/test-classes "$STAGE/test-classes"
cp server/target/fuzz-soak-classpath.txt "$STAGE/classpath.txt"

echo "fuzz soak: $CASES cases, seed $SEED, $THREADS threads; server log in $LOG" >&2
status=0
java -Xmx2g -Dserval.fuzz.seed="$SEED" -Dserval.fuzz.threads="$THREADS" \
  -cp "$STAGE/test-classes:$STAGE/classes:$(cat "$STAGE/classpath.txt")" \
  io.serval.server.fuzz.FuzzSoak "$CASES" "$OUT" > "$LOG" || status=$?
echo "report: $OUT" >&2
exit $status
