package io.tailprobe.query.samples;

import io.tailprobe.schemas.SeriesKey;
import java.util.List;

/**
 * Which raw samples to read back, already validated: those of {@code series} (one per protocol) whose
 * scheduled start lies in {@code [fromMillis, toMillis)}, optionally of one host, at most {@code limit}.
 *
 * @param host an agent id, or null for every host
 */
public record SampleQuery(List<SeriesKey> series, String host, long fromMillis, long toMillis, int limit) {
    public SampleQuery {
        series = List.copyOf(series);
        if (series.isEmpty()) {
            throw new IllegalArgumentException("series must not be empty");
        }
        if (toMillis <= fromMillis) {
            throw new IllegalArgumentException("toMillis must be > fromMillis, got " + fromMillis + ".." + toMillis);
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be >= 1, got " + limit);
        }
    }
}
