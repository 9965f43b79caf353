package io.tailprobe.query.percentile;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.schemas.SeriesKey;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sums of aligned runs of coarse windows ({@link RunSum}), least recently used first out once they
 * hold more than a heap budget. An entry is used only while the store's version of its series, host and
 * resolution is the one it was read at ({@link HistogramStore#version}): a window written or deleted,
 * a restore or a rebalance retires it. Windows the store cannot version (held by another instance) are
 * never kept.
 *
 * <p>Example: a 7-day percentile query of one series reads six whole UTC days of 1 h windows; the
 * second such query within the hour takes their six sums from here (~32 KB of bucket counts per
 * latency and day) instead of decoding 144 windows of a few thousand buckets each.
 */
final class RunCache {
    /** One run: windows of {@code series}, {@code host} and {@code resolutionSeconds} starting in {@code [startMillis, endMillis)}. */
    record Key(SeriesKey series, String host, int resolutionSeconds, long startMillis, long endMillis) {}

    private final long budgetBytes;
    private final Map<Key, RunSum> entries = new LinkedHashMap<>(256, 0.75f, true);
    private long bytes;

    /** @param budgetBytes the most heap the sums may hold, e.g. 256 MB; 0 keeps nothing */
    RunCache(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    /** The default budget: an eighth of the heap, at most 256 MB. */
    static RunCache withDefaultBudget() {
        return new RunCache(Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8));
    }

    /** The sum kept for {@code key} at {@code version} holding every one of {@code latencies}, or null. */
    synchronized RunSum get(Key key, long version, Collection<Latency> latencies) {
        RunSum sum = entries.get(key);
        return sum != null && sum.version() == version && sum.holds(latencies) ? sum : null;
    }

    synchronized void put(Key key, RunSum sum) {
        long size = sum.bytes();
        if (size > budgetBytes) {
            return;
        }
        RunSum old = entries.put(key, sum);
        bytes += size - (old == null ? 0 : old.bytes());
        for (Iterator<RunSum> it = entries.values().iterator(); bytes > budgetBytes && it.hasNext(); ) {
            bytes -= it.next().bytes();
            it.remove();
        }
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized int size() {
        return entries.size();
    }
}
