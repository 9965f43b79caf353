#!/usr/bin/env bash
# Probe accuracy against the wire (issue 3).
#
#   sudo bench/accuracy/run.sh [COUNT [INTERVAL_MS [WARMUP]]]     (defaults 1000 10 50)
#
# Builds a veth pair into a fresh network namespace (host 198.18.0.1 on tpb0, namespace tp-bench
# 198.18.0.2 on tpb1), runs a TCP listener inside it and measures, one tool after another, the
# same path with: our TcpProbe, a naive wall-clock connect, blackbox_exporter tcp_connect, our IcmpProbe (and again with the
# kernel's transmit timestamps switched off), fping and blackbox_exporter icmp, while tshark captures SYN/SYN-ACK resp. echo request/reply on tpb0.
# analyze.py then pairs the k-th measurement with the k-th exchange on the wire.
# Everything (namespace, veth, listener, exporter, captures) is torn down on exit.
set -euo pipefail

COUNT=${1:-${COUNT:-1000}}
INTERVAL_MS=${2:-${INTERVAL_MS:-10}}
WARMUP=${3:-${WARMUP:-50}}
PORT=${PORT:-18080}
NS=tp-bench
HOST_IP=198.18.0.1
NS_IP=198.18.0.2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${OUT:-$ROOT/bench/target/accuracy}
JAVA=${JAVA:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
BLACKBOX=${BLACKBOX:-$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter)}

[[ $(id -u) -eq 0 ]] || { echo "run as root (namespaces, raw sockets, capture)" >&2; exit 1; }

PIDS=()
cleanup() {
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    ip link del tpb0 2>/dev/null
    ip netns del "$NS" 2>/dev/null
}
trap cleanup EXIT INT TERM

