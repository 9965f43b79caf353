package io.tailprobe.query.percentile;

import java.util.List;
import java.util.Map;

/**
 * The answer to a {@link TimeSeriesQuery}: one point per step, oldest first, including steps without
 * windows (count 0, no quantiles) so a chart shows gaps as gaps. {@code fromMillis} is the start of the
 * first step (the requested start floored to the step), {@code toMillis} the requested end.
 */
public record TimeSeriesResult(String target, String probe, String protocol, List<String> protocols, String host,
                               String latency, long fromMillis, long toMillis, int resolutionSeconds, long stepSeconds,
                               List<Point> points) {
    /**
     * One step: the windows that start in it, every sample's outcome, and the latency's summary, e.g.
     * {@code {"startMillis":1795442400000,"windows":6,"count":1806,"outcomes":{"OK":1800,"TIMEOUT":6},
     * "latency":{"count":1800,…,"quantilesMillis":{"0.99":41.2}}}}.
     */
    public record Point(long startMillis, int windows, long count, Map<String, Long> outcomes, LatencySummary latency) {}
}
