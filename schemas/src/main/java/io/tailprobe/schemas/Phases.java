package io.tailprobe.schemas;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The phases of a probe by the names used everywhere (histogram maps, JSON): {@code dns},
 * {@code connect}, {@code tls}, {@code requestWrite}, {@code firstByte}, {@code transfer}, in the
 * order they happen.
 */
public final class Phases {
    private Phases() {}

    /** Every phase name, in the order phases happen. */
    public static final List<String> NAMES = List.of("dns", "connect", "tls", "requestWrite", "firstByte", "transfer");

    /** The phases present in {@code timings}, in order, in nanoseconds; empty for null. */
    public static Map<String, Long> present(PhaseTimings timings) {
        Map<String, Long> phases = new LinkedHashMap<>();
        for (int i = 0; timings != null && i < NAMES.size(); i++) {
            Long nanos = nanos(timings, i);
            if (nanos != null) {
                phases.put(NAMES.get(i), nanos);
            }
        }
        return phases;
    }

    /** The nanoseconds of phase {@code index} (of {@link #NAMES}) in {@code timings}, null when absent. */
    public static Long nanos(PhaseTimings timings, int index) {
        return switch (index) {
            case 0 -> timings.getDnsNanos();
            case 1 -> timings.getConnectNanos();
            case 2 -> timings.getTlsNanos();
            case 3 -> timings.getRequestWriteNanos();
            case 4 -> timings.getFirstByteNanos();
            case 5 -> timings.getTransferNanos();
            default -> throw new IndexOutOfBoundsException("phase index " + index + " of " + NAMES.size());
        };
    }
}
