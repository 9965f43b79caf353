package io.tailprobe.agent.schedule;

import io.tailprobe.agent.AgentConfig.PlannedTarget;
import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.probe.Probe;
import io.tailprobe.agent.probe.ProbeResult;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import java.time.Duration;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one target's schedule without coordinated omission: slot {@code n} is intended to start at
 * {@code t0 + n × interval}, probes of the target never overlap, and a probe that starts late
 * because its predecessor overran reports its response time from the <em>intended</em> start.
 *
 * <p>Worked example, 10 ms schedule, slot 0 takes 35 ms and the rest 1 ms: slot 1 (due at 10 ms)
 * starts at 35 ms and reports service 1 ms, response 26 ms; slot 2 responds in 17 ms, slot 3 in
 * 8 ms, and slot 4 is back on time at 40 ms with response 1 ms.
 *
 * <p>Every slot gets a sample while the backlog stays within {@code maxBacklog} (default 10 s).
 * Beyond that — say a 10 ms schedule behind a 2 s timeout storm — the pacer jumps to the latest
 * due slot; the slots in between get no sample, are counted in
 * {@code tailprobe_agent_slots_skipped_total} and logged once per target.
 *
 * <p>An agent gives each target its own {@code t0}: the agent's start plus the target's
 * {@link #phaseNanos phase}, a fixed point within its interval, so 500 targets every 100 ms start
 * one every 200 µs on average rather than all 500 at the same instant. Measured on a 2-core VM
 * (bench/probe-rate.sh, 5,000 probes/s): with one shared {@code t0} the median probe started 66 ms
 * late, lag the agent inflicted on itself and charged to the targets' response times; with phases,
 * 0.2–1.2 ms (docs/PERFORMANCE.md).
 */
public final class Pacer implements Runnable {
    public static final Duration DEFAULT_MAX_BACKLOG = Duration.ofSeconds(10);
    private static final Logger LOG = LoggerFactory.getLogger(Pacer.class);

    private final String agentId;
    private final PlannedTarget target;
    private final Probe probe;
    private final Ticker ticker;
    private final long startNanos;
    private final long intervalNanos;
    private final long maxBacklogNanos;
    private final LongSupplier sequence;
    private final AgentMetrics metrics;
    private final Consumer<LatencySample> out;
    private volatile boolean stopped;
    private boolean skipLogged;
    private long slot;

    /**
     * @param startNanos {@code t0}, the intended start of slot 0 as a {@link Ticker#nanoTime()} reading
     * @param sequence the agent-wide sample sequence, shared by every pacer (e.g. a {@link PersistentSequence})
     * @param out receives each sample; must not block (hand it to a queue)
     */
    public Pacer(String agentId, PlannedTarget target, Ticker ticker, long startNanos, Duration maxBacklog,
                 LongSupplier sequence, AgentMetrics metrics, Consumer<LatencySample> out) {
        this.agentId = Objects.requireNonNull(agentId, "agentId");
        this.target = Objects.requireNonNull(target, "target");
        this.probe = target.probe();
        this.ticker = Objects.requireNonNull(ticker, "ticker");
        this.startNanos = startNanos;
        this.intervalNanos = target.interval().toNanos();
        this.maxBacklogNanos = maxBacklog.toNanos();
        this.sequence = sequence;
        this.metrics = metrics;
        this.out = out;
        if (intervalNanos <= 0) {
            throw new IllegalArgumentException("interval must be > 0, got " + Durations.format(target.interval()));
        }
    }

    /**
     * Where in its interval a target's slots fall: a point in {@code [0, interval)} drawn from the agent
     * id and the target's key, so it is the same on every start and every reload, and different agents
     * probing the same target do not all hit it at once.
     */
    public static long phaseNanos(String agentId, String targetKey, Duration interval) {
        long seed = ((long) agentId.hashCode() << 32) ^ (targetKey.hashCode() & 0xFFFF_FFFFL);
        return new SplittableRandom(seed).nextLong(interval.toNanos());
    }

    /** Runs slots until {@link #stop()} or an interrupt. */
    @Override
    public void run() {
        try {
            while (!stopped) {
                step();
            }
        } catch (InterruptedException e) {
            // stop() interrupts a sleeping or probing pacer; nothing to report
        }
    }

    /** Ends the loop after the current slot; the caller interrupts the thread to cut a wait short. */
    public void stop() {
        stopped = true;
    }

    /**
     * Runs the next slot: waits for its intended start (not at all if it is already late), probes,
     * and emits the sample. Package-visible so tests can drive a pacer slot by slot in virtual time.
     */
    void step() throws InterruptedException {
        long scheduled = startNanos + slot * intervalNanos;
        ticker.sleepUntil(scheduled);
        long actual = ticker.nanoTime();
        if (actual - scheduled > maxBacklogNanos) {
            long due = (actual - startNanos) / intervalNanos;
            long skipped = due - slot;
            metrics.slotsSkipped(target.name(), skipped);
            if (!skipLogged) {
                skipLogged = true;
                LOG.warn("target {} is {} behind its {} schedule (bound {}); skipped {} slots, counting further "
                                + "skips in tailprobe_agent_slots_skipped_total without logging",
                        target.name(), Durations.format(Duration.ofNanos(actual - scheduled)),
                        Durations.format(target.interval()), Durations.format(Duration.ofNanos(maxBacklogNanos)),
                        skipped);
            }
            slot = due;
            scheduled = startNanos + slot * intervalNanos;
        }
        metrics.scheduleLag(target.name(), actual - scheduled);

        ProbeResult result;
        metrics.probeStarted();
        try {
            result = probe.probe();
        } catch (InterruptedException e) {
            throw e;
        } catch (RuntimeException e) {
            // A bug in a probe must not end the schedule; it becomes a sample like any failure.
            result = ProbeResult.failed(Outcome.IO_ERROR, probe.address(), null,
                    "probe failed unexpectedly: " + e);
        } finally {
            metrics.probeEnded();
        }
        long end = ticker.nanoTime();
        slot++;
        if (stopped) {
            return;
        }
        metrics.probeCompleted(target.name(), probe.type(), result.outcome());
        out.accept(toSample(result, scheduled, actual, end));
    }

    private LatencySample toSample(ProbeResult result, long scheduled, long actual, long end) {
        // A probe that measures its own latency (e.g. the median RTT of a UDP round) reports it;
        // the wait for the slot still counts in the response time.
        long serviceNanos = result.latencyNanos() != null ? result.latencyNanos() : end - actual;
        return LatencySample.newBuilder()
                .setHost(agentId)
                .setTarget(target.name())
                .setAddress(result.address())
                .setProbeType(probe.type())
                .setProtocol(result.protocol() != null ? result.protocol() : probe.protocol())
                .setScheduledStartMicros(ticker.epochMicros(scheduled))
                .setActualStartMicros(ticker.epochMicros(actual))
                .setServiceTimeNanos(serviceNanos)
                .setResponseTimeNanos(actual - scheduled + serviceNanos)
                .setOutcome(result.outcome())
                .setPhases(result.phases())
                .setConnectionReused(result.connectionReused())
                .setStatusCode(result.statusCode())
                .setAnswerCount(result.answerCount())
                .setPacketsSent(result.packetsSent())
                .setPacketsReceived(result.packetsReceived())
                .setPacketsReordered(result.packetsReordered())
                .setTlsCertNotAfterMillis(result.tlsCertNotAfterMillis())
                .setSequence(sequence.getAsLong())
                .setErrorDetail(result.errorDetail())
                .setLabels(new java.util.TreeMap<>(target.labels()))
                .build();
    }

    /** The next slot's index; slots skipped over a backlog count as passed. */
    long nextSlot() {
        return slot;
    }
}
