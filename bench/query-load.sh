#!/usr/bin/env bash
# The query API under load (issue 5); see docs/PERFORMANCE.md.
#
#   bash bench/query-load.sh [SERIES [DAYS [DURATION_SECONDS [CONNECTIONS]]]]   (defaults 100 7 30 32)
#
# Installs wrk from Debian when missing, builds the bench module in the reactor (root pom profile "bench";
# nothing is installed into ~/.m2), starts io.tailprobe.bench.QueryLoad (an in-process broker whose
# histogram topics it fills once with DAYS days of SERIES series' 10 s windows and their 1 min, 10 min
# and 1 h rollups, kept in bench/target/query-load/ for the next run, the real query API over them, and a hello-world Javalin app
# as the floor), waits for the machine to be idle, then runs wrk with CONNECTIONS connections on 2
# threads: a 7-day percentile query, a latest-window query and the hello-world route, DURATION_SECONDS
# each after 10 s of warm-up, printing wrk's figures, the server's and wrk's CPU time per request and the
# load average.
#
#   CODE="before after"  runs the whole thing once per version of the query API: "after" is this tree,
#                        "before" the query-api jar of the git revision BASE (default main), built from
#                        `git archive` in bench/target/base/ (its module only; the rest is this tree's)
#   PORT=18180           the API's port (PORT+1 the hello-world app); a port in use is refused
#   QUERIES="week latest hello"  IDLE_LOAD=1.0 IDLE_WAIT_SECONDS=300
#   JFR=1                a profile of the server per code version and query, of the measured seconds only
#   MOVING=1             adds the query "moving" after "week": the same 7-day query, each request's range
#                        ending at its own `to`, a random 10 s step within the last MOVING_SPAN_SECONDS
#                        (86400) of the data before the end, so no two requests ask the same range
#   LIVE=1               adds the query "live": a 7-day range ending "now" while the server writes each
#                        series' next 10 s windows (and the 1 min and 1 h rollups as they close) at
#                        LIVE_SPEED simulated seconds per second (1: the real rate, 100 windows per 10 s),
#                        from 10 s before warm-up to the end of the measurement; the data keeps them;
#                        "live@N" in QUERIES is the same at N simulated seconds per second
#   BEFORE_QUERIES=...   the queries of code "before", when they are to differ from QUERIES
#   DATA=dir             where the loaded windows and the query API's state live (bench/target/query-load)
#   ROLLUPS=60,3600      the rollups (seconds) to load into a new DATA folder; default the aggregator's
#                        (1 min, 10 min, 1 h). A folder loaded before keeps the rollups it has
#   GCS="g1 zgc"         runs everything once per garbage collector of the server (default g1, the JVM's
#                        and the query API's own), each with -Xmx2g; g1xms is G1 with the whole heap
#                        committed from the start (-Xms2g)
#
# Other engineers share this machine: run it as  flock /tmp/tailprobe-bench.lock bash bench/query-load.sh
set -euo pipefail
SERIES=${1:-100}
DAYS=${2:-7}
DURATION=${3:-30}
CONNECTIONS=${4:-32}
PORT=${PORT:-18180}
CODE=${CODE:-after}
BASE=${BASE:-main}
IDLE_LOAD=${IDLE_LOAD:-1.0}
IDLE_WAIT_SECONDS=${IDLE_WAIT_SECONDS:-300}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
QUERIES=${QUERIES:-week latest hello}
if [[ ${MOVING:-} == 1 && " $QUERIES " != *" moving "* ]]; then
  QUERIES=$(sed 's/\bweek\b/week moving/' <<< "$QUERIES"); [[ " $QUERIES " == *" moving "* ]] || QUERIES="$QUERIES moving"
