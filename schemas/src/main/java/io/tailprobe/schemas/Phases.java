package io.tailprobe.schemas;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The phases of a probe by the names used everywhere (histogram maps, JSON): {@code dns},
 * {@code connect}, {@code tls}, {@code requestWrite}, {@code firstByte}, {@code transfer}, in the
 * order they happen.
 */
public final class Phases {
    private Phases() {}

    /** The phases present in {@code timings}, in order, in nanoseconds; empty for null. */
    public static Map<String, Long> present(PhaseTimings timings) {
        Map<String, Long> phases = new LinkedHashMap<>();
        if (timings == null) {
            return phases;
        }
        putIfPresent(phases, "dns", timings.getDnsNanos());
        putIfPresent(phases, "connect", timings.getConnectNanos());
        putIfPresent(phases, "tls", timings.getTlsNanos());
        putIfPresent(phases, "requestWrite", timings.getRequestWriteNanos());
        putIfPresent(phases, "firstByte", timings.getFirstByteNanos());
        putIfPresent(phases, "transfer", timings.getTransferNanos());
        return phases;
    }

    private static void putIfPresent(Map<String, Long> phases, String name, Long nanos) {
        if (nanos != null) {
            phases.put(name, nanos);
        }
    }
}
