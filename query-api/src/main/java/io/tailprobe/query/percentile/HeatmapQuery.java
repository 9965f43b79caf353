package io.tailprobe.query.percentile;

import java.util.Objects;

/**
 * Counts per log-scaled latency bucket per step, e.g. response time from 14:00 to 15:00 in 1 min steps
 * with 10 buckets per decade (1, 1.26, 1.58, 2, 2.51, … ms).
 *
 * @param stepSeconds the step, a multiple of the resolution read; 0 chooses one as for a time series
 * @param bucketsPerDecade how many buckets each factor of ten is cut into, 1..{@value #MAX_BUCKETS_PER_DECADE}
 */
public record HeatmapQuery(SeriesRange range, Latency latency, long stepSeconds, int bucketsPerDecade) {
    public static final int DEFAULT_BUCKETS_PER_DECADE = 10;
    public static final int MAX_BUCKETS_PER_DECADE = 50;

    public HeatmapQuery {
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(latency, "latency");
        if (bucketsPerDecade < 1 || bucketsPerDecade > MAX_BUCKETS_PER_DECADE) {
            throw new IllegalArgumentException("bucketsPerDecade must be in [1, " + MAX_BUCKETS_PER_DECADE + "], got "
                    + bucketsPerDecade);
        }
    }
}
