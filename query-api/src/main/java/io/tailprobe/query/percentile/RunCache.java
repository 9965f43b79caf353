package io.tailprobe.query.percentile;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.schemas.SeriesKey;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The sums of aligned runs of coarse windows ({@link RunSum}) within a heap budget, kept by Caffeine's
 * W-TinyLFU policy: a new sum enters a small window and stays only if its run is asked for more often
 * than the sum it would push out. An entry is used only while the store's version of its windows is the
 * one it was read at ({@link HistogramStore#version}): a window of its series, host, resolution and
 * days written or deleted, a restore or a rebalance retires it. Windows the store cannot version (held
 * by another instance) are never kept.
 *
 * <p>A sum is built only once its run has been asked for twice ({@link #admit}): a range asked once —
 * each request of a dashboard sliding its own 7-day range ends at a different 10 s — would otherwise
 * build sums of its edges no one asks for again. And when more runs are asked for than the budget holds
 * (100 series' 7-day ranges each ending anywhere in the last day reach gigabytes of minute runs), the
 * frequency test keeps the runs asked most instead of letting each new one push out the last: under
 * least-recently-used, 92% of the sums built in such a benchmark were pushed out again, each surviving
 * young collections on its way.
 *
 * <p>Example: a 7-day percentile query of one series reads six whole UTC days of 1 h windows; the
 * second such query builds and keeps their six sums, and every later one takes them from here (~16 KB
 * of int bucket counts per latency and day) instead of decoding 144 windows of a few thousand buckets
 * each, for as long as those days' windows stay unchanged.
 */
final class RunCache {
    /** One run: windows of {@code series}, {@code host} and {@code resolutionSeconds} starting in {@code [startMillis, endMillis)}. */
    record Key(SeriesKey series, String host, int resolutionSeconds, long startMillis, long endMillis) {}

    /** How many runs asked for once, and not kept, are remembered for {@link #admit}: ~10 MB of keys. */
    static final int REMEMBERED_RUNS = 100_000;

    /** Sums spanning a day or more get their own share of the budget, {@value #DAYS_SHARE_EIGHTHS}/8 of it. */
    static final long DAY_MILLIS = 86_400_000L;
    static final int DAYS_SHARE_EIGHTHS = 5;

    /**
     * Sums spanning at least a day (the day sums and the 1 h stretch of a 7-day range) and the shorter
     * ones (the runs at a range's edges) are kept apart, each within its share: dashboards sliding over
     * a day ask for thousands of different edges, each worth a few window reads, and must not compete
     * with the few long sums each worth hundreds.
     */
    private final Cache<Key, RunSum> days;
    private final Cache<Key, RunSum> shorter;
    private final Map<Key, Boolean> askedOnce = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
            return size() > REMEMBERED_RUNS;
        }
    };
    private final long budgetBytes;
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder kept = new LongAdder();
    private final LongAdder evicted = new LongAdder();

    /** @param budgetBytes the most heap the sums may hold, e.g. 256 MB; 0 keeps nothing */
    RunCache(long budgetBytes) {
        this.budgetBytes = budgetBytes;
        long daysBudget = budgetBytes / 8 * DAYS_SHARE_EIGHTHS;
        this.days = segment(daysBudget);
        this.shorter = segment(budgetBytes - daysBudget);
    }

    /** One share of the budget; its upkeep (evictions) runs on the thread that puts, so nothing else runs behind. */
    private Cache<Key, RunSum> segment(long shareBytes) {
        return Caffeine.newBuilder()
                .maximumWeight(shareBytes)
                .weigher((Key key, RunSum sum) -> (int) Math.min(Integer.MAX_VALUE, sum.bytes()))
                .executor(Runnable::run)
                .evictionListener((Key key, RunSum sum, RemovalCause cause) -> evicted.increment())
                .build();
    }

    /** The default budget: an eighth of the heap, at most 256 MB. */
    static RunCache withDefaultBudget() {
        return new RunCache(Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8));
    }

    private Cache<Key, RunSum> segment(Key key) {
        return key.endMillis() - key.startMillis() >= DAY_MILLIS ? days : shorter;
    }

    /** The sum kept for {@code key} at {@code version} holding every one of {@code latencies}, or null. */
    RunSum get(Key key, long version, Collection<Latency> latencies) {
        RunSum sum = segment(key).getIfPresent(key);
        if (sum != null && sum.version() == version && sum.holds(latencies)) {
            hits.increment();
            return sum;
        }
        misses.increment();
        return null;
    }

    /**
     * Whether the sum of {@code key}'s run, just missed, is worth building and offering to the cache:
     * yes when it was asked for before (among the last {@value #REMEMBERED_RUNS} runs asked for once) or
     * is kept at an older version; otherwise it is remembered as asked for once.
     */
    boolean admit(Key key) {
        if (segment(key).asMap().containsKey(key)) {
            return true;
        }
        synchronized (askedOnce) {
            if (askedOnce.remove(key) != null) {
                return true;
            }
            askedOnce.put(key, Boolean.TRUE);
            return false;
        }
    }

    /** Offers {@code sum}: kept unless its run is asked for less often than the sums it would push out. */
    void put(Key key, RunSum sum) {
        kept.increment();
        segment(key).put(key, sum);
    }

    /** The heap the sums kept hold, roughly. */
    long bytes() {
        return weight(days) + weight(shorter);
    }

    int size() {
        days.cleanUp();
        shorter.cleanUp();
        return (int) (days.estimatedSize() + shorter.estimatedSize());
    }

    private static long weight(Cache<Key, RunSum> segment) {
        segment.cleanUp();
        return segment.policy().eviction().orElseThrow().weightedSize().orElseThrow();
    }

    /** What the cache did since it was made, and holds now. */
    RunCacheStats stats() {
        return new RunCacheStats(hits.sum(), misses.sum(), kept.sum(), evicted.sum(), size(), bytes(), budgetBytes);
    }
}
