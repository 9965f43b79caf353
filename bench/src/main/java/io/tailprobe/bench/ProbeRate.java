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
 *       scheduled start, µs), which the buckets' 0.1/0.5/1 ms steps only bracket;</li>
 *   <li>and a control: how late a bare platform thread keeping a 1 ms schedule in a process of its
 *       own ({@link WakeLag}) woke over the same seconds, the floor this machine sets under any
 *       schedule. The step passes or fails on the agent's own lag, whatever the control says.</li>
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
        // The control starts first so its JVM's start-up is over before the measured window.
        Process control = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-cp",
                System.getProperty("java.class.path"), WakeLag.class.getName(), String.valueOf(warmupSeconds),
                String.valueOf(measureSeconds)).redirectErrorStream(true).start();
        try (ProbeAgent agent = ProbeAgent.start(config, sink)) {
            Thread.sleep(Duration.ofSeconds(warmupSeconds));
            Reading before = Reading.take(agent.httpPort(), sink, targetPid, control.pid());
            Thread.sleep(Duration.ofSeconds(measureSeconds));
            Reading after = Reading.take(agent.httpPort(), sink, targetPid, control.pid());
            control.getOutputStream().close();
            String controlOutput = new String(control.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            control.waitFor();
            window = new Window(rate, targetCount, intervalMillis, before, after, ControlLag.parse(controlOutput));
        }
        sink.writeLagLog();
        HEADER.lines().forEach(line -> System.out.println("HEAD " + line));
        System.out.println("ROW " + window.row());
        System.out.println("COMPARE " + window.comparisonRow());
        System.out.println(window.details());
        System.out.println("RESULT rate=" + rate + " pass=" + window.passed());
        System.exit(0);
    }

    /**
     * Encodes every sample as the Kafka sink would, records its schedule lag, and acknowledges it.
     * With {@code -Dtailprobe.bench.lagLog=FILE} it also keeps every sample's scheduled start and
     * lag (µs) and writes them to FILE at the end, one "scheduledMicros lagMicros target" line each,
     * to see whether late probes come alone or in stretches.
     */
    private static final class EncodingSink implements SampleSink {
        private static final int LAG_LOG_CAPACITY = 4_000_000;
        private final SingleWriterRecorder lagMicros = new SingleWriterRecorder(3);
        private final LongAdder encodedBytes = new LongAdder();
        private final String lagLogFile = System.getProperty("tailprobe.bench.lagLog");
        private final long[] logged = lagLogFile == null ? null : new long[2 * LAG_LOG_CAPACITY];
        private final String[] loggedTargets = lagLogFile == null ? null : new String[LAG_LOG_CAPACITY];
        private int loggedCount;

        @Override
        public void send(LatencySample sample, SendCallback done) {
            String key = SeriesKey.of(sample).encode();
            byte[] value = Topics.sampleSerde().serializer().serialize(Topics.SAMPLES, sample);
            encodedBytes.add(key.length() + value.length);
            long lag = Math.max(0, sample.getActualStartMicros() - sample.getScheduledStartMicros());
            lagMicros.recordValue(lag);
            if (logged != null && loggedCount < LAG_LOG_CAPACITY) {
                logged[2 * loggedCount] = sample.getScheduledStartMicros();
                logged[2 * loggedCount + 1] = lag;
                loggedTargets[loggedCount++] = sample.getTarget();
            }
            done.onCompletion(null);
        }

        /** Writes the lag log, if one was asked for; called after the agent stopped. */
        void writeLagLog() throws IOException {
            if (logged == null) {
                return;
            }
            StringBuilder text = new StringBuilder(loggedCount * 32);
            for (int i = 0; i < loggedCount; i++) {
                text.append(logged[2 * i]).append(' ').append(logged[2 * i + 1]).append(' ')
                        .append(loggedTargets[i]).append('\n');
            }
            Files.writeString(Path.of(lagLogFile), text);
        }

        /** The lags recorded since the last call. */
        Histogram lagsSinceLastCall() {
            return lagMicros.getIntervalHistogram();
        }
    }

    /** Everything read at one end of the measured window. */
    private record Reading(long nanoTime, long processCpuNanos, long systemCpuNanos, long targetCpuNanos, long controlCpuNanos,
                           long machineBusyNanos, long gcMillis,
                           AgentFigures agent, Map<String, Long> tcp, Histogram lagMicrosSinceLast,
                           Map<String, Long> agentRunQueueWaitNanos, Map<String, Long> targetRunQueueWaitNanos) {
        static Reading take(int httpPort, EncodingSink sink, long targetPid, long controlPid)
                throws IOException, InterruptedException {
            AgentFigures figures = AgentFigures.scrape(httpPort);
            Histogram lags = sink.lagsSinceLastCall();
            OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            long gcMillis = ManagementFactory.getGarbageCollectorMXBeans().stream()
                    .mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
            return new Reading(System.nanoTime(), os.getProcessCpuTime(), systemCpuNanosOfProcess("self"),
                    cpuNanosOfProcess(targetPid), cpuNanosOfProcessIfAlive(controlPid),
                    busyNanosOfMachine(), gcMillis,
                    figures, tcpCounters(), lags, runQueueWaitNanos("self"), runQueueWaitNanos(String.valueOf(targetPid)));
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

    /** What {@link WakeLag} saw over (about) the same seconds: the share of its 1 ms slots started within 1 ms, p99 µs. */
    private record ControlLag(double withinOneMilliPercent, long p99Micros, String line) {
        static ControlLag parse(String output) {
            String line = output.lines().filter(l -> l.startsWith("WAKELAG ")).findFirst().orElse(null);
            if (line == null) {
                return new ControlLag(Double.NaN, -1, "control failed: " + output.strip());
            }
            Map<String, String> fields = new TreeMap<>();
            for (String field : line.substring("WAKELAG ".length()).split(" ")) {
                fields.put(field.substring(0, field.indexOf('=')), field.substring(field.indexOf('=') + 1));
            }
            return new ControlLag(Double.parseDouble(fields.get("within1ms")), Long.parseLong(fields.get("p99")), line);
        }
    }

    private record Window(int offeredRate, int targets, long intervalMillis, Reading before, Reading after,
                          ControlLag control) {
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

        double controlCpuCores() {
            return (after.controlCpuNanos() - before.controlCpuNanos()) / 1e9 / seconds();
        }

        /** Every other process on the machine: the build next door shares these cores with the benchmark. */
        double otherCpuCores() {
            return (after.machineBusyNanos() - before.machineBusyNanos()) / 1e9 / seconds() - cpuCores() - targetCpuCores()
                    - controlCpuCores();
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
                    "| %,d | %,d × %d ms | %,.0f | %,.0f | %,.0f | %,.0f | %.2f%% | %,.0f | %,d | %,d | %.2f%% | %,d | %.2f | %.1f | %,.0f | %.2f | %.2f | %,.0f | %s |",
                    offeredRate, targets, intervalMillis, okRate(), failedRate(),
                    after.agent().slotsSkipped() - before.agent().slotsSkipped(), droppedRate(), 100 * shareWithinLagBound(),
                    p99LagMicrosFromBuckets(), lags.getValueAtPercentile(99), lags.getValueAtPercentile(99.9),
                    control.withinOneMilliPercent(), control.p99Micros(),
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
                            + "listen overflows %d, failed connects %d; JDK %s, %d cores; "
                            + "run-queue wait ms/s of the agent's threads %s, of the target's %s; control (%.2f cores): %s",
                    seconds(), lagBuckets(), after.lagMicrosSinceLast().getValueAtPercentile(50),
                    after.lagMicrosSinceLast().getMaxValue(),
                    100.0 * (after.systemCpuNanos() - before.systemCpuNanos()) / (after.processCpuNanos() - before.processCpuNanos()),
                    after.gcMillis() - before.gcMillis(),
                    after.tcp().get("ListenOverflows") - before.tcp().get("ListenOverflows"),
                    after.tcp().get("AttemptFails") - before.tcp().get("AttemptFails"), Runtime.version(),
                    Runtime.getRuntime().availableProcessors(),
                    waitPerSecond(before.agentRunQueueWaitNanos(), after.agentRunQueueWaitNanos()),
                    waitPerSecond(before.targetRunQueueWaitNanos(), after.targetRunQueueWaitNanos()),
                    controlCpuCores(), control.line());
        }

        /** Milliseconds a second each group of threads spent runnable but waiting for a CPU, largest first. */
        private String waitPerSecond(Map<String, Long> before, Map<String, Long> after) {
            StringBuilder text = new StringBuilder("{");
            after.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / 1e6 / seconds()))
                    .filter(e -> e.getValue() >= 0.05)
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .forEach(e -> text.append(text.length() > 1 ? ", " : "").append(e.getKey()).append('=')
                            .append(String.format(Locale.ROOT, "%.1f", e.getValue())));
            return text.append('}').toString();
        }
    }

    /** The table's header, matching {@link Window#row()}. */
    private static final String HEADER = """
            | offered probes/s | targets × interval | OK probes/s | failed/s | slots skipped | samples dropped/s | lag ≤ 1 ms | p99 lag µs (buckets) | p99 lag µs (samples) | p99.9 lag µs (samples) | control: wakes ≤ 1 ms | control p99 µs | agent CPU (cores) | CPU µs/probe | agent RSS MiB | target CPU (cores) | other processes' CPU (cores) | TCP connects/s (netns) | passed |
            |---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|""";

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

    /** Like {@link #cpuNanosOfProcess}, 0 once the process has ended. */
    private static long cpuNanosOfProcessIfAlive(long pid) {
        try {
            return cpuNanosOfProcess(pid);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The system (kernel) part of a process's CPU time so far (stime). */
    private static long systemCpuNanosOfProcess(String pid) throws IOException {
        return Long.parseLong(statFields(pid)[12]) * NANOS_PER_TICK;
    }

    /**
     * Per group of threads of a process (the thread name without its digits, as the kernel keeps it:
     * 15 characters), the time they spent runnable but waiting for a CPU so far: the second field of
     * {@code /proc/PID/task/TID/schedstat}. Threads that ended meanwhile drop out.
     */
    private static Map<String, Long> runQueueWaitNanos(String pid) {
        Map<String, Long> byGroup = new TreeMap<>();
        try (var tasks = Files.list(Path.of("/proc/" + pid + "/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                try {
                    String group = Files.readString(task.resolve("comm")).trim().replaceAll("[0-9]+", "#");
                    long wait = Long.parseLong(Files.readString(task.resolve("schedstat")).trim().split(" ")[1]);
                    byGroup.merge(group, wait, Long::sum);
                } catch (IOException | RuntimeException e) {
                    // the thread ended while being read
                }
            }
        } catch (IOException e) {
            return byGroup;
        }
        return byGroup;
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
