package io.tailprobe.schemas;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A latency histogram with {@link LatencyHistograms}' buckets, holding only its non-empty ones:
 * sorted bucket indexes and their counts. One host's 10 s window of a series has a dozen samples
 * in a handful of buckets, a fleet-wide hour a few thousand buckets; an HdrHistogram allocates all
 * ~16,000 of its range (128 KB) up front, and its packed variant pays a tree walk for every count it
 * reads or adds. Here recording is a binary search, adding two histograms is a merge of sorted
 * arrays, and encoding writes HdrHistogram's own V2 format straight from the buckets
 * ({@link LatencyHistograms#encodeBuckets}): the same values give the same bytes as a Histogram.
 */
public final class BucketCounts {
    private int[] indexes;
    private long[] counts;
    private int size;
    /** Counts added but not merged in yet; see {@link #addAll}. */
    private BucketCounts pending;
    private static final int PENDING_FRACTION = 8;

    public BucketCounts() {
        this(4);
    }

    private BucketCounts(int capacity) {
        indexes = new int[capacity];
        counts = new long[capacity];
    }

    /** Reads either of HdrHistogram's V2 encodings (as {@link LatencyHistograms#decode}). */
    public static BucketCounts decode(ByteBuffer encoded) {
        BucketCounts buckets = new BucketCounts();
        LatencyHistograms.forEachBucket(encoded, buckets::add);
        return buckets;
    }

    /** Records one latency; values below 0 count as 0, as in {@link LatencyHistograms#record}. */
    public void record(long valueNanos) {
        add(LatencyHistograms.countsIndex(Math.max(valueNanos, 0L)), 1);
    }

    /**
     * Adds every count of {@code other} (exact). A small histogram added to a large one (a host's 10 s
     * window into its hour) waits in a side buffer, merged in once the buffer reaches an eighth of
     * this one's buckets, so a rollup of n windows costs O(n), not O(n²), array copying.
     */
    public void addAll(BucketCounts other) {
        other.settle();
        if (other.size == 0) {
            return;
        }
        if (size == 0 || other.indexes[0] > indexes[size - 1]) {
            ensureCapacity(size + other.size);
            System.arraycopy(other.indexes, 0, indexes, size, other.size);
            System.arraycopy(other.counts, 0, counts, size, other.size);
            size += other.size;
        } else if (other.size * PENDING_FRACTION >= size) {
            mergeIn(other);
        } else {
            if (pending == null) {
                pending = new BucketCounts();
            }
            pending.addAll(other);
            if (pending.size * PENDING_FRACTION >= size) {
                settle();
            }
        }
    }

    /** Merges the side buffer in. */
    private void settle() {
        if (pending != null) {
            BucketCounts merging = pending;
            pending = null;
            merging.settle();
            mergeIn(merging);
        }
    }

    /** Merges {@code other}'s buckets in, in place from the back, so the arrays only grow by doubling. */
    private void mergeIn(BucketCounts other) {
        int distinct = size;
        for (int i = 0, j = 0; j < other.size; ) {
            if (i < size && indexes[i] < other.indexes[j]) {
                i++;
            } else {
                if (i == size || indexes[i] != other.indexes[j]) {
                    distinct++;
                }
                j++;
            }
        }
        ensureCapacity(distinct);
        int i = size - 1;
        int j = other.size - 1;
        for (int n = distinct - 1; j >= 0; n--) {
            if (i >= 0 && indexes[i] > other.indexes[j]) {
                indexes[n] = indexes[i];
                counts[n] = counts[i--];
            } else if (i >= 0 && indexes[i] == other.indexes[j]) {
                indexes[n] = indexes[i];
                counts[n] = counts[i--] + other.counts[j--];
            } else {
                indexes[n] = other.indexes[j];
                counts[n] = other.counts[j--];
            }
        }
        size = distinct;
    }

    public long totalCount() {
        settle();
        long total = 0;
        for (int i = 0; i < size; i++) {
            total += counts[i];
        }
        return total;
    }

    /** Non-empty buckets. */
    public int buckets() {
        settle();
        return size;
    }

    /** HdrHistogram's V2 encoding of these counts ({@link LatencyHistograms#encodeBuckets}). */
    public byte[] encode() {
        settle();
        return LatencyHistograms.encodeBuckets(indexes, counts, size);
    }

    private void add(int index, long count) {
        if (size > 0 && indexes[size - 1] < index) { // values mostly arrive in no order, but appends are cheap
            append(index, count);
            return;
        }
        int at = Arrays.binarySearch(indexes, 0, size, index);
        if (at >= 0) {
            counts[at] += count;
            return;
        }
        int insertAt = -at - 1;
        ensureCapacity(size + 1);
        System.arraycopy(indexes, insertAt, indexes, insertAt + 1, size - insertAt);
        System.arraycopy(counts, insertAt, counts, insertAt + 1, size - insertAt);
        indexes[insertAt] = index;
        counts[insertAt] = count;
        size++;
    }

    private void append(int index, long count) {
        ensureCapacity(size + 1);
        indexes[size] = index;
        counts[size++] = count;
    }

    private void ensureCapacity(int capacity) {
        if (indexes.length < capacity) {
            int grown = Math.max(capacity, indexes.length * 2);
            indexes = Arrays.copyOf(indexes, grown);
            counts = Arrays.copyOf(counts, grown);
        }
    }
}