mkdir -p "$OUT"
rm -f "$OUT"/*.txt "$OUT"/*.pcap "$OUT"/*.log

missing=()
command -v tshark >/dev/null || missing+=(tshark)
command -v fping >/dev/null || missing+=(fping)
[[ -n $BLACKBOX ]] || missing+=(prometheus-blackbox-exporter)
command -v ip >/dev/null || missing+=(iproute2)
if ((${#missing[@]})); then
    echo "== installing ${missing[*]} (Debian)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    BLACKBOX=$(command -v prometheus-blackbox-exporter || command -v blackbox_exporter)
fi

echo "== building tailprobe and bench"
(cd "$ROOT" && rm -rf bench/target/dependency && mvn -B -q -Pbench -pl bench -am -DskipTests package)
CP="$ROOT/bench/target/tailprobe-bench-0.1.0-SNAPSHOT.jar:$ROOT/bench/target/dependency/*"

echo "== namespace $NS"
ip netns del "$NS" 2>/dev/null || true
ip link del tpb0 2>/dev/null || true
ip netns add "$NS"
ip link add tpb0 type veth peer name tpb1 netns "$NS"
ip addr add "$HOST_IP/30" dev tpb0
ip link set tpb0 up
ip -n "$NS" link set lo up
ip -n "$NS" addr add "$NS_IP/30" dev tpb1
ip -n "$NS" link set tpb1 up
fping -q -c 2 -p 200 "$NS_IP"   # also fills the neighbour cache

ip netns exec "$NS" python3 -m http.server "$PORT" --bind "$NS_IP" >"$OUT/listener.log" 2>&1 &
PIDS+=($!)
"$BLACKBOX" --config.file="$HERE/blackbox.yml" --web.listen-address=127.0.0.1:9115 >"$OUT/blackbox.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do
    if curl -fs -o /dev/null http://127.0.0.1:9115/metrics && (exec 3<>"/dev/tcp/$NS_IP/$PORT") 2>/dev/null; then
        break
    fi
    sleep 0.2
done
# the readiness check above made SYNs, but before any capture starts

TSHARK_PID=
capture_start() {   # name filter
    tshark -i tpb0 -f "$2" -w "$OUT/$1.pcap" -q >"$OUT/$1.tshark.log" 2>&1 &
    TSHARK_PID=$!
    PIDS+=($TSHARK_PID)
    for _ in $(seq 100); do
        grep -q "Capturing on" "$OUT/$1.tshark.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.5
}
capture_stop() {
    sleep 1                       # let the last replies reach the capture
    kill -INT "$TSHARK_PID"
    wait "$TSHARK_PID" || true    # tshark writes the rest of the pcap as it exits
}

TCP_FILTER="tcp[tcpflags] & tcp-syn != 0 and host $NS_IP"
ICMP_FILTER="icmp and host $NS_IP"

blackbox_loop() {   # module target metric-regex; prints NaN unless probe_success is 1
    local n=$((WARMUP + COUNT)) body line
    local pause
    pause=$(awk -v ms="$INTERVAL_MS" 'BEGIN { printf "%.3f", ms / 1000 }')
    echo "# warmup $WARMUP"
    for ((i = 0; i < n; i++)); do
        body=$(curl -fs "http://127.0.0.1:9115/probe?module=$1&target=$2" || true)
        if ((i >= WARMUP)); then
            line=$(grep -E "$3" <<<"$body" || true)
            if [[ -n $line ]] && grep -qE '^probe_success 1$' <<<"$body"; then
                awk '{ printf "%.3f\n", $NF * 1e6 }' <<<"$line"
            else
                echo NaN
            fi
        fi
        sleep "$pause"
    done
}

echo "== (a) ours TCP ($COUNT probes + $WARMUP warm-up, every $INTERVAL_MS ms)"
capture_start ours-tcp "$TCP_FILTER"
"$JAVA" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED -cp "$CP" io.tailprobe.bench.ProbeAccuracy tcp "$NS_IP:$PORT" "$COUNT" "$INTERVAL_MS" "$WARMUP" >"$OUT/ours-tcp.txt"
capture_stop

echo "== (a2) naive TCP: wall clock around connect() on a virtual thread"
capture_start wall-tcp "$TCP_FILTER"
"$JAVA" --enable-native-access=ALL-UNNAMED -cp "$CP" io.tailprobe.bench.ProbeAccuracy tcp-wall "$NS_IP:$PORT" "$COUNT" "$INTERVAL_MS" "$WARMUP" >"$OUT/wall-tcp.txt"
capture_stop

echo "== (b) blackbox_exporter TCP"
capture_start blackbox-tcp "$TCP_FILTER"
blackbox_loop tcp "$NS_IP:$PORT" '^probe_duration_seconds ' >"$OUT/blackbox-tcp.txt"
capture_stop

echo "== (c) ours ICMP"
capture_start ours-icmp "$ICMP_FILTER"
"$JAVA" --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED -cp "$CP" io.tailprobe.bench.ProbeAccuracy icmp "$NS_IP" "$COUNT" "$INTERVAL_MS" "$WARMUP" >"$OUT/ours-icmp.txt"
capture_stop

echo "== (c2) ours ICMP, without the kernel's transmit timestamps"
capture_start ours-icmp-rx-only "$ICMP_FILTER"
"$JAVA" -Dtailprobe.icmp.noTransmitTimestamps=true --enable-native-access=ALL-UNNAMED -cp "$CP" \
    io.tailprobe.bench.ProbeAccuracy icmp "$NS_IP" "$COUNT" "$INTERVAL_MS" "$WARMUP" >"$OUT/ours-icmp-rx-only.txt"
capture_stop

echo "== (d) fping"
capture_start fping "$ICMP_FILTER"
# fping -C prints per-probe RTTs in ms ('-' = lost) on stderr: "198.18.0.2 : 0.05 0.04 ..."
fping -C $((WARMUP + COUNT)) -p "$INTERVAL_MS" -q "$NS_IP" 2>"$OUT/fping.raw" || true
{
    echo "# warmup $WARMUP"
    sed 's/^[^:]*: *//' "$OUT/fping.raw" | tr -s ' ' '\n' | grep -v '^$' | tail -n +$((WARMUP + 1)) |
        awk '{ if ($1 == "-") print "NaN"; else printf "%.3f\n", $1 * 1000 }'
} >"$OUT/fping.txt"
capture_stop

echo "== (e) blackbox_exporter ICMP"
capture_start blackbox-icmp "$ICMP_FILTER"
blackbox_loop icmp "$NS_IP" '^probe_icmp_duration_seconds\{phase="rtt"\}' >"$OUT/blackbox-icmp.txt"
capture_stop

echo "== analysis (raw files in $OUT)"
python3 "$HERE/analyze.py" "$OUT"
