#!/usr/bin/env bash
# Aggregator throughput next to Kafka's and Kafka Streams' own limits (issue 4); see docs/PERFORMANCE.md.
#
#   bash bench/aggregator-throughput.sh [SAMPLES [GUARANTEE [RUNS]]]   (defaults 1000000 exactly_once_v2 abcde; runs a–k, p–s)
#
# Builds the bench module in the reactor (root pom profile "bench"; tests skipped, nothing installed) and runs
# io.tailprobe.bench.AggregatorThroughput on a JDK >= 21 with one in-process broker.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAVA=${JAVA:-$(ls -d /usr/lib/jvm/*/bin/java | while read -r j; do v=$("$j" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p'); [[ ${v:-0} -ge 21 ]] && echo "$j"; done | tail -1)}
cd "$ROOT"
rm -rf bench/target/dependency
mvn -B -q -Pbench -pl bench -am -DskipTests package   # the reactor build; nothing installed into ~/.m2
# One benchmark at a time on this machine: every bench script takes the same lock.
exec flock /tmp/tailprobe-bench.lock "$JAVA" -Xmx2g ${BENCH_JAVA_OPTS:-} --enable-native-access=ALL-UNNAMED --add-exports java.base/sun.nio.ch=ALL-UNNAMED \
    -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
    -cp "bench/target/tailprobe-bench-0.1.0-SNAPSHOT.jar:bench/target/dependency/*" \
    io.tailprobe.bench.AggregatorThroughput "${1:-1000000}" "${2:-exactly_once_v2}" "${3:-abcde}"
