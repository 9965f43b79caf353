#!/usr/bin/env bash
# Probe rate of one agent next to blackbox_exporter's (issue 3); see docs/PERFORMANCE.md.
#
#   sudo flock /tmp/tailprobe-bench.lock bash bench/probe-rate.sh [RATES [INTERVAL_MS [MEASURE_S [WARMUP_S]]]]
#       (the lock: this machine is shared with other benchmarks; the script does not take it itself)
#       (defaults "1000 2000 3000 4000 5000 10000 20000" 100 20 10)
#
# Everything runs in a fresh network namespace (tp-rate, loopback only), so its /proc/net counters
# count this benchmark's connections and nothing else, and nothing leaves it:
#   1. a TCP target (io.tailprobe.bench.ProbeRateTarget: accept and close, 16 ports);
#   2. per offered rate, a fresh JVM running the real agent (io.tailprobe.bench.ProbeRate) with
#      RATE × INTERVAL tcp targets, measured from its own /metrics after a warm-up, and beside it a
#      control (io.tailprobe.bench.WakeLag: a bare thread keeping a 1 ms schedule over the same
#      seconds), whose on-time share is the floor this machine allows any schedule;
#   3. blackbox_exporter (Debian) with a tcp_connect module against the same target, driven by
#      wrk -t2 -c64 for MEASURE_S seconds after a 5 s warm-up.
# Before each measurement it waits (up to QUIET_WAIT_S, default 600) for the rest of the machine to
# be idle, and every row says how much CPU other processes took meanwhile.
# Prints one markdown table, the highest rate that kept p99 schedule lag under 1 ms with >= 99% of
# the offered probes OK, and its ratio to blackbox_exporter's. Raw output in bench/target/probe-rate/.
set -euo pipefail

