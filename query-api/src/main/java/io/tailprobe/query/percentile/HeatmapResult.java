package io.tailprobe.query.percentile;

import java.util.List;

/**
 * The answer to a {@link HeatmapQuery}. Bucket {@code j} holds the samples in
 * {@code (boundsMillis[j], boundsMillis[j + 1]]}; the bounds are {@code 10^(k / bucketsPerDecade)} ms
 * (rounded to the nanosecond) for consecutive integers {@code k}, just enough of them to hold every
 * sample of the whole range, so every column has the same rows and the first and last rows are not
 * empty in all of them. A sample counts in the bucket its HdrHistogram bucket (at most 0.1% wide) lies
 * in, as {@link Thresholds} counts: a sample of exactly 1 ms lies in (1, 1.26] ms. No samples: no
 * bounds, and every column's counts are empty.
 *
 * <p>Example, 10 buckets per decade: {@code "boundsMillis":[15.848932,19.952623,25.118864],
 * "columns":[{"startMillis":1795442400000,"count":1800,"counts":[1500,300]},…]}.
 */
public record HeatmapResult(String target, String probe, String protocol, List<String> protocols, String host,
                            String latency, long fromMillis, long toMillis, int resolutionSeconds, long stepSeconds,
                            int bucketsPerDecade, List<Double> boundsMillis, List<Column> columns) {
    /** One step: its samples with this latency, and how many fall in each bucket. */
    public record Column(long startMillis, long count, long[] counts) {}
}
