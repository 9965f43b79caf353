package io.tailprobe.query.percentile;

import java.util.Objects;

/**
 * A service-level question over a range, e.g. "99% of response times at or under 200 ms over the last
 * 30 days": {@code new SloQuery(range, Latency.RESPONSE, 200_000_000L, 0.99)}.
 *
 * @param thresholdNanos the latency a good sample is at or under, > 0
 * @param objective the fraction of good samples aimed at, in (0, 1); null for none (no error budget)
 */
public record SloQuery(SeriesRange range, Latency latency, long thresholdNanos, Double objective) {
    public SloQuery {
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(latency, "latency");
        if (thresholdNanos <= 0) {
            throw new IllegalArgumentException("thresholdNanos must be > 0, got " + thresholdNanos);
        }
        if (objective != null && !(objective > 0.0 && objective < 1.0)) {
            throw new IllegalArgumentException("objective must be in (0, 1), got " + objective);
        }
    }
}
