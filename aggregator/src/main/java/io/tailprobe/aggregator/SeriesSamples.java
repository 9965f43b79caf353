package io.tailprobe.aggregator;

import io.tailprobe.schemas.BucketCounts;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.SeriesKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The samples of every host of one series over one window's time, in one array: a base window's, or the
 * first rollup's (each base window's appended at its close). A sample costs an append to the array its
 * series' thousand samples share, where writing into its host's window would touch one of thousands of
 * windows, each cold by then. At the close the samples are grouped by host (a counting sort) and every
 * host's window and then the fleet-wide one are made at once ({@link #makeWindows}): a host's histograms
 * from a sort of its few bucket indexes, the fleet's from one pass through an array of counts by bucket.
 * The windows are the same, to the byte, as {@link OpenWindow}s fed the same samples.
 */
final class SeriesSamples {
    private static final Outcome[] OUTCOMES = Outcome.values();
    private static final int PHASE_COUNT = Phases.NAMES.size();
    /** Service time, response time, then each phase. */
    private static final int LATENCIES = 2 + PHASE_COUNT;
    /**
     * Per sample: one long of its host id (low 32 bits), outcome ordinal (next 8) and the phases it has
     * (bits from {@link #PHASES_SHIFT} up), then each latency (0 where it has none): 72 bytes a sample.
     */
    private static final int STRIDE = 1 + LATENCIES;
    private static final int FIRST_LATENCY = 1;
    private static final long HOST_MASK = 0xFFFF_FFFFL;
    private static final int OUTCOME_SHIFT = 32;
    private static final int PHASES_SHIFT = 40;
    private static final boolean[] RECORDS_LATENCY = new boolean[OUTCOMES.length];

    static {
        for (Outcome outcome : OUTCOMES) {
            RECORDS_LATENCY[outcome.ordinal()] = SampleRules.recordsLatency(outcome);
        }
    }

    private final SeriesKey series;
    /**
     * This window's hosts by id, in the order they first appear, and their ids: a window's own, so a
     * series whose hosts come and go does not carry every host it ever had from window to window.
     */
    private final Map<String, Integer> hostIds = new HashMap<>();
    private final List<String> hostNames = new ArrayList<>();
    private final int resolutionSeconds;
    private final long startMillis;
    private long[] values;
    private int samples;
    /** By host id: the labels its samples share. */
    private CommonLabels[] labelsByHost = new CommonLabels[0];
    /** The input offset of the first sample added. */
    private long firstOffset = Long.MAX_VALUE;
    private boolean closed;

    SeriesSamples(SeriesKey series, int resolutionSeconds, long startMillis, int expectedSamples) {
        this.series = series;
        this.resolutionSeconds = resolutionSeconds;
        this.startMillis = startMillis;
        this.values = new long[STRIDE * Math.max(16, expectedSamples)];
    }

    long startMillis() {
        return startMillis;
    }

    long endMillis() {
        return startMillis + resolutionSeconds * 1000L;
    }

    int samples() {
        return samples;
    }

    /** The input offset of the first sample added; {@code Long.MAX_VALUE} for none. */
    long firstOffset() {
        return firstOffset;
    }

    boolean isClosed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    /** Adds a valid sample ({@link SampleRules}), read from input offset {@code offset}. */
    void add(SampleFields sample, long offset) {
        firstOffset = Math.min(firstOffset, offset);
        int hostId = hostId(sample.host);
        int at = samples * STRIDE;
        if (at + STRIDE > values.length) {
            values = Arrays.copyOf(values, 2 * values.length);
        }
        long[] v = values;
        v[at] = hostId | (long) sample.outcome.ordinal() << OUTCOME_SHIFT | (long) sample.phasesPresent << PHASES_SHIFT;
        v[at + FIRST_LATENCY] = sample.serviceTimeNanos;
        v[at + FIRST_LATENCY + 1] = sample.responseTimeNanos;
        for (int present = sample.phasesPresent; present != 0; present &= present - 1) {
            int phase = Integer.numberOfTrailingZeros(present);
            v[at + FIRST_LATENCY + 2 + phase] = sample.phaseNanos[phase];
        }
        samples++;
        hostLabels(hostId).keepSampleLabels(sample.labels);
    }

