package io.tailprobe.agent.sink;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.spool.Spool;
import io.tailprobe.common.Durations;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the spool to the sink in order while the {@link SinkQueue} is spooling, on a virtual thread of
 * its own, so a send that blocks (Kafka's {@code max.block.ms} without metadata) never keeps new
 * samples from reaching the disk. A sample leaves the spool only when the sink acknowledged it.
 *
 * <p>It first sends one sample; once that is acknowledged, up to {@link #MAX_IN_FLIGHT} at a time (the
 * producer keeps them in order per partition). After a failure it waits until nothing is in flight,
 * pauses for the retry backoff and starts again with one sample from the oldest unacknowledged, skipping
 * those acknowledged meanwhile. While samples copied to the spool at the switch may still be delivered
 * by their first send, it sends nothing, so such a sample is either acknowledged by that send and
 * skipped here, or sent from here once that send failed: never both.
 */
final class SpoolSender implements Runnable {
    static final int MAX_IN_FLIGHT = 1_000;
    private static final long IDLE_WAIT_MILLIS = 1_000;
    private static final long ERROR_LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final Logger LOG = LoggerFactory.getLogger(SpoolSender.class);

    /** The outcome of one send; {@code direct} for a copy whose first, direct send succeeded. */
    private record Completion(long index, Exception failure, boolean direct) {}

    private final Spool spool;
    private final SampleSink sink;
    private final AgentMetrics metrics;
    private final SinkQueue owner;
    private final long retryBackoffNanos;
    private final Queue<Completion> completions = new ConcurrentLinkedQueue<>();
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean stopping;
    private volatile long stopByNanos;
    private int inFlight;
    private int window = 1;
    private boolean attemptFailed;
    private long retryAtNanos;
    private boolean failureLogged;
    private long sentFromSpool;
    private long drainStartNanos;
    private long lastErrorLogNanos;
    private boolean errorLogged;

    SpoolSender(Spool spool, SampleSink sink, AgentMetrics metrics, SinkQueue owner, Duration retryBackoff) {
        this.spool = spool;
        this.sink = sink;
        this.metrics = metrics;
        this.owner = owner;
        this.retryBackoffNanos = retryBackoff.toNanos();
    }

    void wake() {
        wake.release();
    }

    /** The direct send of the sample copied to the spool at {@code index} succeeded: skip it here. */
    void deliveredDirectly(long index) {
        completions.add(new Completion(index, null, true));
        wake.release();
    }

    /** Stop once everything is sent, or at {@code deadlineNanos} (a {@link System#nanoTime()} reading). */
    void stopBy(long deadlineNanos) {
        stopByNanos = deadlineNanos;
        stopping = true;
        wake.release();
    }

    @Override
    public void run() {
        try {
            while (!step()) {
                wake.tryAcquire(IDLE_WAIT_MILLIS, TimeUnit.MILLISECONDS);
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            // close() ran out of time; what is unacknowledged stays in the spool
        }
    }

    /** One round; true when stopping and there is nothing more to do. */
    private boolean step() {
        try {
            // Read before applying completions: a copy's completion is queued before it stops counting.
            boolean copiesResolved = owner.unresolvedCopies() == 0;
            applyCompletions();
            spool.dropExpired();
            spool.flushIfDue();
            if (owner.spooling() && copiesResolved) {
                sendMore();
                if (inFlight == 0 && owner.sendDirectlyIfDrained()) {
                    LOG.info("spool drained: {} spooled samples sent in order{}; sending directly again", sentFromSpool,
                            drainStartNanos == 0 ? "" : " (" + Durations.format(Duration.ofMillis(
                                    (System.nanoTime() - drainStartNanos) / 1_000_000)) + " after the first attempt)");
                    sentFromSpool = 0;
                    drainStartNanos = 0;
                    failureLogged = false;
                }
            }
        } catch (RuntimeException e) {
            long now = System.nanoTime();
            if (!errorLogged || now - lastErrorLogNanos >= ERROR_LOG_INTERVAL_NANOS) {
                errorLogged = true;
                lastErrorLogNanos = now;
                LOG.error("spool sender: {}; trying again (logged at most once a minute)", e.toString(), e);
            }
        }
        if (!stopping) {
            return false;
        }
        boolean finished = owner.drainerDone() && inFlight == 0 && (!owner.spooling() || spool.isEmpty());
        return finished || System.nanoTime() - stopByNanos >= 0;
    }

    private void sendMore() {
        if (attemptFailed) {
            if (inFlight > 0 || System.nanoTime() - retryAtNanos < 0) {
                return;
            }
            spool.rewind();
            attemptFailed = false;
            window = 1;
        }
        if (inFlight >= window) {
            return;
        }
        for (Spool.Entry entry : spool.readNext(window - inFlight)) {
            if (drainStartNanos == 0) {
                drainStartNanos = System.nanoTime();
            }
            inFlight++;
            long index = entry.index();
            try {
                sink.send(entry.sample(), failure -> completed(index, failure));
            } catch (RuntimeException e) {
                completed(index, e);
                return;
            }
        }
    }

    private void completed(long index, Exception failure) {
        completions.add(new Completion(index, failure, false));
        wake.release();
    }

    /** Applies the outcomes that arrived since the last call (also from {@link SinkQueue#close}). */
    void applyCompletions() {
        for (Completion done = completions.poll(); done != null; done = completions.poll()) {
            if (done.direct()) {
                spool.acknowledge(done.index());
                continue;
            }
            inFlight--;
            if (done.failure() == null) {
                spool.acknowledge(done.index());
                metrics.sampleSent();
                sentFromSpool++;
                window = MAX_IN_FLIGHT;
            } else {
                metrics.sendFailed();
                attemptFailed = true;
                retryAtNanos = System.nanoTime() + retryBackoffNanos;
                if (!failureLogged) {
                    failureLogged = true;
                    LOG.warn("sending from the spool failed ({}); retrying every {} while it fails", done.failure()
                            .toString(), Durations.format(Duration.ofNanos(retryBackoffNanos)));
                }
            }
        }
    }
}
