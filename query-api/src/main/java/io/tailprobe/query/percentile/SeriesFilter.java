package io.tailprobe.query.percentile;

import io.tailprobe.query.store.SeriesInfo;
import java.util.Map;

/**
 * Filters for listing series; a null field matches everything, and a series matches {@code labels}
 * when it carries every one of them with the same value, e.g.
 * {@code new SeriesFilter("db", null, null, "*", Map.of("region", "eu-west-1"))}.
 */
public record SeriesFilter(String target, String probeType, String protocol, String host, Map<String, String> labels) {
    public static final SeriesFilter ALL = new SeriesFilter(null, null, null, null, Map.of());

    public SeriesFilter {
        labels = labels == null ? Map.of() : Map.copyOf(labels);
    }

    public boolean matches(SeriesInfo info) {
        return (target == null || target.equals(info.target()))
                && (probeType == null || probeType.equals(info.probeType()))
                && (protocol == null || protocol.equals(info.protocol()))
                && (host == null || host.equals(info.host()))
                && info.labels().entrySet().containsAll(labels.entrySet());
    }
}
