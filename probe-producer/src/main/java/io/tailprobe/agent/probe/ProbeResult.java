package io.tailprobe.agent.probe;

import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.util.Objects;

/**
 * How one probe ended: the outcome, the address actually probed (e.g. the resolved
 * {@code 10.0.0.7:5432}), the phases measured so far, and for failures a detail such as
 * {@code connect to 10.0.0.7:5432: Connection refused}.
 *
 * @param phases null when the probe measured no phase
 * @param connectionReused null when the probe type has no notion of connection reuse
 * @param statusCode HTTP status or DNS rcode; null for other probe types
 * @param errorDetail null for {@link Outcome#OK}
 */
public record ProbeResult(Outcome outcome, String address, PhaseTimings phases, Boolean connectionReused,
                          Integer statusCode, String errorDetail) {
    public ProbeResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(address, "address");
    }

    public static ProbeResult ok(String address, PhaseTimings phases) {
        return new ProbeResult(Outcome.OK, address, phases, false, null, null);
    }

    public static ProbeResult failed(Outcome outcome, String address, PhaseTimings phases, String errorDetail) {
        return new ProbeResult(outcome, address, phases, false, null, errorDetail);
    }
}
