package io.tailprobe.query.percentile;

import java.util.List;
import java.util.Objects;

/**
 * Quantiles of one latency per step over a range, for charts, e.g. the fleet-wide p50/p99 of response
 * time from 14:00 to 15:00 in 1 min steps.
 *
 * @param stepSeconds the step, a multiple of the resolution read; 0 chooses one (see {@link PercentileService#timeSeries})
 */
public record TimeSeriesQuery(SeriesRange range, Latency latency, long stepSeconds, List<Double> quantiles) {
    public TimeSeriesQuery {
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(latency, "latency");
        quantiles = List.copyOf(quantiles);
    }
}
