package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.Phases;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * A sketch, for the benchmark only, of the cheapest way this repository knows to make the base windows:
 * host and fleet-wide 10 s windows of every series, without rollups, without the record around the
 * histograms and without Kafka. Each sample's latencies are appended to one array of its series; at a
 * window's end the series' samples are grouped by host (a counting sort) and each host's histograms
 * are made from a sort of its few bucket indexes, the fleet-wide ones from one pass through a reused
 * array of counts by bucket. Every histogram is encoded as the aggregator encodes it. Its cost per
 * sample, next to the aggregator's processor with no rollups ({@link ProcessorAlone} at the base
 * resolution only), says how much a redesign along these lines could save.
 */
public final class SeriesBufferSketch {
    private static final int LATENCIES = 2 + Phases.NAMES.size();
    /** Per sample: host id, then each latency (or -1 where the sample has none). */
    private static final int STRIDE = 1 + LATENCIES;

    private final SampleReader reader = new SampleReader();
    private final SampleFields sample = new SampleFields();
    private final Map<String, Series> bySeries = new HashMap<>();
    private final List<Series> series = new ArrayList<>();
    private long windowStartMillis = Long.MIN_VALUE;
    private long[] byBucket = new long[0];
    private int[] indexes = new int[64];
    private long[] counts = new long[64];
    private int[] order = new int[64];
    private long encodedBytes;
    private long windows;
    /** Values counted into host histograms and into fleet-wide ones: the same values, so equal at the end. */
    private long hostValues;
    private long fleetValues;

    private static final class Series {
        final Map<String, Integer> hostIds = new HashMap<>();
        long[] values = new long[STRIDE * 64];
        int samples;
        int[] perHost = new int[8];
    }

    /** Feeds {@code samples} records; returns the windows made. */
    public static long run(int samples, IntFunction<String> keys, IntFunction<byte[]> values) {
        SeriesBufferSketch sketch = new SeriesBufferSketch();
        for (int i = 0; i < samples; i++) {
            sketch.add(keys.apply(i), values.apply(i));
        }
        sketch.closeAll();
        if (sketch.encodedBytes == 0 || sketch.hostValues != sketch.fleetValues) {
            throw new IllegalStateException("encoded " + sketch.encodedBytes + " bytes, " + sketch.hostValues
                    + " values by host and " + sketch.fleetValues + " fleet-wide");
        }
        return sketch.windows;
    }

    private void add(String key, byte[] value) {
        if (!reader.read(value, sample)) {
            throw new IllegalStateException("the sketch reads only this build's samples");
        }
        long eventMillis = SampleRules.eventMillis(sample.scheduledStartMicros);
        long start = eventMillis - Math.floorMod(eventMillis, 10_000L);
        if (start > windowStartMillis) {
            closeAll();
            windowStartMillis = start;
        }
        Series s = bySeries.get(key);
        if (s == null) {
            s = new Series();
            bySeries.put(key, s);
            series.add(s);
        }
        Integer hostId = s.hostIds.get(sample.host);
        if (hostId == null) {
            hostId = s.hostIds.size();
            s.hostIds.put(sample.host, hostId);
        }
        int at = s.samples * STRIDE;
        if (at + STRIDE > s.values.length) {
            s.values = Arrays.copyOf(s.values, s.values.length * 2);
        }
        long[] v = s.values;
        v[at] = hostId;
        boolean ok = SampleRules.recordsLatency(sample.outcome);
        v[at + 1] = ok ? sample.serviceTimeNanos : -1;
        v[at + 2] = ok ? sample.responseTimeNanos : -1;
        for (int phase = 0; phase < LATENCIES - 2; phase++) {
            v[at + 3 + phase] = ok && (sample.phasesPresent & (1 << phase)) != 0 ? sample.phaseNanos[phase] : -1;
        }
        s.samples++;
    }

    private void closeAll() {
        for (Series s : series) {
            if (s.samples > 0) {
                close(s);
            }
        }
    }

    private void close(Series s) {
        int hosts = s.hostIds.size();
        if (s.perHost.length < hosts + 1) {
            s.perHost = new int[hosts + 1];
        }
        int[] start = s.perHost;
        Arrays.fill(start, 0, hosts + 1, 0);
        for (int i = 0; i < s.samples; i++) {
            start[(int) s.values[i * STRIDE] + 1]++;
        }
        for (int h = 0; h < hosts; h++) {
            start[h + 1] += start[h];
        }
        if (order.length < s.samples) {
            order = new int[s.samples * 2];
        }
        int[] next = Arrays.copyOf(start, hosts);
        for (int i = 0; i < s.samples; i++) {
            order[next[(int) s.values[i * STRIDE]]++] = i;
        }
        for (int h = 0; h < hosts; h++) {
            if (start[h + 1] > start[h]) {
                for (int latency = 0; latency < LATENCIES; latency++) {
                    hostHistogram(s.values, start[h], start[h + 1], latency);
                }
                windows++;
            }
        }
        for (int latency = 0; latency < LATENCIES; latency++) {
            fleetHistogram(s.values, s.samples, latency);
        }
        windows++;
        s.samples = 0;
    }

    /** One host's histogram of one latency from its samples {@code order[from..to)}: a sort of a few indexes. */
    private void hostHistogram(long[] values, int from, int to, int latency) {
        if (indexes.length < to - from) {
            indexes = new int[to - from];
            counts = new long[to - from];
        }
        int n = 0;
        for (int k = from; k < to; k++) {
            long value = values[order[k] * STRIDE + 1 + latency];
            if (value >= 0) {
                indexes[n++] = LatencyHistograms.countsIndex(value);
            }
        }
        if (n == 0) {
            return;
        }
        hostValues += n;
        Arrays.sort(indexes, 0, n);
        int size = 0;
        for (int i = 0; i < n; i++) {
            if (size > 0 && indexes[size - 1] == indexes[i]) {
                counts[size - 1]++;
            } else {
                indexes[size] = indexes[i];
                counts[size++] = 1;
            }
        }
        encodedBytes += LatencyHistograms.encodeBuckets(indexes, counts, size).length;
    }

    /** The fleet-wide histogram of one latency: counts by bucket in one reused array, then one pass over the range. */
    private void fleetHistogram(long[] values, int samples, int latency) {
        int low = Integer.MAX_VALUE;
        int high = -1;
        for (int i = 0; i < samples; i++) {
            long value = values[i * STRIDE + 1 + latency];
            if (value >= 0) {
                int index = LatencyHistograms.countsIndex(value);
                if (index >= byBucket.length) {
                    byBucket = Arrays.copyOf(byBucket, Math.max(index + 1, byBucket.length * 2));
                }
                byBucket[index]++;
                fleetValues++;
                low = Math.min(low, index);
                high = Math.max(high, index);
            }
        }
        if (high < 0) {
            return;
        }
        if (indexes.length < high - low + 1) {
            indexes = new int[high - low + 1];
            counts = new long[high - low + 1];
        }
        int size = 0;
        for (int index = low; index <= high; index++) {
            if (byBucket[index] != 0) {
                indexes[size] = index;
                counts[size++] = byBucket[index];
                byBucket[index] = 0;
            }
        }
        encodedBytes += LatencyHistograms.encodeBuckets(indexes, counts, size).length;
    }
}
