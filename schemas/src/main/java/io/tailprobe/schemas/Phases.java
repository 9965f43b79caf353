package io.tailprobe.schemas;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ObjLongConsumer;

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
        forEachPresent(timings, phases::put);
        return phases;
    }

    /** Calls {@code action} with the name and nanoseconds of each phase present, in order, allocating nothing. */
    public static void forEachPresent(PhaseTimings timings, ObjLongConsumer<String> action) {
        if (timings == null) {
            return;
        }
        acceptIfPresent(action, "dns", timings.getDnsNanos());
        acceptIfPresent(action, "connect", timings.getConnectNanos());
        acceptIfPresent(action, "tls", timings.getTlsNanos());
        acceptIfPresent(action, "requestWrite", timings.getRequestWriteNanos());
        acceptIfPresent(action, "firstByte", timings.getFirstByteNanos());
        acceptIfPresent(action, "transfer", timings.getTransferNanos());
    }

    private static void acceptIfPresent(ObjLongConsumer<String> action, String name, Long nanos) {
        if (nanos != null) {
            action.accept(name, nanos);
        }
    }
}