    /** Appends every sample of {@code finer}, a window within this one's time (a base window into its minute). */
    void addAll(SeriesSamples finer) {
        int[] idOfFinerHost = new int[finer.hostNames.size()];
        for (int host = 0; host < idOfFinerHost.length; host++) {
            idOfFinerHost[host] = hostId(finer.hostNames.get(host));
            hostLabels(idOfFinerHost[host]).keepCommon(finer.labelsByHost[host]);
        }
        int length = (samples + finer.samples) * STRIDE;
        if (length > values.length) {
            values = Arrays.copyOf(values, Math.max(length, 2 * values.length));
        }
        int at = samples * STRIDE;
        System.arraycopy(finer.values, 0, values, at, finer.samples * STRIDE);
        for (int end = at + finer.samples * STRIDE; at < end; at += STRIDE) {
            values[at] = values[at] & ~HOST_MASK | idOfFinerHost[host(values, at)];
        }
        samples += finer.samples;
    }

    private int hostId(String host) {
        Integer id = hostIds.get(host);
        if (id == null) {
            id = hostNames.size();
            hostIds.put(host, id);
            hostNames.add(host);
        }
        return id;
    }

    private CommonLabels hostLabels(int hostId) {
        if (hostId >= labelsByHost.length) {
            labelsByHost = Arrays.copyOf(labelsByHost, Math.max(hostId + 1, 2 * labelsByHost.length));
        }
        CommonLabels labels = labelsByHost[hostId];
        if (labels == null) {
            labels = new CommonLabels();
            labelsByHost[hostId] = labels;
        }
        return labels;
    }

    /** Arrays reused from one window to the next; one per processor (thread). */
    static final class Scratch {
        private int[] hostStarts = new int[0];
        private int[] order = new int[0];
        private int[] indexes = new int[64];
        private long[] counts = new long[64];
        private long[] byBucket = new long[0];
    }

    /** Hands each host's window, in host id order, then the series' fleet-wide window to {@code emit}. */
    void makeWindows(Scratch scratch, Consumer<OpenWindow> emit) {
        if (samples == 0) {
            return;
        }
        int hosts = hostNames.size();
        if (scratch.hostStarts.length < hosts + 1) {
            scratch.hostStarts = new int[Math.max(hosts + 1, 2 * scratch.hostStarts.length)];
        }
        if (scratch.order.length < samples) {
            scratch.order = new int[Math.max(samples, 2 * scratch.order.length)];
        }
        int[] starts = scratch.hostStarts;
        Arrays.fill(starts, 0, hosts + 1, 0);
        long[] v = values;
        for (int i = 0; i < samples; i++) {
            starts[host(v, i * STRIDE) + 1]++;
        }
        for (int host = 0; host < hosts; host++) {
            starts[host + 1] += starts[host];
        }
        int[] order = scratch.order;
        int[] next = Arrays.copyOf(starts, hosts);
        for (int i = 0; i < samples; i++) {
            order[next[host(v, i * STRIDE)]++] = i * STRIDE;
        }
        Summary fleet = new Summary();
        CommonLabels fleetLabels = new CommonLabels();
        for (int host = 0; host < hosts; host++) {
            if (starts[host + 1] == starts[host]) {
                continue;
            }
            Summary summary = new Summary();
            for (int k = starts[host]; k < starts[host + 1]; k++) {
                summary.add(v, order[k]);
            }
            fleet.add(summary);
            fleetLabels.keepCommon(labelsByHost[host]);
            BucketCounts[] histograms = new BucketCounts[LATENCIES];
            for (int latency = 0; latency < LATENCIES; latency++) {
                histograms[latency] = hostHistogram(scratch, order, starts[host], starts[host + 1], latency);
            }
            emit.accept(summary.window(new HistogramKey(series, hostNames.get(host), resolutionSeconds, startMillis),
                    labelsByHost[host], histograms));
        }
        BucketCounts[] histograms = new BucketCounts[LATENCIES];
        for (int latency = 0; latency < LATENCIES; latency++) {
            histograms[latency] = fleetHistogram(scratch, latency);
        }
        emit.accept(fleet.window(new HistogramKey(series, HistogramKey.FLEET, resolutionSeconds, startMillis),
                fleetLabels, histograms));
    }

    private static int host(long[] v, int at) {
        return (int) (v[at] & HOST_MASK);
    }

    private static int outcome(long[] v, int at) {
        return (int) (v[at] >>> OUTCOME_SHIFT) & 0xFF;
    }

    /** Whether the sample at {@code at} has a value of {@code latency}: an OK sample, and for a phase, one that has it. */
    private static boolean hasLatency(long[] v, int at, int latency) {
        return RECORDS_LATENCY[outcome(v, at)] && (latency < 2 || (v[at] & 1L << PHASES_SHIFT + latency - 2) != 0);
    }

