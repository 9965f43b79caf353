package io.tailprobe.aggregator;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import io.tailprobe.schemas.Phases;
import java.util.Map;

/**
 * The fields of one sample that the aggregator reads: its series and host, its times, its outcome, its
 * phases and labels. {@link SampleReader} fills one instance straight from each record's bytes, so the
 * aggregator builds no {@link LatencySample}, and {@link #from} fills it from a decoded sample.
 */
final class SampleFields {
    String host;
    String target;
    String probeType;
    String protocol;
    long scheduledStartMicros;
    long serviceTimeNanos;
    long responseTimeNanos;
    Outcome outcome;
    /** Bit {@code i} set when the sample has phase {@code i} of {@link Phases#NAMES}, in {@link #phaseNanos}. */
    int phasesPresent;
    final long[] phaseNanos = new long[Phases.NAMES.size()];
    /** Never null; read only (a {@link SampleReader} hands the same map to every sample with the same labels). */
    Map<String, String> labels;

    /** Takes the fields of {@code sample}; returns this. */
    SampleFields from(LatencySample sample) {
        host = sample.getHost();
        target = sample.getTarget();
        probeType = sample.getProbeType();
        protocol = sample.getProtocol();
        scheduledStartMicros = sample.getScheduledStartMicros();
        serviceTimeNanos = sample.getServiceTimeNanos();
        responseTimeNanos = sample.getResponseTimeNanos();
        outcome = sample.getOutcome();
        phasesPresent = 0;
        PhaseTimings timings = sample.getPhases();
        for (int phase = 0; timings != null && phase < phaseNanos.length; phase++) {
            Long nanos = Phases.nanos(timings, phase);
            if (nanos != null) {
                phaseNanos[phase] = nanos;
                phasesPresent |= 1 << phase;
            }
        }
        labels = sample.getLabels() == null ? Map.of() : sample.getLabels();
        return this;
    }
}
