package io.tailprobe.query.percentile;

import java.util.Map;

/**
 * One latency (service or response time) over every merged window, in milliseconds rounded to the
 * microsecond, e.g. {@code {"count":1200,"minMillis":1.012,"maxMillis":250.4,"meanMillis":20.3,
 * "quantilesMillis":{"0.5":19.995,"0.99":121.03}}}. Min and max are exact; quantiles are within 0.1%
 * (HdrHistogram at 3 significant digits) and clamped to [min, max]. With no OK sample, count is 0,
 * min/max/mean are null and the quantiles are empty.
 *
 * @param count the OK samples behind the histogram
 * @param quantilesMillis keyed by the quantile as written in the shortest form ("0.5", "0.999", "1")
 */
public record LatencySummary(long count, Double minMillis, Double maxMillis, Double meanMillis,
                             Map<String, Double> quantilesMillis) {
    public static final LatencySummary EMPTY = new LatencySummary(0, null, null, null, Map.of());
}
