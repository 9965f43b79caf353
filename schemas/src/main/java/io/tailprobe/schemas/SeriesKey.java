package io.tailprobe.schemas;

import java.util.Objects;

/**
 * A series: one target over one probe type and protocol, e.g. {@code db-primary|tcp|tcp}.
 * The key of {@code latency.samples}, so every host's samples of a series meet in one
 * partition and the fleet-wide merge needs no repartition.
 */
public record SeriesKey(String target, String probeType, String protocol) {
    public static final char SEPARATOR = '|';

    public SeriesKey {
        requireClean("target", target);
        requireClean("probeType", probeType);
        requireClean("protocol", protocol);
    }

    public static SeriesKey of(LatencySample sample) {
        return new SeriesKey(sample.getTarget(), sample.getProbeType(), sample.getProtocol());
    }

    public static SeriesKey of(WindowedHistogram histogram) {
        return new SeriesKey(histogram.getTarget(), histogram.getProbeType(), histogram.getProtocol());
    }

    /** The Kafka record key. */
    public String encode() {
        return target + SEPARATOR + probeType + SEPARATOR + protocol;
    }

    @Override
    public String toString() {
        return encode();
    }

    /** Rejects names that would make keys ambiguous; used to validate configuration too. */
    public static void requireClean(String field, String value) {
        Objects.requireNonNull(value, field);
        if (value.isEmpty()) {
            throw new IllegalArgumentException(field + " must not be empty");
        }
        if (value.indexOf(SEPARATOR) >= 0) {
            throw new IllegalArgumentException(field + " must not contain '" + SEPARATOR + "', got \"" + value + "\"");
        }
    }
}
