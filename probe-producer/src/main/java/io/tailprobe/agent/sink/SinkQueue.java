package io.tailprobe.agent.sink;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.agent.spool.Spool;
import io.tailprobe.common.Durations;
import io.tailprobe.schemas.LatencySample;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hand-off between the pacers and the sink: {@link #accept} never blocks, and one virtual
 * thread feeds the sink in order. When the sink stalls (Kafka's {@code max.block.ms} while the
 * broker is unreachable) the queue absorbs it — 10 000 samples is about 2.7 h of a 1 s target or
 * 100 s of a 10 ms one — and beyond that new samples are dropped, counted in
 * {@code tailprobe_agent_samples_dropped_total} and logged once. Pacer timing never depends on the
 * sink.
 *
 * <p>With a {@link Spool}, an outage goes to disk instead of memory. Samples are sent directly while
 * Kafka keeps up; when a send fails, or the oldest unacknowledged sample has waited longer than
 * {@link OutageRule#maxUnackedAge()} (5 s), or more than {@link OutageRule#maxUnackedSamples()}
 * (10,000) are unacknowledged, every unacknowledged sample is copied to the spool in order and new
 * samples go behind them, so Kafka receives them in the order they were probed. A {@link SpoolSender}
 * sends the spool once Kafka answers and, when the spool is empty, direct sending resumes. A sample
 * copied at the switch whose first send was acknowledged after all (the producer kept retrying it) is
 * skipped in the spool, not sent twice. On {@link #close} whatever is left goes to the spool for the
 * next start.
 *
 * <p>Worked example, 100 samples/s (measured by {@code AgentOutageFaultTest}): the broker stops at
 * 12:00:00 and the producer, its connection gone, drops its metadata, so the next send blocks for
 * {@code max.block.ms} and fails at 12:00:05; the ~20 samples the producer still holds are copied to
 * the spool, the ~500 queued meanwhile follow them, then 100 a second. The broker is back at 12:01:00:
 * the producer's retries deliver the copied ones, the sender sends the ~6,500 spooled ones within 3 s,
 * and the agent sends directly again.
 */
public final class SinkQueue implements Consumer<LatencySample>, AutoCloseable {
    public static final int DEFAULT_CAPACITY = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(SinkQueue.class);
    private static final long POLL_MILLIS = 100;
    private static final Duration STRAGGLER_JOIN = Duration.ofSeconds(1);

    /**
     * When the agent stops waiting for Kafka and spools.
     *
     * @param maxUnackedAge the longest a sent sample may wait for its acknowledgement
     * @param maxUnackedSamples the most samples that may wait for acknowledgement at once
     * @param retryBackoff the pause after a failed attempt to send from the spool
     */
    public record OutageRule(Duration maxUnackedAge, int maxUnackedSamples, Duration retryBackoff) {
        public static final OutageRule DEFAULT = new OutageRule(Duration.ofSeconds(5), 10_000, Duration.ofSeconds(1));
    }

    /** A sample sent directly and not yet acknowledged; {@code spoolIndex} once it is copied to the spool. */
    private static final class Pending {
        final LatencySample sample;
        final long sentNanos;
        long spoolIndex = -1;
        boolean failed;

        Pending(LatencySample sample, long sentNanos) {
            this.sample = sample;
            this.sentNanos = sentNanos;
        }
    }

    private final BlockingQueue<LatencySample> queue;
    private final SampleSink sink;
    private final AgentMetrics metrics;
    private final Spool spool;
    private final OutageRule rule;
    private final SpoolSender sender;
    private final Thread senderThread;
    private final Thread drainer;
    private final AtomicBoolean dropLogged = new AtomicBoolean();
    private final AtomicBoolean failureLogged = new AtomicBoolean();
    private final Object route = new Object();
    private final LinkedHashMap<Long, Pending> pending = new LinkedHashMap<>();
    private long nextPendingId;
    private boolean directFailed;
    private int unresolvedCopies;
    private volatile boolean spooling;
    private volatile boolean closing;

    /** Without a spool: what the sink cannot take is counted and lost (tests, in-memory sinks). */
    public SinkQueue(SampleSink sink, AgentMetrics metrics, int capacity) {
        this(sink, metrics, capacity, null, OutageRule.DEFAULT);
    }

    /**
     * @param spool where samples wait while Kafka is unreachable or slow; if it holds samples from an
     *     earlier run, they are sent first
     */
    public SinkQueue(SampleSink sink, AgentMetrics metrics, int capacity, Spool spool, OutageRule rule) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sink = sink;
        this.metrics = metrics;
        this.spool = spool;
        this.rule = rule;
        if (spool != null) {
            this.spooling = !spool.isEmpty();
            this.sender = new SpoolSender(spool, sink, metrics, this, rule.retryBackoff());
            this.senderThread = Thread.ofVirtual().name("tailprobe-spool-sender").unstarted(sender);
            if (spooling) {
                LOG.info("spool {} holds {} samples (oldest {} s ago); sending them before new ones", spool.directory(),
                        spool.depth(), Math.round(spool.oldestSampleAgeSeconds()));
            }
        } else {
            this.sender = null;
            this.senderThread = null;
        }
        this.drainer = Thread.ofVirtual().name("tailprobe-sink").unstarted(this::drain);
        drainer.start();
        if (senderThread != null) {
            senderThread.start();
        }
    }

    @Override
    public void accept(LatencySample sample) {
        if (closing || !queue.offer(sample)) {
            metrics.sampleDropped();
            if (dropLogged.compareAndSet(false, true)) {
                LOG.warn("sample queue full ({} samples) or closing: dropping samples, counted in "
                        + "tailprobe_agent_samples_dropped_total (logged once)", queue.size());
            }
        }
    }

    private void drain() {
        try {
            while (true) {
                LatencySample sample = queue.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                if (spool != null) {
                    spoolIfKafkaIsDown();
                }
                if (sample != null) {
                    route(sample);
                } else if (closing && settled()) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Nothing sent directly is still waiting, or it is in the spool. */
    private boolean settled() {
        if (spool == null) {
            return true;
        }
        synchronized (route) {
            return spooling || pending.isEmpty();
        }
    }

    private void route(LatencySample sample) {
        if (spool == null) {
            sendUnspooled(sample);
            return;
        }
        long id;
        synchronized (route) {
            if (spooling) {
                spool.append(sample);
                return;
            }
            id = nextPendingId++;
            pending.put(id, new Pending(sample, System.nanoTime()));
        }
        try {
            sink.send(sample, failure -> directCompleted(id, failure));
        } catch (RuntimeException e) {
            directCompleted(id, e);
        }
    }

    private void directCompleted(long id, Exception failure) {
        synchronized (route) {
            Pending sent = pending.get(id);
            if (sent == null) {
                return;
            }
            if (sent.spoolIndex < 0 && failure != null) {
                sent.failed = true;
                directFailed = true;
            } else {
                pending.remove(id);
                if (sent.spoolIndex >= 0) {
                    if (failure == null) {
                        sender.deliveredDirectly(sent.spoolIndex);
                    }
                    unresolvedCopies--;
                    sender.wake();
                }
            }
        }
        counted(failure);
    }

    /** Switches to the spool if the {@link OutageRule} says Kafka is down or too slow. */
    private void spoolIfKafkaIsDown() {
        String reason;
        int copied;
        synchronized (route) {
            if (spooling) {
                return;
            }
            reason = outageReason();
            if (reason == null) {
                return;
            }
            copied = copyPendingToSpool();
            spooling = true;
        }
        LOG.warn("Kafka is unreachable or slow ({}): spooling samples to {}, to be sent in order when it answers; "
                + "{} unacknowledged samples copied there", reason, spool.directory(), copied);
        sender.wake();
    }

    private String outageReason() {
        if (directFailed) {
            return "a send failed";
        }
        if (pending.size() > rule.maxUnackedSamples()) {
            return pending.size() + " samples unacknowledged";
        }
        if (!pending.isEmpty()) {
            long waitedNanos = System.nanoTime() - pending.firstEntry().getValue().sentNanos;
            if (waitedNanos > rule.maxUnackedAge().toNanos()) {
                return "a sample unacknowledged for " + Durations.format(Duration.ofMillis(waitedNanos / 1_000_000));
            }
        }
        return null;
    }

    /** Appends every sample not yet acknowledged, in the order sent; the caller holds {@link #route}. */
    private int copyPendingToSpool() {
        int copied = 0;
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
            Pending sent = it.next();
            if (sent.spoolIndex >= 0) {
                continue;
            }
            long index = spool.append(sent.sample);
            if (index >= 0) {
                copied++;
            }
            if (sent.failed || index < 0) {
                it.remove();
            } else {
                sent.spoolIndex = index;
                unresolvedCopies++;
            }
        }
        directFailed = false;
        return copied;
    }

    boolean spooling() {
        return spooling;
    }

    /** The drainer has handed over everything queued (only after {@link #close} begins). */
    boolean drainerDone() {
        return !drainer.isAlive();
    }

    /** Samples copied to the spool at the switch whose direct send has not completed yet. */
    int unresolvedCopies() {
        synchronized (route) {
            return unresolvedCopies;
        }
    }

    /** Back to direct sending if the spool is empty; appends and this switch exclude each other. */
    boolean sendDirectlyIfDrained() {
        synchronized (route) {
            if (!spooling || !spool.isEmpty()) {
                return false;
            }
            spooling = false;
            return true;
        }
    }

    private void sendUnspooled(LatencySample sample) {
        try {
            sink.send(sample, this::counted);
        } catch (RuntimeException e) {
            counted(e);
        }
    }

    private void counted(Exception failure) {
        if (failure == null) {
            metrics.sampleSent();
            return;
        }
        metrics.sendFailed();
        if (failureLogged.compareAndSet(false, true)) {
            LOG.warn("sending a sample failed{}; further failures are counted in "
                    + "tailprobe_agent_sample_send_failures_total without logging",
                    spool == null ? "" : " (it goes to the spool)", failure);
        }
    }

    /**
     * Sends what is queued and spooled (waiting up to {@code timeout}), then closes the sink. With a
     * spool, whatever Kafka has not acknowledged by then stays in the spool for the next start.
     */
    public void close(Duration timeout) {
        closing = true;
        long deadlineNanos = System.nanoTime() + timeout.toNanos();
        try {
            if (sender != null) {
                sender.stopBy(deadlineNanos);
            }
            joinUntil(drainer, deadlineNanos);
            if (senderThread != null) {
                joinUntil(senderThread, deadlineNanos);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stopStragglers();
            if (spool != null) {
                spoolLeftovers();
            } else if (!queue.isEmpty()) {
                LOG.warn("{} samples still queued after {}; dropping them", queue.size(), timeout);
            }
            sink.close();
            if (spool != null) {
                sender.applyCompletions();
                long left = spool.depth();
                spool.close();
                if (left > 0) {
                    LOG.info("{} samples stay in the spool {} for the next start", left, spool.directory());
                }
            }
        }
    }

    private static void joinUntil(Thread thread, long deadlineNanos) throws InterruptedException {
        long leftNanos = deadlineNanos - System.nanoTime();
        if (leftNanos > 0) {
            thread.join(Duration.ofNanos(leftNanos));
        }
    }

    private void stopStragglers() {
        for (Thread thread : senderThread == null ? List.of(drainer) : List.of(drainer, senderThread)) {
            if (thread.isAlive()) {
                thread.interrupt();
                try {
                    thread.join(STRAGGLER_JOIN);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** On close: samples still waiting for Kafka, then those still queued, go to the spool in that order. */
    private void spoolLeftovers() {
        List<LatencySample> queued = new ArrayList<>();
        queue.drainTo(queued);
        int copied;
        synchronized (route) {
            copied = copyPendingToSpool();
            spooling = spooling || copied > 0 || !queued.isEmpty();
            queued.forEach(spool::append);
        }
        if (copied + queued.size() > 0) {
            LOG.info("closing: {} unacknowledged and {} queued samples written to the spool", copied, queued.size());
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
