package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.Phases;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.IntFunction;

/**
 * A sketch, for the benchmark only, of the cheapest way this repository knows to make the base windows:
 * host and fleet-wide 10 s windows of every series, without rollups, without the record around the
 * histograms and without Kafka. Each sample's latencies are appended to one array of its series; at a
 * window's end the series' samples are grouped by host (a counting sort) and each host's histograms
 * are made from a sort of its few bucket indexes, the fleet-wide ones from one pass through a reused
 * array of counts by bucket. Every histogram is encoded as the aggregator encodes it. Its cost per
 * sample, next to the aggregator's processor with no rollups ({@link ProcessorAlone} at the base
 * resolution only), says how much a redesign along these lines could save. Inside a Streams app (run (j)),
 * each window's histograms, concatenated, are written as one record: the least any aggregator that makes
 * these windows must do.
 */
public final class SeriesBufferSketch {
    private static final int LATENCIES = 2 + Phases.NAMES.size();
    /** Per sample: host id, then each latency (or -1 where the sample has none). */
    private static final int STRIDE = 1 + LATENCIES;

    private final SampleReader reader = new SampleReader();
    /** Takes each window made: its series' record key and its histograms' encodings, one after another. */
    private final BiConsumer<byte[], byte[]> windowSink;
    private final byte[][] encodings = new byte[LATENCIES][];
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
        final byte[] recordKey;
        final Map<String, Integer> hostIds = new HashMap<>();
        long[] values = new long[STRIDE * 64];
        int samples;
        /** The first of {@link #samples} in the open 10 s window (with minutes, earlier ones are the minute's). */
        int sliceStart;
        int[] perHost = new int[8];

        Series(String recordKey) {
            this.recordKey = recordKey.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** Whether it makes 1 min windows too, from the same buffers kept for the minute. */
    private final boolean withMinutes;
    private long minuteStartMillis = Long.MIN_VALUE;

    /**
     * A sketch that hands each window it makes to {@code windowSink}; feed it with {@link #add}. With
     * {@code withMinutes}, each series' buffer holds a minute, and at the minute's end the host and
     * fleet-wide 1 min windows are made from it the same way: the cheapest rollup this sketch knows.
     */
    public SeriesBufferSketch(BiConsumer<byte[], byte[]> windowSink, boolean withMinutes) {
        this.windowSink = windowSink;
        this.withMinutes = withMinutes;
    }

    /** Feeds {@code samples} records to a sketch that writes nowhere; returns the windows made. */
    public static long run(int samples, IntFunction<String> keys, IntFunction<byte[]> values) {
        SeriesBufferSketch sketch = new SeriesBufferSketch((key, window) -> { }, false);
        for (int i = 0; i < samples; i++) {
            sketch.add(keys.apply(i), values.apply(i));
        }
        sketch.closeAll();
        sketch.check();
        return sketch.windows;
    }

    /** Throws unless windows were made and they counted the same values by host as fleet-wide. */
    public void check() {
        if (encodedBytes == 0 || hostValues != fleetValues) {
            throw new IllegalStateException("encoded " + encodedBytes + " bytes, " + hostValues
                    + " values by host and " + fleetValues + " fleet-wide");
        }
    }

    /** Adds one sample record; a sample of a later 10 s window first closes every series' window. */
    public void add(String key, byte[] value) {
        if (!reader.read(value, sample)) {
            throw new IllegalStateException("the sketch reads only this build's samples");
        }
        long eventMillis = SampleRules.eventMillis(sample.scheduledStartMicros);
        long start = eventMillis - Math.floorMod(eventMillis, 10_000L);
        if (start > windowStartMillis) {
            closeAll();
            windowStartMillis = start;
            long minuteStart = start - Math.floorMod(start, 60_000L);
            if (withMinutes && minuteStart > minuteStartMillis) {
                closeMinutes();
                minuteStartMillis = minuteStart;
            }
        }
        Series s = bySeries.get(key);
        if (s == null) {
            s = new Series(key);
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

    /** Makes the 10 s windows of every series that has samples in the open one. */
    public void closeAll() {
        for (Series s : series) {
            if (s.samples > s.sliceStart) {
                close(s, s.sliceStart, s.samples);
            }
            s.sliceStart = withMinutes ? s.samples : 0;
            s.samples = s.sliceStart;
        }
    }

    /** Makes the 1 min windows of every series from its minute's samples. */
    private void closeMinutes() {
        for (Series s : series) {
            if (s.samples > 0) {
                close(s, 0, s.samples);
            }
            s.samples = 0;
            s.sliceStart = 0;
        }
    }

    /** Makes the host and fleet-wide windows of the series' samples {@code from..to}. */
    private void close(Series s, int from, int to) {
        int hosts = s.hostIds.size();
        if (s.perHost.length < hosts + 1) {
            s.perHost = new int[hosts + 1];
        }
        int[] start = s.perHost;
        Arrays.fill(start, 0, hosts + 1, 0);
        for (int i = from; i < to; i++) {
            start[(int) s.values[i * STRIDE] + 1]++;
        }
        for (int h = 0; h < hosts; h++) {
            start[h + 1] += start[h];
        }
        if (order.length < to - from) {
            order = new int[(to - from) * 2];
        }
        int[] next = Arrays.copyOf(start, hosts);
        for (int i = from; i < to; i++) {
            order[next[(int) s.values[i * STRIDE]]++] = i;
        }
        for (int h = 0; h < hosts; h++) {
            if (start[h + 1] > start[h]) {
                for (int latency = 0; latency < LATENCIES; latency++) {
                    encodings[latency] = hostHistogram(s.values, start[h], start[h + 1], latency);
                }
                emit(s);
            }
        }
        for (int latency = 0; latency < LATENCIES; latency++) {
            encodings[latency] = fleetHistogram(s.values, from, to, latency);
        }
        emit(s);
    }

    /** Hands the window whose histograms are in {@link #encodings} to the sink, as one array. */
    private void emit(Series s) {
        int length = 0;
        for (byte[] encoding : encodings) {
            length += encoding == null ? 0 : encoding.length;
        }
        byte[] window = new byte[length];
        int at = 0;
        for (int latency = 0; latency < LATENCIES; latency++) {
            if (encodings[latency] != null) {
                System.arraycopy(encodings[latency], 0, window, at, encodings[latency].length);
                at += encodings[latency].length;
                encodings[latency] = null;
            }
        }
        encodedBytes += length;
        windows++;
        windowSink.accept(s.recordKey, window);
    }

    /** One host's histogram of one latency from its samples {@code order[from..to)}: a sort of a few indexes; null if none. */
    private byte[] hostHistogram(long[] values, int from, int to, int latency) {
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
            return null;
        }
        hostValues += n;
        return LatencyHistograms.encodeBuckets(indexes, counts, SeriesSamples.countSorted(indexes, counts, n));
    }

    /** The fleet-wide histogram of one latency: counts by bucket in one reused array, then one pass over the range. */
    private byte[] fleetHistogram(long[] values, int from, int to, int latency) {
        int low = Integer.MAX_VALUE;
        int high = -1;
        for (int i = from; i < to; i++) {
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
            return null;
        }
        if (indexes.length < high - low + 1) {
            indexes = new int[high - low + 1];
            counts = new long[high - low + 1];
        }
        return LatencyHistograms.encodeBuckets(indexes, counts, SeriesSamples.drainCounts(byBucket, low, high, indexes, counts));
    }
}
