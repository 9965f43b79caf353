package io.tailprobe.query.percentile;

import io.tailprobe.schemas.HistogramKey;
import java.util.List;
import java.util.Objects;

/**
 * One percentile question, already validated by the caller: target and probe type, optionally one
 * protocol (null merges every protocol of the target and probe), a host ({@code "*"} = fleet-wide),
 * the time range {@code [fromMillis, toMillis)} and the quantiles, e.g. 0.5, 0.99 and 0.999.
 */
public record PercentileQuery(String target, String probeType, String protocol, String host, long fromMillis,
                              long toMillis, List<Double> quantiles) {
    public PercentileQuery {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(probeType, "probeType");
        host = host == null ? HistogramKey.FLEET : host;
        quantiles = List.copyOf(quantiles);
    }
}
