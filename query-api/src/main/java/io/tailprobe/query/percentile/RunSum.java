package io.tailprobe.query.percentile;

import io.tailprobe.schemas.WindowedHistogram;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The stored windows of one series, host and resolution whose start lies in one aligned run (a UTC day
 * of 1 h windows, four hours of them, …) added up: which windows there were (their starts and ends, for
 * {@link SeriesMatch}'s cover), their samples, outcomes and the counts of each latency read. What
 * {@link RunCache} keeps, under the store's version of those windows at the time they were read.
 */
record RunSum(long version, long[] startsMillis, long[] endsMillis, long sampleCount, Map<String, Long> outcomes,
              Map<Latency, LatencyCounts> latencies) {

    /** Adds up {@code windows}, in start order, for each of {@code latencies}. */
    static RunSum of(long version, List<WindowedHistogram> windows, Collection<Latency> latencies) {
        long[] starts = new long[windows.size()];
        long[] ends = new long[windows.size()];
        long samples = 0;
        Map<String, Long> outcomes = new TreeMap<>();
        for (int i = 0; i < windows.size(); i++) {
            WindowedHistogram window = windows.get(i);
            starts[i] = window.getWindowStartMillis();
            ends[i] = window.getWindowEndMillis();
            samples += window.getSampleCount();
            window.getOutcomeCounts().forEach((outcome, n) -> outcomes.merge(outcome, n, Long::sum));
        }
        Map<Latency, LatencyCounts> sums = new LinkedHashMap<>();
        for (Latency latency : latencies) {
            LatencyCounts counts = new LatencyCounts();
            windows.forEach(window -> counts.add(window, latency));
            sums.put(latency, counts.compact());
        }
        return new RunSum(version, starts, ends, samples, Map.copyOf(outcomes), Map.copyOf(sums));
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
