package io.tailprobe.query.percentile;

import java.util.List;
import java.util.Objects;

/**
 * One percentile question, already validated by the caller: the series and range, the quantiles (e.g.
 * 0.5, 0.99 and 0.999), and the phases to summarize beside response and service time (e.g.
 * {@code connect}, none by default).
 */
public record PercentileQuery(SeriesRange range, List<Double> quantiles, List<Latency> phases) {
    public PercentileQuery {
        Objects.requireNonNull(range, "range");
        quantiles = List.copyOf(quantiles);
        phases = List.copyOf(phases);
        if (phases.stream().anyMatch(phase -> !phase.isPhase())) {
            throw new IllegalArgumentException("phases must be phases, got " + phases);
        }
    }
}
