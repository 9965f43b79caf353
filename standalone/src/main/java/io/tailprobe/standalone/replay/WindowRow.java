package io.tailprobe.standalone.replay;

import io.tailprobe.schemas.SeriesKey;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One re-aggregated window of one series and host ({@code *} fleet-wide), read as the query API reads a
 * stored window: latency figures in nanoseconds, quantiles clamped to the exact extremes.
 *
 * @param windowStartMillis the window's start, epoch milliseconds (inclusive)
 * @param windowEndMillis its end (exclusive)
 * @param sampleCount samples of every outcome
 * @param outcomeCounts samples by outcome name
 * @param latencyCount samples in the latency histogram (OK ones)
 * @param minNanos the exact minimum of the latency read, or null without OK samples
 * @param maxNanos the exact maximum, or null without OK samples
 * @param quantileNanos the value at each quantile asked for, in that order; empty without OK samples
 * @param histogram the latency's histogram (nanoseconds, 3 significant digits), tagged with the series
 */
record WindowRow(SeriesKey series, String host, long windowStartMillis, long windowEndMillis, long sampleCount, Map<String, Long> outcomeCounts,
                 long latencyCount, Long minNanos, Long maxNanos, long[] quantileNanos, Histogram histogram) {
    /** The tag of the window's interval in an HdrHistogram log: {@code target|probe|protocol|host}. */
    String tag() {
        return series.encode() + "|" + host;
    }
}
