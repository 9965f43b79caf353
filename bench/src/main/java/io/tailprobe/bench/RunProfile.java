package io.tailprobe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * Where one benchmark run's time went, from two snapshots around its measured span: the CPU of the
 * whole process (the in-process broker's threads, GC and JIT included) per group of threads, and
 * the time its Kafka clients and stream thread report for commits, flushes, polls and blocking
 * (their JMX metrics; totals as differences, averages and ratios as at the end).
 */
final class RunProfile {
    private static final List<String> TOTALS = List.of(
            // stream thread (KIP-761: blocked-time is time blocked on Kafka: poll, send, commit)
            "commit-total", "poll-total", "process-total", "punctuate-total", "blocked-time-ns-total",
            // producer: the transaction's parts under exactly-once, and what was written
            "txn-begin-time-ns-total", "txn-send-offsets-time-ns-total", "txn-commit-time-ns-total",
            "txn-abort-time-ns-total", "flush-time-ns-total", "record-send-total", "outgoing-byte-total",
            "request-total", "bufferpool-wait-time-ns-total", "metadata-wait-time-ns-total",
            // consumer
            "records-consumed-total", "bytes-consumed-total", "fetch-total", "incoming-byte-total");
    private static final List<String> AVERAGES = List.of(
            "commit-latency-avg", "poll-latency-avg", "process-latency-avg", "punctuate-latency-avg", "process-ratio",
            "poll-ratio", "commit-ratio", "punctuate-ratio", "poll-records-avg", "compression-rate-avg",
            "batch-size-avg", "record-size-avg", "records-per-request-avg", "request-latency-avg",
            "fetch-latency-avg", "fetch-size-avg", "records-per-request-avg", "poll-idle-ratio-avg",
            "time-between-poll-avg");

    private RunProfile() {}

    record Snapshot(long processCpuNanos, Map<Long, String> threadNames, Map<Long, Long> threadCpuNanos,
                    Map<String, Long> jvmCpuNanosByKind, Map<String, Double> metrics) {}

    /**
     * The CPU time so far of the JVM's own threads, which the ThreadMXBean does not list, by kind: JIT
     * (C1, C2 compiler threads), GC (G1's and Parallel's workers) and the rest of the VM, from Linux's
     * {@code /proc/self/task/<tid>/schedstat} (nanoseconds on CPU) under each thread's name; empty elsewhere.
     */
    private static Map<String, Long> jvmCpuNanosByKind() {
        Map<String, Long> byKind = new TreeMap<>();
        Path tasks = Path.of("/proc/self/task");
        if (!Files.isDirectory(tasks)) {
            return byKind;
        }
        try (var each = Files.list(tasks)) {
            each.forEach(task -> {
                try {
                    String name = Files.readString(task.resolve("comm")).strip();
                    String kind = name.matches("C\\d CompilerThre.*") ? "JIT"
                            : name.startsWith("GC Thread") || name.startsWith("G1 ") ? "GC"
                            : name.startsWith("VM ") ? "VM" : null;
                    if (kind != null) {
                        long onCpu = Long.parseLong(Files.readString(task.resolve("schedstat")).strip().split(" ")[0]);
                        byKind.merge(kind, onCpu, Long::sum);
                    }
                } catch (IOException | RuntimeException e) {
                    // the thread ended between the listing and the read
                }
            });
        } catch (IOException e) {
            return Map.of();
        }
        return byKind;
    }

    static Snapshot snapshot(String applicationId) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<Long, String> names = new HashMap<>();
        Map<Long, Long> cpu = new HashMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null) {
                names.put(info.getThreadId(), info.getThreadName());
                cpu.put(info.getThreadId(), Math.max(0, threads.getThreadCpuTime(info.getThreadId())));
            }
        }
        long process = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
        return new Snapshot(process, names, cpu, jvmCpuNanosByKind(), metrics(applicationId));
    }

    private static Map<String, Double> metrics(String applicationId) {
        Map<String, Double> values = new TreeMap<>();
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        for (String pattern : List.of("kafka.producer:type=producer-metrics,*", "kafka.consumer:type=consumer-metrics,*",
                "kafka.consumer:type=consumer-fetch-manager-metrics,*", "kafka.streams:type=stream-thread-metrics,*")) {
            try {
                Set<ObjectName> names = server.queryNames(new ObjectName(pattern), null);
                for (ObjectName name : names) {
                    String client = name.getKeyProperty("client-id") != null ? name.getKeyProperty("client-id")
                            : name.getKeyProperty("thread-id");
                    if (client == null || !client.contains(applicationId) || name.getKeyProperty("topic") != null) {
                        continue;
                    }
                    String shortClient = client.replaceAll("^.*?StreamThread-", "StreamThread-");
                    for (String attribute : concat(TOTALS, AVERAGES)) {
                        try {
                            if (server.getAttribute(name, attribute) instanceof Number number) {
                                values.put(name.getKeyProperty("type") + " " + shortClient + " " + attribute,
                                        number.doubleValue());
                            }
                        } catch (Exception absent) {
                            // not every type has every attribute
                        }
                    }
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return values;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    static void print(char run, Snapshot first, Snapshot last, long samples, long spanNanos) {
        System.out.printf(Locale.ROOT, "  (%s) profile over %.1f s, %,d samples: process CPU %.2f µs/sample (%.2f cores)%n",
                run, spanNanos / 1e9, samples, (last.processCpuNanos - first.processCpuNanos) / 1e3 / samples,
                (last.processCpuNanos - first.processCpuNanos) / (double) spanNanos);
        Map<String, Long> byGroup = new TreeMap<>();
        long javaThreads = 0;
        for (Map.Entry<Long, Long> thread : last.threadCpuNanos.entrySet()) {
            long delta = thread.getValue() - first.threadCpuNanos.getOrDefault(thread.getKey(), 0L);
            javaThreads += delta;
            String group = last.threadNames.get(thread.getKey()).replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "<uuid>")
                    .replaceAll("\\d+", "N");
            byGroup.merge(group, delta, Long::sum);
        }
        byGroup.put("(not a Java thread: GC, JIT, VM)", (last.processCpuNanos - first.processCpuNanos) - javaThreads);
        byGroup.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .filter(e -> e.getValue() / 1e3 / samples >= 0.02)
                .forEach(e -> System.out.printf(Locale.ROOT, "    %8.2f µs/sample %5.2f cores  %s%n", e.getValue() / 1e3 / samples,
                        e.getValue() / (double) spanNanos, e.getKey()));
        last.jvmCpuNanosByKind.forEach((kind, nanos) -> {
            long delta = nanos - first.jvmCpuNanosByKind.getOrDefault(kind, 0L);
            System.out.printf(Locale.ROOT, "      of which %-4s %6.2f µs/sample %5.2f cores%n", kind, delta / 1e3 / samples,
                    delta / (double) spanNanos);
        });
        for (Map.Entry<String, Double> metric : last.metrics.entrySet()) {
            String name = metric.getKey();
            boolean total = TOTALS.stream().anyMatch(name::endsWith);
            double value = total ? metric.getValue() - first.metrics.getOrDefault(name, 0.0) : metric.getValue();
            if (total && name.endsWith("-ns-total")) {
                System.out.printf(Locale.ROOT, "    %-110s %10.1f ms (%.1f%% of the span)%n", name, value / 1e6,
                        100 * value / spanNanos);
            } else if (total) {
                System.out.printf(Locale.ROOT, "    %-110s %,12.0f (%.3f per sample)%n", name, value, value / samples);
            } else if (!Double.isNaN(value)) {
                System.out.printf(Locale.ROOT, "    %-110s %12.3f%n", name, value);
            }
        }
    }
}
