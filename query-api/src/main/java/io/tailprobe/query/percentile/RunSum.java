package io.tailprobe.query.percentile;

import io.tailprobe.schemas.WindowedHistogram;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The stored windows of one series, host and resolution whose start lies in one aligned run (a UTC day
 * of 1 h windows, four hours of them, …) added up: which windows there were (their starts and ends, for
 * {@link SeriesMatch}'s cover), their samples, outcomes and the counts of each latency read. What
 * {@link RunCache} keeps, under the store's version of those windows at the time they were read.
 * Never changed once built, and {@code id} names it alone: two covers made of the same ids add up to
 * the same counts.
 */
record RunSum(long id, long version, long[] startsMillis, long[] endsMillis, long sampleCount, Map<String, Long> outcomes,
              Map<Latency, LatencyCounts> latencies) implements Piece {
    private static final AtomicLong NEXT_ID = new AtomicLong();

    /** Adds up {@code windows}, in start order, for each of {@code latencies}; one window is read straight into its compact form. */
    static RunSum of(long version, List<WindowedHistogram> windows, Collection<Latency> latencies) {
        long[] starts = new long[windows.size()];
        long[] ends = new long[windows.size()];
        long samples = 0;
        Map<String, Long> outcomes = new HashMap<>();
        for (int i = 0; i < windows.size(); i++) {
            WindowedHistogram window = windows.get(i);
            starts[i] = window.getWindowStartMillis();
            ends[i] = window.getWindowEndMillis();
            samples += window.getSampleCount();
            window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
        }
        Map<Latency, LatencyCounts> sums = new LinkedHashMap<>();
        for (Latency latency : latencies) {
            if (windows.size() == 1) {
                sums.put(latency, LatencyCounts.compactOf(windows.getFirst(), latency));
                continue;
            }
            LatencyCounts counts = new LatencyCounts();
            windows.forEach(window -> counts.expect(window, latency));
            windows.forEach(window -> counts.add(window, latency));
            sums.put(latency, counts.compact());
        }
        return new RunSum(NEXT_ID.incrementAndGet(), version, starts, ends, samples, Map.copyOf(outcomes), Map.copyOf(sums));
    }

    /**
     * The sum of {@code pieces} in time order: one sum standing for a whole stretch of a range, so a
     * query adds one array per latency for it instead of one per run.
     */
    static RunSum combine(long version, List<Piece> pieces, Collection<Latency> latencies) {
        int windows = 0;
        for (Piece piece : pieces) {
            windows += switch (piece) {
                case RunSum sum -> sum.windowCount();
                case Piece.Windows read -> read.windows().size();
            };
        }
        long[] starts = new long[windows];
        long[] ends = new long[windows];
        long samples = 0;
        Map<String, Long> outcomes = new HashMap<>();
        int w = 0;
        for (Piece piece : pieces) {
            switch (piece) {
                case RunSum sum -> {
                    System.arraycopy(sum.startsMillis, 0, starts, w, sum.windowCount());
                    System.arraycopy(sum.endsMillis, 0, ends, w, sum.windowCount());
                    w += sum.windowCount();
                    samples += sum.sampleCount;
                    sum.outcomes.forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
                }
                case Piece.Windows read -> {
                    for (WindowedHistogram window : read.windows()) {
                        starts[w] = window.getWindowStartMillis();
                        ends[w++] = window.getWindowEndMillis();
                        samples += window.getSampleCount();
                        window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
                    }
                }
            }
        }
        Map<Latency, LatencyCounts> sums = new LinkedHashMap<>();
        for (Latency latency : latencies) {
            LatencyCounts counts = new LatencyCounts();
            for (Piece piece : pieces) {
                switch (piece) {
                    case RunSum sum -> counts.expect(sum.latencies.get(latency));
                    case Piece.Windows read -> read.windows().forEach(window -> counts.expect(window, latency));
                }
            }
            for (Piece piece : pieces) {
                switch (piece) {
                    case RunSum sum -> counts.add(sum.latencies.get(latency));
                    case Piece.Windows read -> read.windows().forEach(window -> counts.add(window, latency));
                }
            }
            sums.put(latency, counts.compact());
        }
        return new RunSum(NEXT_ID.incrementAndGet(), version, starts, ends, samples, Map.copyOf(outcomes), Map.copyOf(sums));
    }

    int windowCount() {
        return startsMillis.length;
    }

    boolean holds(Collection<Latency> wanted) {
        return latencies.keySet().containsAll(wanted);
    }

    long bytes() {
        long bytes = 128L + 16L * startsMillis.length + 64L * outcomes.size();
        for (LatencyCounts counts : latencies.values()) {
            bytes += counts.bytes();
        }
        return bytes;
    }
}
