package io.tailprobe.agent.probe;

import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.PhaseTimings;
import java.util.Objects;

/**
 * How one probe ended: the outcome, the address actually probed (e.g. the resolved
 * {@code 10.0.0.7:5432}), the phases measured so far, and for failures a detail such as
 * {@code connect to 10.0.0.7:5432: Connection refused}. Type-specific details are added with the
 * {@code with…} methods and are null otherwise.
 *
 * @param phases null when the probe measured no phase
 * @param connectionReused null when the probe type has no notion of connection reuse
 * @param statusCode HTTP status or DNS rcode; null for other probe types
 * @param errorDetail null for {@link Outcome#OK}
 * @param protocol the protocol actually used (e.g. {@code h2} after ALPN); null: the probe's configured one
 * @param latencyNanos the latency the probe measured itself (e.g. the median RTT of a UDP round);
 *     null: the pacer's wall time around the probe is the service time
 * @param answerCount DNS answer records
 * @param packetsSent ICMP/UDP packets sent in the round
 * @param packetsReceived ICMP/UDP replies received in the round
 * @param packetsReordered ICMP/UDP replies that arrived after the reply of a later packet
 * @param tlsCertNotAfterMillis the earliest notAfter of the peer's certificate chain
 */
public record ProbeResult(Outcome outcome, String address, PhaseTimings phases, Boolean connectionReused,
                          Integer statusCode, String errorDetail, String protocol, Long latencyNanos,
                          Integer answerCount, Integer packetsSent, Integer packetsReceived, Integer packetsReordered,
                          Long tlsCertNotAfterMillis) {
    public ProbeResult {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(address, "address");
    }

    public ProbeResult(Outcome outcome, String address, PhaseTimings phases, Boolean connectionReused,
                       Integer statusCode, String errorDetail) {
        this(outcome, address, phases, connectionReused, statusCode, errorDetail, null, null, null, null, null, null,
                null);
    }

    public static ProbeResult ok(String address, PhaseTimings phases) {
        return new ProbeResult(Outcome.OK, address, phases, false, null, null);
    }

    public static ProbeResult failed(Outcome outcome, String address, PhaseTimings phases, String errorDetail) {
        return new ProbeResult(outcome, address, phases, false, null, errorDetail);
    }

    public ProbeResult withProtocol(String usedProtocol) {
        return new ProbeResult(outcome, address, phases, connectionReused, statusCode, errorDetail, usedProtocol,
                latencyNanos, answerCount, packetsSent, packetsReceived, packetsReordered, tlsCertNotAfterMillis);
    }

    public ProbeResult withLatencyNanos(Long measuredNanos) {
        return new ProbeResult(outcome, address, phases, connectionReused, statusCode, errorDetail, protocol,
                measuredNanos, answerCount, packetsSent, packetsReceived, packetsReordered, tlsCertNotAfterMillis);
    }

    public ProbeResult withAnswerCount(Integer answers) {
        return new ProbeResult(outcome, address, phases, connectionReused, statusCode, errorDetail, protocol,
                latencyNanos, answers, packetsSent, packetsReceived, packetsReordered, tlsCertNotAfterMillis);
    }

    public ProbeResult withPackets(int sent, int received, int reordered) {
        return new ProbeResult(outcome, address, phases, connectionReused, statusCode, errorDetail, protocol,
                latencyNanos, answerCount, sent, received, reordered, tlsCertNotAfterMillis);
    }

    public ProbeResult withTlsCertNotAfterMillis(Long notAfterMillis) {
        return new ProbeResult(outcome, address, phases, connectionReused, statusCode, errorDetail, protocol,
                latencyNanos, answerCount, packetsSent, packetsReceived, packetsReordered, notAfterMillis);
    }
}
