package io.tailprobe.query.percentile;

import io.tailprobe.query.store.HistogramStore;
import io.tailprobe.schemas.SeriesKey;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sums of aligned runs of coarse windows ({@link RunSum}), least recently used first out once they
 * hold more than a heap budget. An entry is used only while the store's version of its windows is the
 * one it was read at ({@link HistogramStore#version}): a window of its series, host, resolution and
 * days written or deleted, a restore or a rebalance retires it. Windows the store cannot version (held
 * by another instance) are never kept.
 *
 * <p>A sum is kept only once its run has been asked for twice ({@link #admit}): a range asked once —
 * each request of a dashboard sliding its own 7-day range ends at a different 10 s — would otherwise
 * fill the budget with sums of its edges no one asks for again, pushing out the day sums every query
 * shares.
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
     * ones (the runs at a range's edges) are kept apart, each least recently used out past its share:
     * dashboards sliding over a day ask for thousands of different edges, each worth a few window reads,
     * and would otherwise push out the few long sums each worth hundreds.
     */
    private final Segment days;
    private final Segment shorter;
    private final Map<Key, Boolean> askedOnce = new LinkedHashMap<>(256, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Key, Boolean> eldest) {
            return size() > REMEMBERED_RUNS;
        }
    };

    /** Runs asked for and found kept at their current version, and not. */
    private long hits;
    private long misses;
    /** Sums built and kept, and sums pushed out past their share of the budget. */
    private long kept;
    private long evicted;
    private final long budgetBytes;

    /** @param budgetBytes the most heap the sums may hold, e.g. 256 MB; 0 keeps nothing */
    RunCache(long budgetBytes) {
        this.budgetBytes = budgetBytes;
        long daysBudget = budgetBytes / 8 * DAYS_SHARE_EIGHTHS;
        this.days = new Segment(daysBudget);
        this.shorter = new Segment(budgetBytes - daysBudget);
    }

    /** The default budget: an eighth of the heap, at most 256 MB. */
    static RunCache withDefaultBudget() {
        return new RunCache(Math.min(256L << 20, Runtime.getRuntime().maxMemory() / 8));
    }

    private Segment segment(Key key) {
        return key.endMillis() - key.startMillis() >= DAY_MILLIS ? days : shorter;
    }

    /** The sum kept for {@code key} at {@code version} holding every one of {@code latencies}, or null. */
    synchronized RunSum get(Key key, long version, Collection<Latency> latencies) {
        RunSum sum = segment(key).entries.get(key);
        if (sum != null && sum.version() == version && sum.holds(latencies)) {
            hits++;
            return sum;
        }
        misses++;
        return null;
    }

    /**
     * Whether the sum of {@code key}'s run, just missed, is worth building and keeping: yes when it was
     * asked for before (among the last {@value #REMEMBERED_RUNS} runs asked for once) or is kept at an
     * older version; otherwise it is remembered as asked for once.
     */
    synchronized boolean admit(Key key) {
        if (segment(key).entries.containsKey(key) || askedOnce.remove(key) != null) {
            return true;
        }
        askedOnce.put(key, Boolean.TRUE);
        return false;
    }

    synchronized void put(Key key, RunSum sum) {
        kept++;
        evicted += segment(key).put(key, sum);
    }

    /** What the cache did since it was made, and holds now. */
    synchronized RunCacheStats stats() {
        return new RunCacheStats(hits, misses, kept, evicted, days.entries.size() + shorter.entries.size(),
                days.bytes + shorter.bytes, budgetBytes);
    }

    synchronized long bytes() {
        return days.bytes + shorter.bytes;
    }

    synchronized int size() {
        return days.entries.size() + shorter.entries.size();
    }

    /** One share of the budget, least recently used out. */
    private static final class Segment {
        final long budgetBytes;
        final Map<Key, RunSum> entries = new LinkedHashMap<>(256, 0.75f, true);
        long bytes;

        Segment(long budgetBytes) {
            this.budgetBytes = budgetBytes;
        }

        /** Keeps {@code sum} unless it alone is over the budget; returns how many sums went out. */
        int put(Key key, RunSum sum) {
            long size = sum.bytes();
            if (size > budgetBytes) {
                return 1;
            }
            RunSum old = entries.put(key, sum);
            bytes += size - (old == null ? 0 : old.bytes());
            int out = 0;
            for (Iterator<RunSum> it = entries.values().iterator(); bytes > budgetBytes && it.hasNext(); out++) {
                bytes -= it.next().bytes();
                it.remove();
            }
            return out;
        }
    }
}
