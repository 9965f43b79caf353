#!/usr/bin/env bash
# The query API under load (issue 5); see docs/PERFORMANCE.md.
#
#   bash bench/query-load.sh [SERIES [DAYS [DURATION_SECONDS [CONNECTIONS]]]]   (defaults 100 7 30 32)
#
# Installs wrk from Debian when missing, installs the project into ~/.m2 (tests skipped), builds the bench
# module, starts io.tailprobe.bench.QueryLoad (an in-process broker whose histogram topics it fills once
# with DAYS days of 10 s, 1 min and 1 h windows of SERIES series, kept in bench/target/query-load/ for the
# next run, and the real query API over them), then runs wrk with CONNECTIONS connections on 2 threads:
# a 7-day percentile query and a latest-window query, DURATION_SECONDS each after 10 s of warm-up.
# Other engineers share this machine: run it as  flock /tmp/tailprobe-bench.lock bash bench/query-load.sh
set -euo pipefail
SERIES=${1:-100}
DAYS=${2:-7}
DURATION=${3:-30}
CONNECTIONS=${4:-32}
PORT=${PORT:-18080}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAVA=${JAVA:-$(ls -d /usr/lib/jvm/*/bin/java | while read -r j; do v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p'); [[ ${v:-0} -ge 21 ]] && echo "$j"; done | tail -1)}
DATA="$ROOT/bench/target/query-load"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
cd "$ROOT"
if [[ ${SKIP_BUILD:-} != 1 ]]; then
  mvn -B -q -DskipTests install
  rm -rf bench/target/dependency
  mvn -B -q -f bench/pom.xml package dependency:copy-dependencies -DincludeScope=runtime
fi
mkdir -p "$DATA"
LOG="$DATA/server.log"
# JFR=1 records a profile of the server to bench/target/query-load/query-api.jfr; QUERIES=latest runs one query only
JFR_FLAGS=()
[[ ${JFR:-} == 1 ]] && JFR_FLAGS=(-XX:StartFlightRecording=filename="$DATA/query-api.jfr",settings=profile)
"$JAVA" -Xmx2g --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn "${JFR_FLAGS[@]}" \
    -cp "bench/target/tailprobe-bench-0.1.0-SNAPSHOT.jar:bench/target/dependency/*" \
    io.tailprobe.bench.QueryLoad "$DATA" "$SERIES" "$DAYS" "$PORT" > "$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
until grep -q '^READY ' "$LOG"; do
  kill -0 $SERVER 2>/dev/null || { cat "$LOG"; echo "query-load: the server stopped" >&2; exit 1; }
  sleep 2
done
grep -v '^  series-' "$LOG"
END_MILLIS=$(sed -n 's/^READY END_MILLIS=//p' "$LOG")
export SERIES END_MILLIS
URL="http://localhost:$PORT"
echo "one 7-day answer: $(curl -s "$URL/api/v1/percentiles?target=series-042&probe=tcp&from=$((END_MILLIS - DAYS * 86400000))&to=$END_MILLIS" | cut -c1-400)"
# the server's CPU time (user + system, in clock ticks), which other load on the machine disturbs less than latency
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
TICKS_PER_SECOND=$(getconf CLK_TCK)
for QUERY in ${QUERIES:-week latest}; do
  export QUERY
  wrk -t2 -c"$CONNECTIONS" -d10s --timeout 30s -s bench/query-load.lua "$URL" > /dev/null   # warm-up: JIT, caches
  BEFORE=$(cpu_ticks)
  RESULT=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s -s bench/query-load.lua "$URL" | grep "^RESULT")
  AFTER=$(cpu_ticks)
  REQUESTS=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$RESULT")
  echo "$RESULT server_cpu_ms_per_request=$(awk -v t=$((AFTER - BEFORE)) -v r="$REQUESTS" -v hz="$TICKS_PER_SECOND" \
      'BEGIN { printf "%.3f", (r>0 ? t * 1000 / hz / r : 0 )}') load_average=\"$(cut -d' ' -f1-3 /proc/loadavg)\""
done
