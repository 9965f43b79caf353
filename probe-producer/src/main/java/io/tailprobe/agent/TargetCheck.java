package io.tailprobe.agent;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.schemas.Phases;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code POST /check}: probes every target once, now, concurrently, with probes built afresh from
 * the running configuration (so a check never shares a probe with its pacer). Results are
 * returned, not sent to Kafka. Example row:
 * {@code {"target":"db","type":"tcp","protocol":"tcp","address":"10.0.0.7:5432","outcome":"OK","serviceTimeMillis":0.412,"phasesMillis":{"connect":0.41}}}
 */
final class TargetCheck {
    private TargetCheck() {}

    static List<Map<String, Object>> run(List<PlannedTarget> targets) throws InterruptedException {
        List<Map<String, Object>> rows = new ArrayList<>();
        try (ExecutorService probes = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Map<String, Object>>> running = new ArrayList<>();
            for (PlannedTarget target : targets) {
                running.add(probes.submit(() -> probeOnce(target)));
            }
            for (Future<Map<String, Object>> row : running) {
                try {
                    rows.add(row.get());
                } catch (ExecutionException e) {
                    throw new IllegalStateException("check failed: " + e.getCause(), e.getCause());
                }
            }
        } finally {
            targets.forEach(t -> t.probe().close());
        }
        return rows;
    }

    private static Map<String, Object> probeOnce(PlannedTarget target) throws InterruptedException {
        long start = System.nanoTime();
        ProbeResult result = target.probe().probe();
        long serviceNanos = result.latencyNanos() != null ? result.latencyNanos() : System.nanoTime() - start;
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("target", target.name());
        row.put("type", target.type());
        row.put("protocol", result.protocol() != null ? result.protocol() : target.probe().protocol());
        row.put("address", result.address());
        row.put("outcome", result.outcome().name());
        row.put("serviceTimeMillis", millis(serviceNanos));
        if (result.phases() != null) {
            Map<String, Double> phasesMillis = new LinkedHashMap<>();
            Phases.present(result.phases()).forEach((phase, nanos) -> phasesMillis.put(phase, millis(nanos)));
            row.put("phasesMillis", phasesMillis);
        }
        putIfPresent(row, "connectionReused", result.connectionReused());
        putIfPresent(row, "statusCode", result.statusCode());
        putIfPresent(row, "answerCount", result.answerCount());
        putIfPresent(row, "packetsSent", result.packetsSent());
        putIfPresent(row, "packetsReceived", result.packetsReceived());
        putIfPresent(row, "packetsReordered", result.packetsReordered());
        putIfPresent(row, "tlsCertNotAfterMillis", result.tlsCertNotAfterMillis());
        putIfPresent(row, "errorDetail", result.errorDetail());
        return row;
    }

    private static void putIfPresent(Map<String, Object> row, String key, Object value) {
        if (value != null) {
            row.put(key, value);
        }
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1_000.0) / 1_000.0;
    }
}
