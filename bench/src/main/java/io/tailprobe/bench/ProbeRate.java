package io.tailprobe.bench;

import com.sun.management.OperatingSystemMXBean;
import io.tailprobe.agent.AgentConfig;
import io.tailprobe.agent.AgentConfig.Target;
import io.tailprobe.agent.ProbeAgent;
import io.tailprobe.agent.sink.SampleSink;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;

/**
 * One step of bench/probe-rate.sh: the real agent ({@link ProbeAgent} with its configuration,
 * pacers and {@code TcpProbe}s) probing TARGETS = RATE × INTERVAL TCP targets every INTERVAL, and
 * what it achieved, read from its own {@code /metrics} after a warm-up and again MEASURE seconds
 * later:
 * <ul>
 *   <li>probes/s: the growth of {@code tailprobe_agent_probes_total} (OK and failed apart), of
 *       {@code tailprobe_agent_slots_skipped_total} and of {@code tailprobe_agent_samples_dropped_total}
 *       (samples lost because the hand-off queue to the sink was full);</li>
 *   <li>schedule lag: the share of {@code tailprobe_agent_schedule_lag_seconds} observations at or
 *       under its 1 ms bucket (p99 &lt; 1 ms exactly when that share is ≥ 99%), and the p99 the way
 *       {@code histogram_quantile} reads it from the buckets;</li>
 *   <li>beside those, the p99 and p99.9 of the same lag from the samples themselves (actual minus
 *       scheduled start, µs), which the buckets' 0.1/0.5/1 ms steps only bracket.</li>
 * </ul>
 * and the JVM's process CPU time and resident set ({@code VmRSS}) over the same window, the CPU time
 * of the target's process (PID), of every other process on the machine (others' builds compete for
 * the same cores), and the TCP connections the network namespace opened (from its
 * {@code /proc/net/snmp}: a count no tool's own report enters).
 *
 * <p>The sink is not Kafka: it encodes each sample's key and value with the serializers the
 * {@code KafkaSampleSink} hands the producer, counts and acknowledges it. The question is the
 * agent's probing rate; a broker in this process or beside it would take its share of the same two
 * cores, and what the producer costs per sample is the batching the aggregator benchmark already
 * measures on the consumer side.
 *
 * <p>Usage: {@code ProbeRate RATE INTERVAL_MS HOST FIRST_PORT PORTS TARGET_PID WARMUP_S MEASURE_S};
 * target {@code i} probes {@code HOST:(FIRST_PORT + i mod PORTS)} (see {@link ProbeRateTarget}).
 * Prints the markdown table's header ({@code HEAD …}) and this step's row ({@code ROW …}), the row comparing it with blackbox_exporter ({@code COMPARE …}), a line of
 * details ({@code # …}) and {@code RESULT rate=… pass=true|false}: pass means at least 99% of the
 * offered probes succeeded, at most 1% of them were dropped before the sink, and the p99 lag is under 1 ms.
 */
