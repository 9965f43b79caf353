package io.tailprobe.query.percentile;

/**
 * The log-scaled bucket bounds of a heatmap: bound {@code k} is {@code 10^(k / n)} ms rounded to the
 * nanosecond for {@code n} buckets per decade, e.g. with n = 10 bound 0 is 1 ms, bound 3 is
 * 1.995262 ms, bound -10 is 0.1 ms.
 */
final class HeatmapBounds {
    private HeatmapBounds() {}

    static long boundNanos(int k, int bucketsPerDecade) {
        return Math.round(Math.pow(10.0, 6.0 + (double) k / bucketsPerDecade));
    }

    /** The smallest {@code k} whose bound is at or above {@code valueNanos} (≥ 1 ns). */
    static int index(long valueNanos, int bucketsPerDecade) {
        int k = (int) Math.ceil(bucketsPerDecade * (Math.log10(valueNanos) - 6.0));
        while (boundNanos(k, bucketsPerDecade) < valueNanos) {
            k++;
        }
        while (boundNanos(k - 1, bucketsPerDecade) >= valueNanos) {
            k--;
        }
        return k;
    }
}
