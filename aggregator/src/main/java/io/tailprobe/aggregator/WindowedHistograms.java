package io.tailprobe.aggregator;

import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencyHistograms;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import io.tailprobe.schemas.Phases;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * Adds samples to a window's record. Every sample counts under its outcome; only OK samples are
 * recorded in the latency histograms (a timeout's latency is unknown, only bounded below).
 */
final class WindowedHistograms {
    private WindowedHistograms() {}

    static WindowedHistogram empty(HistogramKey key, int resolutionSeconds) {
        byte[] none = LatencyHistograms.encode(LatencyHistograms.newHistogram());
        return WindowedHistogram.newBuilder()
                .setTarget(key.series().target()).setProbeType(key.series().probeType())
                .setProtocol(key.series().protocol()).setHost(key.host())
                .setResolutionSeconds(resolutionSeconds)
                .setWindowStartMillis(key.windowStartMillis())
                .setWindowEndMillis(key.windowStartMillis() + resolutionSeconds * 1000L)
                .setSampleCount(0)
                .setOutcomeCounts(new HashMap<>())
                .setServiceTimeHistogram(ByteBuffer.wrap(none))
                .setResponseTimeHistogram(ByteBuffer.wrap(none))
                .setPhaseHistograms(new HashMap<>())
                .build();
    }

    static void add(WindowedHistogram window, LatencySample sample) {
        window.setSampleCount(window.getSampleCount() + 1);
        Map<String, Long> outcomes = new HashMap<>(window.getOutcomeCounts());
        outcomes.merge(sample.getOutcome().name(), 1L, Long::sum);
        window.setOutcomeCounts(outcomes);
        if (sample.getOutcome() != Outcome.OK) {
            return;
        }
        long service = sample.getServiceTimeNanos();
        long response = sample.getResponseTimeNanos();
        window.setServiceTimeHistogram(recordInto(window.getServiceTimeHistogram(), service));
        window.setResponseTimeHistogram(recordInto(window.getResponseTimeHistogram(), response));
        window.setMinServiceTimeNanos(min(window.getMinServiceTimeNanos(), service));
        window.setMaxServiceTimeNanos(max(window.getMaxServiceTimeNanos(), service));
        window.setMinResponseTimeNanos(min(window.getMinResponseTimeNanos(), response));
        window.setMaxResponseTimeNanos(max(window.getMaxResponseTimeNanos(), response));
        PhaseTimings phases = sample.getPhases();
        if (phases != null) {
            Map<String, ByteBuffer> phaseHistograms = new HashMap<>(window.getPhaseHistograms());
            Phases.present(phases).forEach((phase, nanos) -> phaseHistograms.put(phase,
                    recordInto(phaseHistograms.get(phase), nanos)));
            window.setPhaseHistograms(phaseHistograms);
        }
    }

    /** Adds every count and histogram of {@code from} into {@code into} (exact: histograms add). */
    static void merge(WindowedHistogram into, WindowedHistogram from) {
        into.setSampleCount(into.getSampleCount() + from.getSampleCount());
        Map<String, Long> outcomes = new HashMap<>(into.getOutcomeCounts());
        from.getOutcomeCounts().forEach((outcome, count) -> outcomes.merge(outcome, count, Long::sum));
        into.setOutcomeCounts(outcomes);
        into.setServiceTimeHistogram(add(into.getServiceTimeHistogram(), from.getServiceTimeHistogram()));
        into.setResponseTimeHistogram(add(into.getResponseTimeHistogram(), from.getResponseTimeHistogram()));
        Map<String, ByteBuffer> phases = new HashMap<>(into.getPhaseHistograms());
        from.getPhaseHistograms().forEach((phase, histogram) -> phases.put(phase, add(phases.get(phase), histogram)));
        into.setPhaseHistograms(phases);
        into.setMinServiceTimeNanos(minOf(into.getMinServiceTimeNanos(), from.getMinServiceTimeNanos()));
        into.setMaxServiceTimeNanos(maxOf(into.getMaxServiceTimeNanos(), from.getMaxServiceTimeNanos()));
        into.setMinResponseTimeNanos(minOf(into.getMinResponseTimeNanos(), from.getMinResponseTimeNanos()));
        into.setMaxResponseTimeNanos(maxOf(into.getMaxResponseTimeNanos(), from.getMaxResponseTimeNanos()));
    }

    private static ByteBuffer add(ByteBuffer into, ByteBuffer from) {
        Histogram sum = into == null ? LatencyHistograms.newHistogram() : LatencyHistograms.decode(into);
        sum.add(LatencyHistograms.decode(from));
        return ByteBuffer.wrap(LatencyHistograms.encode(sum));
    }

    private static Long minOf(Long a, Long b) {
        return a == null ? b : b == null ? a : Long.valueOf(Math.min(a, b));
    }

    private static Long maxOf(Long a, Long b) {
        return a == null ? b : b == null ? a : Long.valueOf(Math.max(a, b));
    }

    private static ByteBuffer recordInto(ByteBuffer encoded, long valueNanos) {
        Histogram histogram = encoded == null ? LatencyHistograms.newHistogram() : LatencyHistograms.decode(encoded);
        LatencyHistograms.record(histogram, valueNanos);
        return ByteBuffer.wrap(LatencyHistograms.encode(histogram));
    }

    private static Long min(Long current, long value) {
        return current == null ? value : Math.min(current, value);
    }

    private static Long max(Long current, long value) {
        return current == null ? value : Math.max(current, value);
    }
}