public final class ProbeRate {
    private static final double LAG_BOUND_SECONDS = 0.001;
    private static final String LAG = "tailprobe_agent_schedule_lag_seconds";
    /** /proc reports process times in USER_HZ ticks, 100 a second on every Linux architecture we run. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    private ProbeRate() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 8) {
            System.err.println("usage: ProbeRate RATE INTERVAL_MS HOST FIRST_PORT PORTS TARGET_PID WARMUP_S MEASURE_S");
            System.exit(2);
        }
        int rate = Integer.parseInt(args[0]);
        long intervalMillis = Long.parseLong(args[1]);
        String host = args[2];
        int firstPort = Integer.parseInt(args[3]);
        int ports = Integer.parseInt(args[4]);
        long targetPid = Long.parseLong(args[5]);
        long warmupSeconds = Long.parseLong(args[6]);
        long measureSeconds = Long.parseLong(args[7]);

        int targetCount = (int) Math.round(rate * intervalMillis / 1000.0);
        List<Target> targets = new ArrayList<>(targetCount);
        for (int i = 0; i < targetCount; i++) {
            targets.add(new Target("rate-" + i, "tcp", host + ":" + (firstPort + i % ports),
                    Duration.ofMillis(intervalMillis), null, null, null, Map.of()));
        }
        AgentConfig config = AgentConfig.defaultConfig().withHttpPort(0).withTargets(targets);
        EncodingSink sink = new EncodingSink();
        Window window;
        try (ProbeAgent agent = ProbeAgent.start(config, sink)) {
            Thread.sleep(Duration.ofSeconds(warmupSeconds));
            Reading before = Reading.take(agent.httpPort(), sink, targetPid);
            Thread.sleep(Duration.ofSeconds(measureSeconds));
            Reading after = Reading.take(agent.httpPort(), sink, targetPid);
            window = new Window(rate, targetCount, intervalMillis, before, after);
        }
        HEADER.lines().forEach(line -> System.out.println("HEAD " + line));
        System.out.println("ROW " + window.row());
        System.out.println("COMPARE " + window.comparisonRow());
        System.out.println(window.details());
        System.out.println("RESULT rate=" + rate + " pass=" + window.passed());
        System.exit(0);
    }

    /** Encodes every sample as the Kafka sink would, records its schedule lag, and acknowledges it. */
    private static final class EncodingSink implements SampleSink {
        private final SingleWriterRecorder lagMicros = new SingleWriterRecorder(3);
        private final LongAdder encodedBytes = new LongAdder();

        @Override
        public void send(LatencySample sample, SendCallback done) {
            String key = SeriesKey.of(sample).encode();
            byte[] value = Topics.sampleSerde().serializer().serialize(Topics.SAMPLES, sample);
            encodedBytes.add(key.length() + value.length);
            lagMicros.recordValue(Math.max(0, sample.getActualStartMicros() - sample.getScheduledStartMicros()));
            done.onCompletion(null);
        }

        /** The lags recorded since the last call. */
        Histogram lagsSinceLastCall() {
            return lagMicros.getIntervalHistogram();
        }
    }

    /** Everything read at one end of the measured window. */
    private record Reading(long nanoTime, long processCpuNanos, long systemCpuNanos, long targetCpuNanos, long machineBusyNanos, long gcMillis,
                           AgentFigures agent, Map<String, Long> tcp, Histogram lagMicrosSinceLast) {
        static Reading take(int httpPort, EncodingSink sink, long targetPid) throws IOException, InterruptedException {
            AgentFigures figures = AgentFigures.scrape(httpPort);
            Histogram lags = sink.lagsSinceLastCall();
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long gcMillis = ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
            return new Reading(System.nanoTime(), os.getProcessCpuTime(), systemCpuNanosOfProcess("self"),
                    cpuNanosOfProcess(targetPid),
                    busyNanosOfMachine(), gcMillis,
                    figures, tcpCounters(), lags);
        }
    }

