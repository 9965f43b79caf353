package io.tailprobe.aggregator;

import io.tailprobe.schemas.BucketCounts;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One window of one series and host while it is open, with its latencies in memory as
 * {@link BucketCounts} (the non-empty buckets only). Adding a sample appends its latencies to a
 * small array; they go into the histograms, a few binary searches each, when the window is read.
 * The window becomes a {@link WindowedHistogram} record, with HdrHistogram's V2 encoding, only when
 * it is emitted at its close. Every sample counts
 * under its outcome; only OK samples are recorded in the latency histograms (a timeout's latency
 * is unknown, only bounded below; {@link SampleRules#recordsLatency}), and min/max are exact over them.
 *
 * <p>The aggregator makes its base and first rollup windows of samples with {@link SeriesSamples}, which
 * gives them as OpenWindows, and adds windows into its coarser rollups here. Public so that
 * {@code tailprobe replay} adds samples to windows as the aggregator would: the same samples in the same
 * window give a record with the same counts, extremes and histogram bytes ({@code SeriesSamplesTest}).
 */
public final class OpenWindow {
    private static final Outcome[] OUTCOMES = Outcome.values();
    private static final int PHASE_COUNT = Phases.NAMES.size();

    private final HistogramKey key;
    private final String storeKey;
    private long sampleCount;
    private final long[] outcomeCounts = new long[OUTCOMES.length];
    /** Counts read from a record under outcome names this build does not know; kept, not lost. */
    private final Map<String, Long> otherOutcomeCounts = new HashMap<>();
    private long minServiceNanos = Long.MAX_VALUE;
    private long maxServiceNanos = Long.MIN_VALUE;
    private long minResponseNanos = Long.MAX_VALUE;
    private long maxResponseNanos = Long.MIN_VALUE;
    private final BucketCounts service;
    private final BucketCounts response;
    /** By index in {@link Phases#NAMES}; created on the first sample that has the phase. */
    private final BucketCounts[] phases = new BucketCounts[PHASE_COUNT];
    private final CommonLabels labels = new CommonLabels();
    /**
     * The latencies of the OK samples added since the histograms were last read: per sample its service
     * and response time, its {@link SampleFields#phasesPresent} and those phases' times. A sample lands in
     * one window among thousands open, each last touched a second ago, so writing into eight histograms'
     * arrays right away would touch a score of cold cache lines; here it writes one or two, and the
     * histograms take the values all at once when they are read (merged, emitted) or this fills up.
     */
    private long[] pending = NO_LATENCIES;
    private int pendingLength;
    /** The OK samples whose latencies are in {@link #pending}. */
    private int pendingSamples;
    private static final long[] NO_LATENCIES = new long[0];
    private static final int MAX_PENDING = 256;
    /** Set by the processor that emitted this window. */
    private boolean closed;

    private OpenWindow(HistogramKey key, BucketCounts service, BucketCounts response) {
        this.key = key;
        this.storeKey = key.encode();
        this.service = service;
        this.response = response;
    }

    public static OpenWindow empty(HistogramKey key) {
        return new OpenWindow(key, new BucketCounts(), new BucketCounts());
    }

    /**
     * A window made whole at its close from its samples ({@link SeriesSamples}): every sample's count under
     * its outcome (by ordinal), the extremes of the OK ones (MAX/MIN_VALUE for none), the labels they share,
     * and their histograms: service time, response time, then each phase of {@link Phases#NAMES} (null when no
     * OK sample has it).
     */
    static OpenWindow made(HistogramKey key, long sampleCount, long[] outcomeCounts, long minServiceNanos,
                           long maxServiceNanos, long minResponseNanos, long maxResponseNanos, CommonLabels labels,
                           BucketCounts[] latencies) {
        OpenWindow window = new OpenWindow(key, latencies[0], latencies[1]);
        window.sampleCount = sampleCount;
        System.arraycopy(outcomeCounts, 0, window.outcomeCounts, 0, window.outcomeCounts.length);
        window.minServiceNanos = minServiceNanos;
        window.maxServiceNanos = maxServiceNanos;
        window.minResponseNanos = minResponseNanos;
        window.maxResponseNanos = maxResponseNanos;
        window.labels.keepCommon(labels);
        System.arraycopy(latencies, 2, window.phases, 0, PHASE_COUNT);
        return window;
    }

    /** Decodes an emitted window, to add it into its rollups again after a restart or rebalance. */
    static OpenWindow of(WindowedHistogram record) {
        OpenWindow window = new OpenWindow(HistogramKey.of(record), BucketCounts.decode(record.getServiceTimeHistogram()),
                BucketCounts.decode(record.getResponseTimeHistogram()));
        window.sampleCount = record.getSampleCount();
        window.labels.keep(record.getLabels());
        record.getOutcomeCounts().forEach(window::addOutcomeCount);
        window.minServiceNanos = orElse(record.getMinServiceTimeNanos(), Long.MAX_VALUE);
        window.maxServiceNanos = orElse(record.getMaxServiceTimeNanos(), Long.MIN_VALUE);
        window.minResponseNanos = orElse(record.getMinResponseTimeNanos(), Long.MAX_VALUE);
        window.maxResponseNanos = orElse(record.getMaxResponseTimeNanos(), Long.MIN_VALUE);
        for (int phase = 0; phase < PHASE_COUNT; phase++) {
            ByteBuffer encoded = record.getPhaseHistograms().get(Phases.NAMES.get(phase));
            if (encoded != null) {
                window.phases[phase] = BucketCounts.decode(encoded);
            }
        }
        return window;
    }

    public HistogramKey key() {
        return key;
    }

    String storeKey() {
        return storeKey;
    }

    long windowEndMillis() {
        return key.windowStartMillis() + key.resolutionSeconds() * 1000L;
    }

    public long sampleCount() {
        return sampleCount;
    }

    /** Whether the processor that held this window has emitted it ({@link #markClosed}). */
    boolean isClosed() {
        return closed;
    }

    void markClosed() {
        closed = true;
    }

    /** Adds a sample; it must be valid ({@link SampleRules}). */
    public void add(LatencySample sample) {
        add(new SampleFields().from(sample));
    }

    /** Adds a sample; it must be valid ({@link SampleRules}). */
    void add(SampleFields sample) {
        sampleCount++;
        labels.keepSampleLabels(sample.labels);
        outcomeCounts[sample.outcome.ordinal()]++;
        if (!SampleRules.recordsLatency(sample.outcome)) {
            return;
        }
        long serviceNanos = sample.serviceTimeNanos;
        long responseNanos = sample.responseTimeNanos;
        minServiceNanos = Math.min(minServiceNanos, serviceNanos);
        maxServiceNanos = Math.max(maxServiceNanos, serviceNanos);
        minResponseNanos = Math.min(minResponseNanos, responseNanos);
        maxResponseNanos = Math.max(maxResponseNanos, responseNanos);
        int phasesPresent = sample.phasesPresent;
        int length = 3 + Integer.bitCount(phasesPresent);
        if (pendingLength + length > pending.length) {
            if (pending.length < MAX_PENDING) {
                pending = Arrays.copyOf(pending, Math.max(pending.length * 2, Math.max(16, pendingLength + length)));
            } else {
                recordPending();
            }
        }
        long[] values = pending;
        int at = pendingLength;
        values[at++] = serviceNanos;
        values[at++] = responseNanos;
        values[at++] = phasesPresent;
        for (int present = phasesPresent; present != 0; present &= present - 1) {
            values[at++] = sample.phaseNanos[Integer.numberOfTrailingZeros(present)];
        }
        pendingLength = at;
        pendingSamples++;
    }

    /** Records the latencies in {@link #pending} into the histograms; before anything reads them. */
    private void recordPending() {
        if (pendingSamples == 0) {
            return;
        }
        service.reserve(pendingSamples); // at most a bucket a sample: no array regrows while recording
        response.reserve(pendingSamples);
        for (BucketCounts phase : phases) {
            if (phase != null) {
                phase.reserve(pendingSamples);
            }
        }
        long[] values = pending;
        for (int at = 0; at < pendingLength; ) {
            service.record(values[at++]);
            response.record(values[at++]);
            for (int present = (int) values[at++]; present != 0; present &= present - 1) {
                phaseCounts(Integer.numberOfTrailingZeros(present), pendingSamples).record(values[at++]);
            }
        }
        pendingLength = 0;
        pendingSamples = 0;
    }

    /** The histogram of a phase, created with room for {@code buckets} when the window has none yet. */
    private BucketCounts phaseCounts(int phase, int buckets) {
        BucketCounts counts = phases[phase];
        if (counts == null) {
            counts = new BucketCounts();
            counts.reserve(buckets);
            phases[phase] = counts;
        }
        return counts;
    }

    /** Adds every count and histogram of {@code other} (exact: histograms add). */
    public void merge(OpenWindow other) {
        recordPending();
        other.recordPending();
        labels.keepCommon(other.labels);
        sampleCount += other.sampleCount;
        for (int i = 0; i < outcomeCounts.length; i++) {
            outcomeCounts[i] += other.outcomeCounts[i];
        }
        other.otherOutcomeCounts.forEach((outcome, count) -> otherOutcomeCounts.merge(outcome, count, Long::sum));
        service.addAll(other.service);
        response.addAll(other.response);
        for (int phase = 0; phase < PHASE_COUNT; phase++) {
            if (other.phases[phase] != null) {
                phaseCounts(phase, 0).addAll(other.phases[phase]);
            }
        }
        minServiceNanos = Math.min(minServiceNanos, other.minServiceNanos);
        maxServiceNanos = Math.max(maxServiceNanos, other.maxServiceNanos);
        minResponseNanos = Math.min(minResponseNanos, other.minResponseNanos);
        maxResponseNanos = Math.max(maxResponseNanos, other.maxResponseNanos);
    }

    /** The record for the store and for {@code latency.histograms}; encodes every histogram. */
    public WindowedHistogram toRecord() {
        recordPending();
        Map<String, Long> outcomes = new HashMap<>(otherOutcomeCounts);
        for (int i = 0; i < outcomeCounts.length; i++) {
            if (outcomeCounts[i] > 0) {
                outcomes.put(OUTCOMES[i].name(), outcomeCounts[i]);
            }
        }
        Map<String, ByteBuffer> phaseHistograms = new LinkedHashMap<>();
        for (int phase = 0; phase < PHASE_COUNT; phase++) {
            if (phases[phase] != null) {
                phaseHistograms.put(Phases.NAMES.get(phase), ByteBuffer.wrap(phases[phase].encode()));
            }
        }
        boolean anyOk = maxServiceNanos != Long.MIN_VALUE;
        // the all-fields constructor, not the builder: every field is set, and the builder validates
        // and copies each one again for every window emitted
        return new WindowedHistogram(key.series().target(), key.series().probeType(), key.series().protocol(),
                key.host(), key.resolutionSeconds(), key.windowStartMillis(), windowEndMillis(), sampleCount, outcomes,
                anyOk ? minServiceNanos : null, anyOk ? maxServiceNanos : null,
                anyOk ? minResponseNanos : null, anyOk ? maxResponseNanos : null,
                ByteBuffer.wrap(service.encode()), ByteBuffer.wrap(response.encode()), phaseHistograms,
                labels.labels());
    }

    private void addOutcomeCount(String outcome, long count) {
        for (Outcome known : OUTCOMES) {
            if (known.name().equals(outcome)) {
                outcomeCounts[known.ordinal()] += count;
                return;
            }
        }
        otherOutcomeCounts.merge(outcome, count, Long::sum);
    }

    private static long orElse(Long value, long otherwise) {
        return value == null ? otherwise : value;
    }
}
