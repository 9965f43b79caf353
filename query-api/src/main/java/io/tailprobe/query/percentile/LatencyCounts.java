package io.tailprobe.query.percentile;

import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * One latency of some windows added up, as {@link MergedLatency} adds it, but kept as one dense array
 * of HdrHistogram bucket counts spanning only the buckets between the smallest and largest value
 * (a day of a 5 ms series at 3 significant digits: ~4,000 buckets, 32 KB), and summarized in one pass:
 * the mean and every quantile from one walk over those buckets. Adding two of them is adding two arrays.
 *
 * <p>Every figure is the one {@link MergedLatency#summary} gives for the same windows, to the bit: the
 * quantiles follow HdrHistogram's {@code getValueAtPercentile} and the mean {@link MergedLatency#meanNanos}
 * step for step ({@code LatencyCountsTest}).
 */
final class LatencyCounts {
    /** Only for HdrHistogram's bucket arithmetic (equivalent values), never recorded into. */
    private static final Histogram LAYOUT = new Histogram(LatencyHistograms.LOWEST_DISCERNIBLE_VALUE_NANOS,
            2 * LatencyHistograms.LOWEST_DISCERNIBLE_VALUE_NANOS, LatencyHistograms.NUMBER_OF_SIGNIFICANT_VALUE_DIGITS);
    private static final long[] NONE = new long[0];
    /** Each thread's list for {@link #compactOf}, grown to the largest window it read: only the copies it makes are new. */
    private static final ThreadLocal<BucketList> SCRATCH = ThreadLocal.withInitial(BucketList::new);
    /** log2 of the width of the lowest buckets: 512 ns, the power of two at or below the 1 µs lowest discernible value. */
    private static final int UNIT_MAGNITUDE = 9;

    /** counts[i] is the count of bucket offset + i: how an open sum holds its counts. */
    private long[] counts = NONE;
    /**
     * How a {@link #compact} copy may hold them instead, whichever is smallest: {@code denseInts[i]} the
     * count of bucket offset + i, or {@code sparseCounts[i]} the count of bucket {@code sparseIndexes[i]}
     * (a 10 s window of 100 samples spread over 3,000 buckets: 800 bytes instead of 24 KB).
     */
    private int[] denseInts;
    private int[] sparseIndexes;
    private int[] sparseCounts;
    /** A {@link #compact} copy: shared by a cache, so never added to. */
    private boolean compactCopy;
    private int offset;
    private int lowestIndex = Integer.MAX_VALUE;
    private int highestIndex = -1;
    private long total;
    private Long exactMinNanos;
    private Long exactMaxNanos;
    /** The buckets {@link #expect}ed and not yet made room for. */
    private int expectedLowIndex = Integer.MAX_VALUE;
    private int expectedHighIndex = -1;

    /**
     * Adds {@code latency} of {@code window}: its buckets, straight from the encoded bytes, and its exact
     * extremes. The array grows once for the window, to the buckets of its exact extremes where it has them.
     */
    LatencyCounts add(WindowedHistogram window, Latency latency) {
        requireOpen();
        ByteBuffer encoded = latency.histogram(window);
        if (encoded != null && encoded.hasRemaining()) {
            expect(window, latency);
            LatencyHistograms.forEachBucket(encoded, this::addBucket);
        }
        addExtremes(latency.exactMinNanos(window), latency.exactMaxNanos(window));
        return this;
    }

    LatencyCounts add(LatencyCounts other) {
        requireOpen();
        if (other.total > 0) {
            include(other.lowestIndex, other.highestIndex);
            int from = other.lowestIndex - other.offset;
            int to = other.highestIndex - other.offset;
            int shift = other.offset - offset;
            if (other.sparseIndexes != null) {
                int[] indexes = other.sparseIndexes;
                int[] sparse = other.sparseCounts;
                for (int i = 0; i < indexes.length; i++) {
                    counts[indexes[i] - offset] += sparse[i];
                }
            } else if (other.denseInts != null) {
                int[] ints = other.denseInts;
                for (int i = from; i <= to; i++) {
                    counts[i + shift] += ints[i];
                }
            } else {
                for (int i = from; i <= to; i++) {
                    counts[i + shift] += other.counts[i];
                }
            }
            total += other.total;
            lowestIndex = Math.min(lowestIndex, other.lowestIndex);
            highestIndex = Math.max(highestIndex, other.highestIndex);
        }
        addExtremes(other.exactMinNanos, other.exactMaxNanos);
        return this;
    }

    /**
     * Says that buckets {@code lowIndex..highIndex} are coming: the array is sized for them when it is
     * next made or grown, so adding many sums or windows of known extent allocates it once instead of
     * growing it step by step (a bucket outside still grows it, so this is only ever a hint).
     */
    LatencyCounts expect(int lowIndex, int highIndex) {
        requireOpen();
        if (lowIndex <= highIndex) {
            expectedLowIndex = Math.min(expectedLowIndex, lowIndex);
            expectedHighIndex = Math.max(expectedHighIndex, highIndex);
        }
        return this;
    }

    /** As {@link #expect(int, int)}, for the buckets of {@code window}'s exact extremes of {@code latency}, where it has them. */
    LatencyCounts expect(WindowedHistogram window, Latency latency) {
        Long minNanos = latency.exactMinNanos(window);
        Long maxNanos = latency.exactMaxNanos(window);
        if (minNanos != null && maxNanos != null && minNanos >= 0) {
            expect(LatencyHistograms.countsIndex(minNanos), LatencyHistograms.countsIndex(maxNanos));
        }
        return this;
    }

    /** As {@link #expect(int, int)}, for the buckets {@code other} holds. */
    LatencyCounts expect(LatencyCounts other) {
        return other.total > 0 ? expect(other.lowestIndex, other.highestIndex) : this;
    }

    int lowestIndex() {
        return lowestIndex;
    }

    int highestIndex() {
        return highestIndex;
    }

    /**
     * A copy holding exactly the buckets between the lowest and highest non-empty one, in the least
     * memory: dense or sparse {@code int} counts when every count fits, else dense {@code long}s. What a
     * cache keeps; it can be added to others but not added to.
     */
    LatencyCounts compact() {
        LatencyCounts copy = new LatencyCounts();
        copy.compactCopy = true;
        if (total > 0) {
            int from = lowestIndex - offset;
            int to = highestIndex - offset;
            int nonEmpty = 0;
            long largest = 0;
            for (int i = from; i <= to; i++) {
                if (counts[i] != 0) {
                    nonEmpty++;
                    largest = Math.max(largest, counts[i]);
                }
            }
            copy.offset = lowestIndex;
            if (largest > Integer.MAX_VALUE) {
                copy.counts = Arrays.copyOfRange(counts, from, to + 1);
            } else if (sparseIsSmaller(nonEmpty, lowestIndex, highestIndex)) {
                copy.sparseIndexes = new int[nonEmpty];
                copy.sparseCounts = new int[nonEmpty];
                for (int i = from, k = 0; i <= to; i++) {
                    if (counts[i] != 0) {
                        copy.sparseIndexes[k] = i + offset;
                        copy.sparseCounts[k++] = (int) counts[i];
                    }
                }
            } else {
                copy.denseInts = new int[to - from + 1];
                for (int i = from; i <= to; i++) {
                    copy.denseInts[i - from] = (int) counts[i];
                }
            }
        }
        copy.lowestIndex = lowestIndex;
        copy.highestIndex = highestIndex;
        copy.total = total;
        copy.exactMinNanos = exactMinNanos;
        copy.exactMaxNanos = exactMaxNanos;
        return copy;
    }

    /**
     * {@code latency} of one window as {@code new LatencyCounts().add(window, latency).compact()} gives
     * it, to the form and the count, but read straight from the window's bytes into the compact form:
     * no dense array of every bucket between its extremes to fill and scan (a 10 s window of 100
     * samples spreads over ~3,000 buckets). What a kept run of one window holds.
     */
    static LatencyCounts compactOf(WindowedHistogram window, Latency latency) {
        ByteBuffer encoded = latency.histogram(window);
        LatencyCounts copy;
        if (encoded == null || !encoded.hasRemaining()) {
            copy = new LatencyCounts().compact();
        } else {
            BucketList buckets = SCRATCH.get().clear();
            LatencyHistograms.forEachBucket(encoded, buckets);
            if (!buckets.fitsSparse) { // a count past an int, or buckets out of order: the general way
                return new LatencyCounts().add(window, latency).compact();
            }
            copy = buckets.compact();
        }
        copy.addExtremes(latency.exactMinNanos(window), latency.exactMaxNanos(window));
        return copy;
    }

    /** A window's non-empty buckets in index order, as int pairs, while every count fits an int. */
    private static final class BucketList implements LatencyHistograms.BucketVisitor {
        private int[] indexes = new int[1_024];
        private int[] counts = new int[1_024];
        private int size;
        private long total;
        private boolean fitsSparse;

        BucketList clear() {
            size = 0;
            total = 0;
            fitsSparse = true;
            return this;
        }

        @Override
        public void bucket(int index, long count) {
            if (size > 0 && index <= indexes[size - 1] || count > Integer.MAX_VALUE) {
                fitsSparse = false;
                return;
            }
            if (size == indexes.length) {
                indexes = Arrays.copyOf(indexes, 2 * size);
                counts = Arrays.copyOf(counts, 2 * size);
            }
            indexes[size] = index;
            counts[size++] = (int) count;
            total += count;
        }

        /** The form {@link LatencyCounts#compact()} picks for these buckets ({@link #sparseIsSmaller}). */
        LatencyCounts compact() {
            LatencyCounts copy = new LatencyCounts();
            copy.compactCopy = true;
            if (total > 0) {
                int lowest = indexes[0];
                int highest = indexes[size - 1];
                copy.offset = lowest;
                if (sparseIsSmaller(size, lowest, highest)) {
                    copy.sparseIndexes = Arrays.copyOf(indexes, size);
                    copy.sparseCounts = Arrays.copyOf(counts, size);
                } else {
                    copy.denseInts = new int[highest - lowest + 1];
                    for (int i = 0; i < size; i++) {
                        copy.denseInts[indexes[i] - lowest] = counts[i];
                    }
                }
                copy.lowestIndex = lowest;
                copy.highestIndex = highest;
                copy.total = total;
            }
            return copy;
        }
    }

    /**
     * Whether {@code nonEmpty} buckets between {@code lowestIndex} and {@code highestIndex} take less
     * memory as sparse index and count pairs than as dense counts: under half of the span is non-empty.
     */
    private static boolean sparseIsSmaller(int nonEmpty, int lowestIndex, int highestIndex) {
        return 2L * nonEmpty < highestIndex - lowestIndex + 1L;
    }

    /** The heap this holds, roughly: what a cache counts against its budget. */
    long bytes() {
        return 96L + 8L * counts.length + (denseInts == null ? 0 : 4L * denseInts.length)
                + (sparseIndexes == null ? 0 : 8L * sparseIndexes.length);
    }

    /** How the counts are held: "open", or a compact copy's "sparse ints", "dense ints" or "dense longs". */
    String form() {
        return !compactCopy ? "open" : sparseIndexes != null ? "sparse ints" : denseInts != null ? "dense ints"
                : "dense longs";
    }

    long count() {
        return total;
    }

    private void addBucket(int index, long count) {
        include(index, index);
        counts[index - offset] += count;
        total += count;
        if (index < lowestIndex) {
            lowestIndex = index;
        }
        if (index > highestIndex) {
            highestIndex = index;
        }
    }

    private void addExtremes(Long minNanos, Long maxNanos) {
        if (minNanos != null) {
            exactMinNanos = exactMinNanos == null ? minNanos : Math.min(exactMinNanos, minNanos);
        }
        if (maxNanos != null) {
            exactMaxNanos = exactMaxNanos == null ? maxNanos : Math.max(exactMaxNanos, maxNanos);
        }
    }

    /** Grows the array to hold buckets lowIndex..highIndex, with slack on the side it grows so growing stays rare. */
    private void include(int lowIndex, int highIndex) {
        requireOpen();
        if (expectedLowIndex <= expectedHighIndex) {
            lowIndex = Math.min(lowIndex, expectedLowIndex);
            highIndex = Math.max(highIndex, expectedHighIndex);
            expectedLowIndex = Integer.MAX_VALUE;
            expectedHighIndex = -1;
        }
        if (counts.length == 0) {
            counts = new long[Math.max(highIndex - lowIndex + 1, 64)];
            offset = Math.max(0, lowIndex - (counts.length - (highIndex - lowIndex + 1)) / 2);
            return;
        }
        int end = offset + counts.length;
        if (lowIndex >= offset && highIndex < end) {
            return;
        }
        int length = counts.length;
        int newOffset = offset;
        int newEnd = end;
        if (lowIndex < offset) {
            newOffset = Math.max(0, Math.min(lowIndex, offset - length / 2));
        }
        if (highIndex >= end) {
            newEnd = Math.max(highIndex + 1, end + length / 2);
        }
        long[] grown = new long[newEnd - newOffset];
        System.arraycopy(counts, 0, grown, offset - newOffset, length);
        counts = grown;
        offset = newOffset;
    }

    private void requireOpen() {
        if (compactCopy) {
            throw new IllegalStateException("a compact copy is not added to");
        }
    }

    /** These counts as an open sum: itself, or a compact copy added into an empty one. */
    private LatencyCounts open() {
        return denseInts == null && sparseIndexes == null ? this : new LatencyCounts().add(this);
    }

    /**
     * HdrHistogram's {@code medianEquivalentValue} of bucket {@code index}, whose lowest value is
     * {@code lowestValue}: the bucket's lowest value plus half its width, {@code 2^(unit magnitude +
     * bucket)} for buckets 1.. of 1024 sub-buckets each (bucket 0 has 2048 of the same width as bucket 1).
     */
    private static long medianEquivalentValue(int index, long lowestValue) {
        int bucket = Math.max(0, (index >> 10) - 1);
        return lowestValue + ((1L << (UNIT_MAGNITUDE + bucket)) >> 1);
    }

    /** The histogram's minimum as {@code Histogram.getMinValue()} gives it. */
    private long histogramMinNanos() {
        return LatencyHistograms.valueAtIndex(lowestIndex);
    }

    /** The histogram's maximum as {@code Histogram.getMaxValue()} gives it. */
    private long histogramMaxNanos() {
        long value = LatencyHistograms.valueAtIndex(highestIndex);
        return value == 0 ? 0 : LAYOUT.highestEquivalentValue(value);
    }

    /**
     * Count, exact extremes (else the histogram's), mean and the quantiles, as {@link MergedLatency#summary}
     * gives them; one walk over the buckets.
     */
    LatencySummary summary(List<Double> quantiles) {
        if (total == 0) {
            return LatencySummary.EMPTY;
        }
        if (denseInts != null || sparseIndexes != null) {
            return open().summary(quantiles);
        }
        long minNanos = exactMinNanos != null ? exactMinNanos : histogramMinNanos();
        long maxNanos = exactMaxNanos != null ? exactMaxNanos : histogramMaxNanos();
        // HdrHistogram's getValueAtPercentile: the first bucket at which the running count reaches
        // ceil(percentile' × total / 100), percentile' one ulp below the asked one
        int inside = 0;
        double[] percentiles = new double[quantiles.size()];
        long[] wanted = new long[quantiles.size()];
        for (int q = 0; q < quantiles.size(); q++) {
            double quantile = quantiles.get(q);
            if (quantile > 0.0 && quantile < 1.0) {
                double percentile = quantile * 100.0;
                double requested = Math.min(Math.max(Math.nextAfter(percentile, Double.NEGATIVE_INFINITY), 0.0D), 100.0D);
                wanted[q] = Math.max((long) Math.ceil(requested * total / 100.0), 1);
                percentiles[q] = percentile;
                inside++;
            }
        }
        Integer[] order = new Integer[quantiles.size()];
        for (int q = 0; q < order.length; q++) {
            order[q] = q;
        }
        Arrays.sort(order, (a, b) -> Long.compare(wanted[a], wanted[b]));
        long[] valueNanos = new long[quantiles.size()];
        int next = order.length - inside; // quantiles outside (0, 1) sort first, with wanted 0
        double totalNanos = 0;
        long running = 0;
        for (int index = lowestIndex; index <= highestIndex; index++) {
            long count = counts[index - offset];
            if (count == 0) {
                continue;
            }
            long value = LatencyHistograms.valueAtIndex(index);
            totalNanos += medianEquivalentValue(index, value) * (double) count;
            running += count;
            while (next < order.length && running >= wanted[order[next]]) {
                valueNanos[order[next]] = LAYOUT.highestEquivalentValue(value);
                next++;
            }
        }
        Map<String, Double> quantilesMillis = new LinkedHashMap<>();
        for (int q = 0; q < quantiles.size(); q++) {
            double quantile = quantiles.get(q);
            long nanos = quantile <= 0.0 ? minNanos : quantile >= 1.0 ? maxNanos
                    : Math.clamp(valueNanos[q], minNanos, maxNanos);
            quantilesMillis.put(PercentileService.quantileKey(quantile), PercentileService.millis(nanos));
        }
        return new LatencySummary(total, PercentileService.millis(minNanos), PercentileService.millis(maxNanos),
                PercentileService.millis(totalNanos / total), quantilesMillis);
    }
}