    /** What the agent's {@code /metrics} says, summed over targets. */
    private record AgentFigures(double okProbes, double failedProbes, double slotsSkipped, double samplesDropped,
                                TreeMap<Double, Double> lagBuckets) {
        private static final HttpClient HTTP = HttpClient.newHttpClient();

        static AgentFigures scrape(int httpPort) throws IOException, InterruptedException {
            HttpResponse<java.util.stream.Stream<String>> response = HTTP.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofLines());
            double ok = 0;
            double failed = 0;
            double skipped = 0;
            double dropped = 0;
            TreeMap<Double, Double> buckets = new TreeMap<>();
            for (String line : (Iterable<String>) response.body()::iterator) {
                if (line.startsWith("#")) {
                    continue;
                }
                double value = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                if (line.startsWith("tailprobe_agent_probes_total{")) {
                    if (line.contains("outcome=\"OK\"")) {
                        ok += value;
                    } else {
                        failed += value;
                    }
                } else if (line.startsWith("tailprobe_agent_slots_skipped_total{")) {
                    skipped += value;
                } else if (line.startsWith("tailprobe_agent_samples_dropped_total ")) {
                    dropped = value;
                } else if (line.startsWith(LAG + "_bucket{")) {
                    int le = line.indexOf("le=\"") + 4;
                    String bound = line.substring(le, line.indexOf('"', le));
                    buckets.merge(bound.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(bound), value,
                            Double::sum);
                }
            }
            return new AgentFigures(ok, failed, skipped, dropped, buckets);
        }
    }

    private record Window(int offeredRate, int targets, long intervalMillis, Reading before, Reading after) {
        double seconds() {
            return (after.nanoTime() - before.nanoTime()) / 1e9;
        }

        double okRate() {
            return (after.agent().okProbes() - before.agent().okProbes()) / seconds();
        }

        double failedRate() {
            return (after.agent().failedProbes() - before.agent().failedProbes()) / seconds();
        }

        double droppedRate() {
            return (after.agent().samplesDropped() - before.agent().samplesDropped()) / seconds();
        }

        /** Cumulative lag counts per bucket bound over the window. */
        TreeMap<Double, Double> lagBuckets() {
            TreeMap<Double, Double> delta = new TreeMap<>();
            after.agent().lagBuckets().forEach((bound, count) ->
                    delta.put(bound, count - before.agent().lagBuckets().getOrDefault(bound, 0.0)));
            return delta;
        }

        double shareWithinLagBound() {
            TreeMap<Double, Double> buckets = lagBuckets();
            double total = buckets.get(Double.POSITIVE_INFINITY);
            return total == 0 ? 0 : buckets.get(LAG_BOUND_SECONDS) / total;
        }

        /** The p99 as Prometheus' histogram_quantile interpolates it within the buckets. */
        double p99LagMicrosFromBuckets() {
            TreeMap<Double, Double> buckets = lagBuckets();
            double rank = 0.99 * buckets.get(Double.POSITIVE_INFINITY);
            double lowerBound = 0;
            double lowerCount = 0;
            for (Map.Entry<Double, Double> bucket : buckets.entrySet()) {
                if (bucket.getValue() >= rank) {
                    if (bucket.getKey().isInfinite()) {
                        return lowerBound * 1e6;
                    }
                    double inBucket = bucket.getValue() - lowerCount;
                    double fraction = inBucket == 0 ? 0 : (rank - lowerCount) / inBucket;
                    return (lowerBound + (bucket.getKey() - lowerBound) * fraction) * 1e6;
                }
                lowerBound = bucket.getKey();
                lowerCount = bucket.getValue();
            }
            return Double.NaN;
        }

        double cpuCores() {
            return (after.processCpuNanos() - before.processCpuNanos()) / 1e9 / seconds();
        }

        double targetCpuCores() {
            return (after.targetCpuNanos() - before.targetCpuNanos()) / 1e9 / seconds();
        }

        /** Every other process on the machine: the build next door shares these cores with the benchmark. */
        double otherCpuCores() {
            return (after.machineBusyNanos() - before.machineBusyNanos()) / 1e9 / seconds() - cpuCores() - targetCpuCores();
        }

        double connectsPerSecond() {
            return (after.tcp().get("ActiveOpens") - before.tcp().get("ActiveOpens")) / seconds();
        }

        boolean passed() {
            return okRate() >= 0.99 * offeredRate && droppedRate() <= 0.01 * offeredRate && shareWithinLagBound() >= 0.99;
        }

        String row() {
            Histogram lags = after.lagMicrosSinceLast();
            double cpu = cpuCores();
            return String.format(Locale.ROOT,
                    "| %,d | %,d × %d ms | %,.0f | %,.0f | %,.0f | %,.0f | %.2f%% | %,.0f | %,d | %,d | %.2f | %.1f | %,.0f | %.2f | %.2f | %,.0f | %s |",
                    offeredRate, targets, intervalMillis, okRate(), failedRate(),
                    after.agent().slotsSkipped() - before.agent().slotsSkipped(), droppedRate(), 100 * shareWithinLagBound(),
                    p99LagMicrosFromBuckets(), lags.getValueAtPercentile(99), lags.getValueAtPercentile(99.9),
                    cpu, cpu * 1e6 / (okRate() + failedRate()), rssMebibytes(), targetCpuCores(), otherCpuCores(),
                    connectsPerSecond(), passed() ? "yes" : "no");
        }

        /** This step in the columns of the comparison with blackbox_exporter. */
        String comparisonRow() {
            double cpu = cpuCores();
            return String.format(Locale.ROOT, "| Tailprobe agent (%,d tcp targets every %d ms) | %,.0f | %.2f | %.1f | %,.0f | %.2f | %.2f | %,.0f |",
                    targets, intervalMillis, okRate(), cpu, cpu * 1e6 / (okRate() + failedRate()), rssMebibytes(),
                    targetCpuCores(), otherCpuCores(), connectsPerSecond());
        }

        String details() {
            return String.format(Locale.ROOT,
                    "# %.1f s window: lag buckets %s; samples' lag p50 %d µs, max %d µs; agent CPU %.0f%% in the kernel; GC %d ms; "
                            + "listen overflows %d, failed connects %d; JDK %s, %d cores",
                    seconds(), lagBuckets(), after.lagMicrosSinceLast().getValueAtPercentile(50),
                    after.lagMicrosSinceLast().getMaxValue(),
                    100.0 * (after.systemCpuNanos() - before.systemCpuNanos()) / (after.processCpuNanos() - before.processCpuNanos()),
                    after.gcMillis() - before.gcMillis(),
                    after.tcp().get("ListenOverflows") - before.tcp().get("ListenOverflows"),
                    after.tcp().get("AttemptFails") - before.tcp().get("AttemptFails"), Runtime.version(),
                    Runtime.getRuntime().availableProcessors());
        }
    }

    /** The table's header, matching {@link Window#row()}. */
    private static final String HEADER = """
            | offered probes/s | targets × interval | OK probes/s | failed/s | slots skipped | samples dropped/s | lag ≤ 1 ms | p99 lag µs (buckets) | p99 lag µs (samples) | p99.9 lag µs (samples) | agent CPU (cores) | CPU µs/probe | agent RSS MiB | target CPU (cores) | other processes' CPU (cores) | TCP connects/s (netns) | passed |
            |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|""";

    /** VmRSS of this process in MiB. */
    private static double rssMebibytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** User plus system CPU time of a process so far (utime and stime of /proc/PID/stat). */
    private static long cpuNanosOfProcess(long pid) throws IOException {
        String[] fields = statFields(String.valueOf(pid));
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * NANOS_PER_TICK;
    }

    /** The system (kernel) part of a process's CPU time so far (stime). */
    private static long systemCpuNanosOfProcess(String pid) throws IOException {
        return Long.parseLong(statFields(pid)[12]) * NANOS_PER_TICK;
    }

    /** The fields of /proc/PID/stat after the command name, from the state (field 3) on. */
    private static String[] statFields(String pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    /** CPU time the whole machine spent busy so far: all of /proc/stat's "cpu" line but idle and iowait. */
    private static long busyNanosOfMachine() throws IOException {
        String[] ticks = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split(" +");
        long busy = 0;
        for (int i = 1; i <= 8; i++) {
            busy += i == 4 || i == 5 ? 0 : Long.parseLong(ticks[i]);
        }
        return busy * NANOS_PER_TICK;
    }

    /** The network namespace's TCP counters: ActiveOpens, AttemptFails (/proc/net/snmp), ListenOverflows (netstat). */
    private static Map<String, Long> tcpCounters() throws IOException {
        Map<String, Long> counters = new TreeMap<>();
        counters.putAll(section(Path.of("/proc/net/snmp"), "Tcp:"));
        counters.putAll(section(Path.of("/proc/net/netstat"), "TcpExt:"));
        return counters;
    }

    /** One section of a /proc/net counter file: a line of names followed by a line of values. */
    private static Map<String, Long> section(Path file, String prefix) throws IOException {
        List<String> lines = Files.readAllLines(file).stream().filter(l -> l.startsWith(prefix + " ")).toList();
        String[] names = lines.get(0).split(" ");
        String[] values = lines.get(1).split(" ");
        Map<String, Long> section = new TreeMap<>();
        for (int i = 1; i < names.length; i++) {
            section.put(names[i], Long.parseLong(values[i]));
        }
        return section;
    }
}
