package io.tailprobe.query.percentile;

import java.util.Arrays;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Counts of samples at or under latency bounds, read from an HdrHistogram: an SLO threshold, the
 * {@code le} bounds of a Prometheus histogram, the edges of heatmap rows. A sample counts as at or under
 * a bound when its histogram bucket (at most 0.1% wide) lies wholly at or under it, so a count never
 * overstates compliance, and it agrees with the quantiles: if p99 reads 200 ms, at least 99% of the
 * samples count as at or under 200 ms. Bounds are chosen at query time; the stored data never changes.
 *
 * <p>Example: 1 000 samples of 1..1000 ms and bounds {100 ms, 250 ms} count {100, 250}.
 */
public final class Thresholds {
    private Thresholds() {}

    /**
     * {@code counts[i]} = the samples of {@code histogram} at or under {@code boundsNanos[i]}.
     *
     * @param boundsNanos ascending
     */
    public static long[] cumulativeCounts(Histogram histogram, long[] boundsNanos) {
        long[] perBucket = new long[boundsNanos.length + 1];
        for (HistogramIterationValue bucket : histogram.recordedValues()) {
            // the bucket's highest equivalent value: every sample in the bucket is at or under it
            int index = Arrays.binarySearch(boundsNanos, bucket.getValueIteratedTo());
            perBucket[index >= 0 ? index : -index - 1] += bucket.getCountAtValueIteratedTo();
        }
        long[] cumulative = new long[boundsNanos.length];
        long running = 0;
        for (int i = 0; i < boundsNanos.length; i++) {
            running += perBucket[i];
            cumulative[i] = running;
        }
        return cumulative;
    }

    /** The samples of {@code histogram} at or under {@code boundNanos}. */
    public static long atOrUnder(Histogram histogram, long boundNanos) {
        return cumulativeCounts(histogram, new long[] {boundNanos})[0];
    }
}
