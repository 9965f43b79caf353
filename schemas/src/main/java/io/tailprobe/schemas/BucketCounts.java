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
    /** Sparse form: the non-empty buckets' indexes, ascending (null while dense). */
    private int[] indexes;
    /** Sparse form: their counts (null while dense). */
    private long[] counts;
    /** Non-empty buckets, in either form. */
    private int size;
    /** Counts added but not merged in yet; see {@link #addAll}. Sparse form only. */
    private BucketCounts pending;
    private static final int PENDING_FRACTION = 8;
    /**
     * Dense form: the count of bucket {@code denseBase + i} at {@code dense[i]}, or null while sparse. A
     * large histogram (a fleet-wide window, a rollup) turns dense once it has {@link #DENSE_MIN_BUCKETS}
     * buckets filling at least 1/{@link #DENSE_MAX_SPREAD} of their range: adding a window into it is
     * then one array increment per bucket instead of a merge of sorted arrays. At 3 significant digits
     * a latency spread of 0.1..10 ms fills most of its ~4,000 buckets once a few thousand samples are
     * in, so the dense array is about as large as the sparse pair of arrays it replaces.
     */
    private long[] dense;
    private int denseBase;
    private static final int DENSE_MIN_BUCKETS = 256;
    private static final int DENSE_MAX_SPREAD = 4;

    public BucketCounts() {
        this(4);
    }

    private BucketCounts(int capacity) {
        indexes = new int[capacity];
        counts = new long[capacity];
    }

    /**
     * The counts of ascending, distinct bucket indexes: the first {@code size} of each array, copied. Sparse
     * whatever its size, as a window made whole at its close is encoded next; a histogram it is added into
     * turns dense by its own rule.
     */
    public static BucketCounts ofSorted(int[] bucketIndexes, long[] bucketCounts, int size) {
        BucketCounts buckets = new BucketCounts(Math.max(4, size));
        System.arraycopy(bucketIndexes, 0, buckets.indexes, 0, size);
        System.arraycopy(bucketCounts, 0, buckets.counts, 0, size);
        buckets.size = size;
        return buckets;
    }

    /** Reads either of HdrHistogram's V2 encodings (as {@link LatencyHistograms#decode}). */
    public static BucketCounts decode(ByteBuffer encoded) {
        BucketCounts buckets = new BucketCounts();
        LatencyHistograms.forEachBucket(encoded, buckets::add);
        return buckets;
    }

    /**
     * Makes room for {@code buckets} more buckets at once, when about that many values are to be
     * recorded next: the arrays then grow once, not by doubling from a few.
     */
    public void reserve(int buckets) {
        if (dense == null) {
            ensureCapacity(size + buckets);
        }
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
        if (dense != null) {
            other.forEachBucket(this::add);
            return;
        }
        if (other.dense != null) {
            if (size == 0) {
                dense = other.dense.clone();
                denseBase = other.denseBase;
                size = other.size;
                indexes = null;
                counts = null;
            } else {
                settle();
                BucketCounts merging = new BucketCounts(other.size);
                other.forEachBucket(merging::append);
                mergeIn(merging);
                maybeDense();
            }
            return;
        }
        if (size == 0 || other.indexes[0] > indexes[size - 1]) {
            ensureCapacity(size + other.size);
            System.arraycopy(other.indexes, 0, indexes, size, other.size);
            System.arraycopy(other.counts, 0, counts, size, other.size);
            size += other.size;
            maybeDense();
        } else if (other.size * PENDING_FRACTION >= size) {
            mergeIn(other);
            maybeDense();
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

    /** Merges the side buffer in; the buffer stays, emptied, for the next windows (its arrays reused). */
    private void settle() {
        if (pending != null && pending.size > 0) {
            BucketCounts merging = pending;
            pending = null;
            merging.settle();
            if (dense != null) {
                merging.forEachBucket(this::add);
            } else {
                mergeIn(merging);
                maybeDense();
            }
            if (dense == null) {
                merging.clear();
                pending = merging;
            }
        }
    }

    private void clear() {
        if (dense != null) {
            dense = null;
            indexes = new int[4];
            counts = new long[4];
        }
        size = 0;
    }

    /** Turns dense when large and filling enough of its range (see {@link #dense}). */
    private void maybeDense() {
        if (size >= DENSE_MIN_BUCKETS && indexes[size - 1] - indexes[0] + 1 <= DENSE_MAX_SPREAD * size) {
            long[] filled = new long[indexes[size - 1] - indexes[0] + 1];
            for (int i = 0; i < size; i++) {
                filled[indexes[i] - indexes[0]] = counts[i];
            }
            denseBase = indexes[0];
            dense = filled;
            indexes = null;
            counts = null;
        }
    }

    /** Back to the sparse form, when a dense histogram would have to span too wide a range. */
    private void sparse() {
        int[] sparseIndexes = new int[Math.max(4, size)];
        long[] sparseCounts = new long[sparseIndexes.length];
        int n = 0;
        for (int i = 0; i < dense.length; i++) {
            if (dense[i] != 0) {
                sparseIndexes[n] = denseBase + i;
                sparseCounts[n++] = dense[i];
            }
        }
        indexes = sparseIndexes;
        counts = sparseCounts;
        dense = null;
    }

    /** Whether counts wait in the side buffer (tests). */
    boolean hasPending() {
        return pending != null && pending.size > 0;
    }

    /** Whether the counts are held in the dense form (tests). */
    boolean isDense() {
        return dense != null;
    }

    /** Each non-empty bucket's index and count, ascending. */
    private void forEachBucket(BucketConsumer consumer) {
        if (dense != null) {
            for (int i = 0; i < dense.length; i++) {
                if (dense[i] != 0) {
                    consumer.accept(denseBase + i, dense[i]);
                }
            }
        } else {
            for (int i = 0; i < size; i++) {
                consumer.accept(indexes[i], counts[i]);
            }
        }
    }

    @FunctionalInterface
    private interface BucketConsumer {
        void accept(int index, long count);
    }

    /**
     * Merges {@code other}'s buckets in, in place from the back, so the arrays only grow by doubling:
     * the merge assumes no bucket in common, and the room the common buckets left free is closed with
     * one array copy at the end.
     */
    private void mergeIn(BucketCounts other) {
        int total = size + other.size;
        ensureCapacity(total);
        int i = size - 1;
        int j = other.size - 1;
        int n = total - 1;
        while (j >= 0) { // n > i while j >= 0: the write never overtakes the read
            if (i >= 0 && indexes[i] > other.indexes[j]) {
                indexes[n] = indexes[i];
                counts[n--] = counts[i--];
            } else if (i >= 0 && indexes[i] == other.indexes[j]) {
                indexes[n] = indexes[i];
                counts[n--] = counts[i--] + other.counts[j--];
            } else {
                indexes[n] = other.indexes[j];
                counts[n--] = other.counts[j--];
            }
        }
        int common = n - i; // buckets both had: that many slots between the untouched head and the merged tail
        if (common > 0) {
            System.arraycopy(indexes, n + 1, indexes, i + 1, total - 1 - n);
            System.arraycopy(counts, n + 1, counts, i + 1, total - 1 - n);
        }
        size = total - common;
    }

    public long totalCount() {
        settle();
        long total = 0;
        if (dense != null) {
            for (long count : dense) {
                total += count;
            }
            return total;
        }
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
        if (dense != null) {
            BucketCounts compact = new BucketCounts(size);
            forEachBucket(compact::append);
            return LatencyHistograms.encodeBuckets(compact.indexes, compact.counts, compact.size);
        }
        return LatencyHistograms.encodeBuckets(indexes, counts, size);
    }

    private void add(int index, long count) {
        if (dense != null) {
            addDense(index, count);
            return;
        }
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

    private void addDense(int index, long count) {
        int at = index - denseBase;
        if (at < 0 || at >= dense.length) {
            int from = Math.min(denseBase, index);
            int to = Math.max(denseBase + dense.length, index + 1); // exclusive
            if (to - from > DENSE_MAX_SPREAD * (size + 1)) {
                sparse();
                add(index, count);
                return;
            }
            // a quarter more room on the side that grew (within the spread allowed), so a range
            // widening bucket by bucket is not copied each time
            int room = Math.min((to - from) / 4, DENSE_MAX_SPREAD * (size + 1) - (to - from));
            if (index < denseBase) {
                from = Math.max(0, from - room);
            } else {
                to += room;
            }
            long[] grown = new long[to - from];
            System.arraycopy(dense, 0, grown, denseBase - from, dense.length);
            dense = grown;
            denseBase = from;
            at = index - denseBase;
        }
        if (dense[at] == 0) {
            size++;
        }
        dense[at] += count;
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