    /** One host's histogram of one latency, from its samples {@code order[from..to)}: a sort of their few bucket indexes. */
    private BucketCounts hostHistogram(Scratch scratch, int[] order, int from, int to, int latency) {
        if (scratch.indexes.length < to - from) {
            scratch.indexes = new int[Math.max(to - from, 2 * scratch.indexes.length)];
            scratch.counts = new long[scratch.indexes.length];
        }
        int[] indexes = scratch.indexes;
        long[] v = values;
        int n = 0;
        for (int k = from; k < to; k++) {
            int at = order[k];
            if (hasLatency(v, at, latency)) {
                indexes[n++] = LatencyHistograms.countsIndex(Math.max(v[at + FIRST_LATENCY + latency], 0L));
            }
        }
        if (n == 0) {
            return latency < 2 ? new BucketCounts() : null;
        }
        return BucketCounts.ofSorted(indexes, scratch.counts, countSorted(indexes, scratch.counts, n));
    }

    /**
     * Sorts {@code indexes[0..n)} and leaves each distinct index once, ascending, with how often it came at
     * the same place in {@code counts}.
     *
     * @return how many distinct indexes
     */
    static int countSorted(int[] indexes, long[] counts, int n) {
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
        return size;
    }

    /**
     * Moves the non-zero counts of buckets {@code low..high} of {@code byBucket} into {@code indexes} and
     * {@code counts}, ascending, and zeroes them there; the two arrays must have room for the whole range.
     *
     * @return how many buckets moved
     */
    static int drainCounts(long[] byBucket, int low, int high, int[] indexes, long[] counts) {
        int size = 0;
        for (int index = low; index <= high; index++) {
            if (byBucket[index] != 0) {
                indexes[size] = index;
                counts[size++] = byBucket[index];
                byBucket[index] = 0;
            }
        }
        return size;
    }

    /** The fleet-wide histogram of one latency: counts by bucket in one reused array, then one pass over their range. */
    private BucketCounts fleetHistogram(Scratch scratch, int latency) {
        long[] v = values;
        int low = Integer.MAX_VALUE;
        int high = -1;
        for (int at = 0; at < samples * STRIDE; at += STRIDE) {
            if (hasLatency(v, at, latency)) {
                int index = LatencyHistograms.countsIndex(Math.max(v[at + FIRST_LATENCY + latency], 0L));
                if (index >= scratch.byBucket.length) {
                    scratch.byBucket = Arrays.copyOf(scratch.byBucket, Math.max(index + 1, 2 * scratch.byBucket.length));
                }
                scratch.byBucket[index]++;
                low = Math.min(low, index);
                high = Math.max(high, index);
            }
        }
        if (high < 0) {
            return latency < 2 ? new BucketCounts() : null;
        }
        if (scratch.indexes.length < high - low + 1) {
            scratch.indexes = new int[Math.max(high - low + 1, 2 * scratch.indexes.length)];
            scratch.counts = new long[scratch.indexes.length];
        }
        int size = drainCounts(scratch.byBucket, low, high, scratch.indexes, scratch.counts);
        return BucketCounts.ofSorted(scratch.indexes, scratch.counts, size);
    }

    /** A window's counts and extremes, summed over its samples (or its hosts' summaries). */
    private static final class Summary {
        long sampleCount;
        final long[] outcomeCounts = new long[OUTCOMES.length];
        long minServiceNanos = Long.MAX_VALUE;
        long maxServiceNanos = Long.MIN_VALUE;
        long minResponseNanos = Long.MAX_VALUE;
        long maxResponseNanos = Long.MIN_VALUE;

        void add(long[] v, int at) {
            sampleCount++;
            int outcome = outcome(v, at);
            outcomeCounts[outcome]++;
            if (RECORDS_LATENCY[outcome]) {
                long service = v[at + FIRST_LATENCY];
                long response = v[at + FIRST_LATENCY + 1];
                minServiceNanos = Math.min(minServiceNanos, service);
                maxServiceNanos = Math.max(maxServiceNanos, service);
                minResponseNanos = Math.min(minResponseNanos, response);
                maxResponseNanos = Math.max(maxResponseNanos, response);
            }
        }

        void add(Summary other) {
            sampleCount += other.sampleCount;
            for (int i = 0; i < outcomeCounts.length; i++) {
                outcomeCounts[i] += other.outcomeCounts[i];
            }
            minServiceNanos = Math.min(minServiceNanos, other.minServiceNanos);
            maxServiceNanos = Math.max(maxServiceNanos, other.maxServiceNanos);
            minResponseNanos = Math.min(minResponseNanos, other.minResponseNanos);
            maxResponseNanos = Math.max(maxResponseNanos, other.maxResponseNanos);
        }

        OpenWindow window(HistogramKey key, CommonLabels labels, BucketCounts[] histograms) {
            return OpenWindow.made(key, sampleCount, outcomeCounts, minServiceNanos, maxServiceNanos, minResponseNanos,
                    maxResponseNanos, labels, histograms);
        }
    }
}
