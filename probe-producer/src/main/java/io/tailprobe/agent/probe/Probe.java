package io.tailprobe.agent.probe;

/**
 * One target, probed once per call. Implementations hold the target's address and timeout, are
 * called by one pacer thread at a time, and never throw for a failed probe: a refused connection
 * or a timeout is a {@link ProbeResult} with an outcome. The pacer measures service time around
 * {@link #probe()}; the probe reports the phases it can see (connect, first byte, …).
 */
public interface Probe extends AutoCloseable {
    /** The probe type as configured and as it appears in samples, e.g. {@code tcp}. */
    String type();

    /** The protocol detail of the samples, e.g. {@code tcp}, {@code http/1.1}. */
    String protocol();

    /** The configured address, e.g. {@code db.internal:5432}. */
    String address();

    /**
     * Probes once, within the target's timeout.
     *
     * @throws InterruptedException only when the agent is stopping
     */
    ProbeResult probe() throws InterruptedException;

    /** Releases what the probe holds (sockets, clients); called once its pacer or check is done. */
    @Override
    default void close() {}
}