fi
[[ ${LIVE:-} == 1 && " $QUERIES " != *" live "* ]] && QUERIES=$(sed 's/\bmoving\b/moving live/' <<< "$QUERIES")
[[ ${LIVE:-} == 1 && " $QUERIES " != *" live "* ]] && QUERIES="$QUERIES live"
DEFAULT_LIVE_SPEED=${LIVE_SPEED:-1}
BEFORE_QUERIES=${BEFORE_QUERIES:-$QUERIES}
JAVA=${JAVA:-$(ls -d /usr/lib/jvm/*/bin/java | while read -r j; do v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p'); [[ ${v:-0} -ge 21 ]] && echo "$j"; done | tail -1)}
DATA=${DATA:-$ROOT/bench/target/query-load}
JCMD=$(dirname "$JAVA")/jcmd
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$PORT" $((PORT + 1)); do
  if port_busy "$p"; then
    echo "query-load: port $p is in use (another benchmark or service?); choose another with PORT=" >&2
    exit 1
  fi
done
cd "$ROOT"
if [[ ${SKIP_BUILD:-} != 1 ]]; then
  mvn -B -q -Pbench -pl bench -am -DskipTests package
  if [[ " $CODE " == *" before "* ]]; then
    rm -rf bench/target/base && mkdir -p bench/target/base
    git archive "$BASE" | tar -x -C bench/target/base
    git rev-parse --short "$BASE" > bench/target/base/REVISION
    (cd bench/target/base && mvn -B -q -pl query-api -am -DskipTests package)
  fi
fi
mkdir -p "$DATA"
LOG="$DATA/server.log"
API_JAR=tailprobe-query-api-0.1.0-SNAPSHOT.jar
TICKS_PER_SECOND=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
per_request() { awk -v t="$1" -v r="$2" -v hz="$TICKS_PER_SECOND" 'BEGIN { printf "%.3f", (r > 0 ? t * 1000 / hz / r : 0) }'; }
# waits until the 1-minute load average is under IDLE_LOAD (others' test runs finished), at most IDLE_WAIT_SECONDS
wait_idle() {
  local waited=0
  while awk -v max="$IDLE_LOAD" '{ exit !($1 >= max) }' /proc/loadavg && ((waited < IDLE_WAIT_SECONDS)); do
    sleep 5; waited=$((waited + 5))
  done
  echo "load average before measuring: $(cut -d' ' -f1-3 /proc/loadavg) (waited ${waited} s for < $IDLE_LOAD)"
}
# the query API's cache of run sums (its /metrics; the API of code "before" may have none): hits misses kept evicted bytes
cache_figures() {
  curl -s "http://localhost:$PORT/metrics" | awk '
    /^tailprobe_query_run_cache_requests_total\{result="hit"\}/ { h = $2 }
    /^tailprobe_query_run_cache_requests_total\{result="miss"\}/ { m = $2 }
    /^tailprobe_query_run_cache_kept_total/ { k = $2 } /^tailprobe_query_run_cache_evicted_total/ { e = $2 }
    /^tailprobe_query_run_cache_bytes/ { b = $2 }
    END { printf "%d %d %d %d %d\n", h, m, k, e, b }'
}
# what the cache did over the measured seconds: its hit ratio, sums kept and pushed out, and what it held at the end
cache_delta() {
  awk -v before="$1" -v after="$2" 'BEGIN {
    split(before, b, " "); split(after, a, " "); asked = (a[1] - b[1]) + (a[2] - b[2])
    printf "cache_hit_ratio=%.3f cache_kept=%d cache_evicted=%d cache_mb=%.0f", (asked > 0 ? (a[1] - b[1]) / asked : 0),
        a[3] - b[3], a[4] - b[4], a[5] / 1048576 }'
}
SERVER=
stop_server() { [[ -n $SERVER ]] && { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true; }; SERVER=; }
trap stop_server EXIT
for GC in ${GCS:-g1}; do
  case $GC in
    g1) GC_OPTS=(-XX:+UseG1GC) ;;
    g1xms) GC_OPTS=(-XX:+UseG1GC -Xms2g) ;;
    zgc) GC_OPTS=(-XX:+UseZGC) ;;
    *) echo "query-load: GCS takes g1, g1xms and zgc, not $GC" >&2; exit 2 ;;
  esac
  for VERSION in $CODE; do
    CLASSPATH="bench/target/tailprobe-bench-0.1.0-SNAPSHOT.jar"
    if [[ $VERSION == before ]]; then
      CLASSPATH="$CLASSPATH:bench/target/base/query-api/target/$API_JAR"
    fi
    CLASSPATH="$CLASSPATH:$(ls bench/target/dependency/*.jar | grep -v "/$API_JAR\$" | tr '\n' ':')bench/target/dependency/$API_JAR"
    VERSION_QUERIES=$QUERIES
    [[ $VERSION == before ]] && VERSION_QUERIES=$BEFORE_QUERIES
    LIVE_ARG=()
    [[ " $VERSION_QUERIES " == *" live"* ]] && LIVE_ARG=(live)
    rm -f "$LOG" # the previous server's READY line must not be taken for this one's
    "$JAVA" -Xmx2g "${GC_OPTS[@]}" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
        -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -Dtailprobe.bench.rollups="${ROLLUPS:-}" -cp "$CLASSPATH" \
        io.tailprobe.bench.QueryLoad "$DATA" "$SERIES" "$DAYS" "$PORT" "${LIVE_ARG[@]}" > "$LOG" 2>&1 &
    SERVER=$!
    until grep -q '^READY ' "$LOG"; do
      kill -0 "$SERVER" 2>/dev/null || { cat "$LOG"; echo "query-load: the server stopped" >&2; exit 1; }
      sleep 2
    done
    if [[ $VERSION == before ]]; then
      echo "== code=before ($(cat bench/target/base/REVISION 2>/dev/null || echo "unknown revision")), gc=$GC"
    else
      echo "== code=after ($(git rev-parse --short HEAD)$( [[ -n $(git status --porcelain -- query-api) ]] && echo ' + uncommitted changes'); built $(date -u -r bench/target/dependency/$API_JAR +%H:%M:%SZ)), gc=$GC"
    fi
    grep -v '^  series-' "$LOG" | grep -v '^READY' || true
    END_MILLIS=$(sed -n 's/^READY END_MILLIS=//p' "$LOG")
    export SERIES END_MILLIS
    URL="http://localhost:$PORT"
    echo "one 7-day answer: $(curl -s "$URL/api/v1/percentiles?target=series-042&probe=tcp&from=$((END_MILLIS - DAYS * 86400000))&to=$END_MILLIS" | cut -c1-400)"
    # every series' answers, to hold the versions to the same bytes
    rm -f "$DATA/answers-$VERSION.json"
    for S in $(seq -f "%03g" 0 $((SERIES - 1))); do
      curl -s "$URL/api/v1/percentiles?target=series-$S&probe=tcp&from=$((END_MILLIS - DAYS * 86400000))&to=$END_MILLIS"; echo
      curl -s "$URL/api/v1/percentiles?target=series-$S&probe=tcp&from=$((END_MILLIS - 10000))&to=$END_MILLIS"; echo
    done > "$DATA/answers-$VERSION.json"
    if [[ " $CODE " == *" before "* && " $CODE " == *" after "* && -f $DATA/answers-before.json && -f $DATA/answers-after.json
          && $VERSION == $(tr ' ' '\n' <<< "$CODE" | grep . | tail -1) ]]; then
      cmp -s "$DATA/answers-before.json" "$DATA/answers-after.json" && echo "answers of every series: before and after identical" \
        || { echo "query-load: the answers differ (diff $DATA/answers-before.json $DATA/answers-after.json)" >&2; exit 1; }
    fi
    for QUERY in $VERSION_QUERIES; do
      export QUERY
      TARGET=$URL
      [[ $QUERY == hello ]] && TARGET="http://localhost:$((PORT + 1))"
      SPEED=$DEFAULT_LIVE_SPEED
      [[ $QUERY == live@* ]] && SPEED=${QUERY#live@}
      if [[ $QUERY == live* ]]; then
        # the writer starts 10 s before the warm-up, so the warm-up already sees windows arrive
        read -r LIVE_SIM_MILLIS LIVE_WALL_MILLIS _ < <(curl -s -X POST "http://localhost:$((PORT + 1))/live/start?speed=$SPEED")
        LIVE_SPEED=$SPEED
        export LIVE_SIM_MILLIS LIVE_WALL_MILLIS LIVE_SPEED
        echo "live writer: from $(date -u -d @$((LIVE_SIM_MILLIS / 1000)) +%FT%TZ) at $SPEED simulated s per s"
        sleep 10
      fi
      wrk -t2 -c"$CONNECTIONS" -d10s --timeout 30s -s bench/query-load.lua "$TARGET" > /dev/null   # warm-up: JIT, caches
      wait_idle
      [[ ${JFR:-} == 1 ]] && "$JCMD" "$SERVER" JFR.start name=measured settings=profile \
          filename="$DATA/query-api-$VERSION-$GC-${QUERY/@/-}.jfr" > /dev/null
      LIVE_BEFORE=
      [[ $QUERY == live* ]] && LIVE_BEFORE=$(curl -s "http://localhost:$((PORT + 1))/live/status")
      CACHE_BEFORE=$(cache_figures)
      BEFORE=$(ticks "$SERVER")
      OUT=$(mktemp)
      wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 30s -s bench/query-load.lua "$TARGET" > "$OUT" &
      WRK=$!
      # wrk's own CPU, read from /proc just before it exits (it sleeps through its duration first)
      WRK_TICKS=0
      while kill -0 "$WRK" 2>/dev/null; do
        WRK_TICKS=$(ticks "$WRK" 2>/dev/null || echo "$WRK_TICKS")
        sleep 0.2
      done
      wait "$WRK" || true
      AFTER=$(ticks "$SERVER")
      LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
      CACHE_AFTER=$(cache_figures)
      [[ ${JFR:-} == 1 ]] && "$JCMD" "$SERVER" JFR.stop name=measured > /dev/null
      RESULT=$(grep "^RESULT" "$OUT"); rm -f "$OUT"
      REQUESTS=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<< "$RESULT")
      LIVE_FIGURES=
      if [[ $QUERY == live* ]]; then
        # what the writer did in the measured seconds; its CPU (and its producer thread's) is in the server's
        LIVE_AFTER=$(curl -s "http://localhost:$((PORT + 1))/live/status")
        curl -s -X POST "http://localhost:$((PORT + 1))/live/stop" > /dev/null
        field() { sed -n "s/.*\b$1=\([0-9]*\).*/\1/p" <<< "$2"; }
        LIVE_FIGURES=" live_speed=$SPEED live_windows=$(( $(field windows "$LIVE_AFTER") - $(field windows "$LIVE_BEFORE") )) live_writer_cpu_ms=$(( $(field cpu_ms "$LIVE_AFTER") - $(field cpu_ms "$LIVE_BEFORE") )) live_sim_seconds=$(( ($(field next_window "$LIVE_AFTER") - $(field next_window "$LIVE_BEFORE")) / 1000 ))"
      fi
      CACHE=
      [[ $QUERY != hello ]] && CACHE=" $(cache_delta "$CACHE_BEFORE" "$CACHE_AFTER")"
      echo "$RESULT code=$VERSION gc=$GC server_cpu_ms_per_request=$(per_request $((AFTER - BEFORE)) "$REQUESTS") wrk_cpu_ms_per_request=$(per_request "$WRK_TICKS" "$REQUESTS")$LIVE_FIGURES$CACHE load_average=\"$LOAD\""
    done
    stop_server
  done
done