RATES=${1:-${RATES:-"1000 2000 3000 4000 5000 10000 20000"}}
INTERVAL_MS=${2:-${INTERVAL_MS:-100}}
MEASURE_S=${3:-${MEASURE_S:-20}}
WARMUP_S=${4:-${WARMUP_S:-10}}
FIRST_PORT=${FIRST_PORT:-17000}
PORTS=${PORTS:-16}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-64}
QUIET_WAIT_S=${QUIET_WAIT_S:-600}
NS=tp-rate
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
OUT=${OUT:-$ROOT/bench/target/probe-rate}
JAVA=${JAVA:-$(ls -d /usr/lib/jvm/*/bin/java | while read -r j; do v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p'); [[ ${v:-0} -ge 21 ]] && echo "$j"; done | tail -1)}
JAVA_FLAGS=(--enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn ${AGENT_JVM_FLAGS:-})

[[ $(id -u) -eq 0 ]] || { echo "run as root (it makes a network namespace)" >&2; exit 1; }

PIDS=()
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT INT TERM

BLACKBOX=$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter || true)
missing=()
command -v wrk >/dev/null || missing+=(wrk)
[[ -n $BLACKBOX ]] || missing+=(prometheus-blackbox-exporter)
command -v ip >/dev/null || missing+=(iproute2)
command -v curl >/dev/null || missing+=(curl)
if ((${#missing[@]})); then
    echo "== installing ${missing[*]} (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    BLACKBOX=$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter)
fi

echo "== building tailprobe and bench"
(cd "$ROOT" && rm -rf bench/target/dependency && mvn -B -q -Pbench -pl bench -am -DskipTests package)
CP="$ROOT/bench/target/tailprobe-bench-0.1.0-SNAPSHOT.jar:$ROOT/bench/target/dependency/*"
mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.log

echo "== namespace $NS"
ip netns del "$NS" 2>/dev/null || true
ip netns add "$NS"
ip -n "$NS" link set lo up
in_ns() { ip netns exec "$NS" "$@"; }
# Each tool's opened connections: ActiveOpens of the namespace's /proc/net/snmp.
active_opens() { in_ns awk '/^Tcp:/ { if (n++) print $6 }' /proc/net/snmp; }
# utime + stime of a process in seconds (USER_HZ ticks).
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"; }
# An awk function: a whole number with thousands separators, as the Java rows print them.
COMMAS='function commas(x,  s) { s = sprintf("%.0f", x); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }'
# CPU seconds the whole machine spent busy: /proc/stat's "cpu" line less idle and iowait.
machine_busy_seconds() { awk -v hz="$(getconf CLK_TCK)" '/^cpu / { print ($2 + $3 + $4 + $7 + $8 + $9) / hz; exit }' /proc/stat; }
# Waits up to QUIET_WAIT_S for the rest of the machine to be idle (under 0.2 cores busy over 3 s):
# on a shared machine, someone else's build would take the cores the measurement needs. The
# tables say how busy the rest of the machine was anyway.
wait_for_quiet() {
    local deadline=$((SECONDS + QUIET_WAIT_S)) before after
    while ((SECONDS < deadline)); do
        before=$(machine_busy_seconds)
        sleep 3
        after=$(machine_busy_seconds)
        awk -v a="$before" -v b="$after" 'BEGIN { exit !((b - a) / 3 < 0.2) }' && return 0
    done
    echo "   the machine stayed busy for ${QUIET_WAIT_S} s; measuring anyway"
}
rss_mib() { awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

# Started with ip netns exec itself (which execs the program), so $! is the program's PID.
ip netns exec "$NS" "$JAVA" -cp "$CP" io.tailprobe.bench.ProbeRateTarget 127.0.0.1 "$FIRST_PORT" "$PORTS" >"$OUT/target.log" 2>&1 &
TARGET_PID=$!
PIDS+=("$TARGET_PID")
for _ in $(seq 100); do
    in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$((FIRST_PORT + PORTS - 1))" 2>/dev/null && break
    sleep 0.1
done

echo "== agent: ${RATES// /, } probes/s, every ${INTERVAL_MS} ms, ${WARMUP_S} s warm-up + ${MEASURE_S} s measured each"
best=0
for rate in $RATES; do
    wait_for_quiet
    in_ns "$JAVA" "${JAVA_FLAGS[@]}" -cp "$CP" io.tailprobe.bench.ProbeRate "$rate" "$INTERVAL_MS" 127.0.0.1 \
        "$FIRST_PORT" "$PORTS" "$TARGET_PID" "$WARMUP_S" "$MEASURE_S" >"$OUT/agent-$rate.txt" 2>"$OUT/agent-$rate.log"
    sed -n 's/^ROW //p' "$OUT/agent-$rate.txt"
    grep '^#' "$OUT/agent-$rate.txt" || true
    if grep -q "^RESULT rate=$rate pass=true" "$OUT/agent-$rate.txt" && ((rate > best)); then
        best=$rate
    fi
done

echo "== blackbox_exporter tcp_connect, wrk -t2 -c$WRK_CONNECTIONS, 5 s warm-up + ${MEASURE_S} s measured"
ip netns exec "$NS" "$BLACKBOX" --config.file="$HERE/probe-rate/blackbox.yml" --web.listen-address=127.0.0.1:9115 \
    >"$OUT/blackbox.log" 2>&1 &
BLACKBOX_PID=$!
PIDS+=("$BLACKBOX_PID")
URL="http://127.0.0.1:9115/probe?module=tcp_connect&target=127.0.0.1:$FIRST_PORT"
for _ in $(seq 50); do
    in_ns curl -fs -o /dev/null http://127.0.0.1:9115/metrics && break
    sleep 0.2
done
in_ns curl -fs "$URL" | grep -q '^probe_success 1$' || { echo "blackbox_exporter's probe of the target failed" >&2; exit 1; }
wait_for_quiet
in_ns wrk -t2 -c"$WRK_CONNECTIONS" -d5s "$URL" >"$OUT/wrk-warmup.txt"
opens_before=$(active_opens)
target_cpu_before=$(cpu_seconds "$TARGET_PID")
blackbox_cpu_before=$(cpu_seconds "$BLACKBOX_PID")
machine_before=$(machine_busy_seconds)
TIMEFORMAT='%R %U %S'
{ time in_ns wrk -t2 -c"$WRK_CONNECTIONS" -d"${MEASURE_S}s" "$URL" >"$OUT/wrk.txt"; } 2>"$OUT/wrk-time.txt"
machine_after=$(machine_busy_seconds)
blackbox_cpu_after=$(cpu_seconds "$BLACKBOX_PID")
target_cpu_after=$(cpu_seconds "$TARGET_PID")
opens_after=$(active_opens)
blackbox_rss=$(rss_mib "$BLACKBOX_PID")
in_ns curl -fs "$URL" | grep -q '^probe_success 1$' || { echo "blackbox_exporter's probe of the target failed after the run" >&2; exit 1; }
read -r wrk_wall wrk_user wrk_sys <"$OUT/wrk-time.txt"
wrk_rate=$(awk '/^Requests\/sec:/ { print $2 }' "$OUT/wrk.txt")
errors=$(awk '/Non-2xx|Socket errors/' "$OUT/wrk.txt")
blackbox_row=$(awk -v rate="$wrk_rate" -v wall="$wrk_wall" -v opens=$((opens_after - opens_before)) \
    -v bb="$(awk -v a="$blackbox_cpu_before" -v b="$blackbox_cpu_after" 'BEGIN { print b - a }')" \
    -v tg="$(awk -v a="$target_cpu_before" -v b="$target_cpu_after" 'BEGIN { print b - a }')" \
    -v wrk="$(awk -v u="$wrk_user" -v s="$wrk_sys" 'BEGIN { print u + s }')" -v rss="$blackbox_rss" \
    -v machine="$(awk -v a="$machine_before" -v b="$machine_after" 'BEGIN { print b - a }')" \
    "$COMMAS"'BEGIN { printf "| blackbox_exporter tcp_connect (wrk -t2 -c'"$WRK_CONNECTIONS"') | %s | %.2f (+ wrk %.2f) | %.1f | %s | %.2f | %.2f | %s |\n",
        commas(rate), bb / wall, wrk / wall, bb / wall * 1e6 / rate, rss, tg / wall, (machine - bb - wrk - tg) / wall,
        commas(opens / wall) }')
[[ -z $errors ]] || echo "wrk: $errors"

echo
echo "== agent (rows as above)"
sed -n 's/^HEAD //p' "$OUT/agent-${RATES%% *}.txt"
for rate in $RATES; do sed -n 's/^ROW //p' "$OUT/agent-$rate.txt"; done
echo
echo "| tool | probes/s | CPU (cores) | CPU µs/probe | RSS MiB | target CPU (cores) | other processes' CPU (cores) | TCP connects/s (netns) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
if ((best > 0)); then
    sed -n 's/^COMPARE //p' "$OUT/agent-$best.txt"
fi
echo "$blackbox_row"
echo
if ((best > 0)); then
    agent_rate=$(sed -n 's/^COMPARE |[^|]*| \([0-9,]*\) |.*/\1/p' "$OUT/agent-$best.txt" | tr -d ,)
    awk -v best="$best" -v agent="$agent_rate" -v bb="$wrk_rate" "$COMMAS"'BEGIN { printf "highest offered rate with p99 schedule lag < 1 ms and >= 99%% OK: %s probes/s (%s OK/s) = %.1f × blackbox_exporter (%s probes/s)\n", commas(best), commas(agent), agent / bb, commas(bb) }'
else
    echo "no step kept p99 schedule lag under 1 ms with >= 99% of the probes OK"
fi
# Blackbox_exporter's rate is as many as it completes; the like-for-like figure of the agent is the
# most any step completed, on time or not.
most=$(for rate in $RATES; do sed -n 's/^COMPARE |[^|]*| \([0-9,]*\) |.*/\1/p' "$OUT/agent-$rate.txt" | tr -d ,; done | sort -n | tail -1)
awk -v most="$most" -v bb="$wrk_rate" "$COMMAS"'BEGIN { printf "most probes/s of any step (on time or not): %s OK/s = %.1f × blackbox_exporter\n", commas(most), most / bb }'
