package io.tailprobe.agent.sink;

import io.tailprobe.agent.AgentMetrics;
import io.tailprobe.schemas.LatencySample;
import java.time.Duration;
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
 */
public final class SinkQueue implements Consumer<LatencySample>, AutoCloseable {
    public static final int DEFAULT_CAPACITY = 10_000;
    private static final Logger LOG = LoggerFactory.getLogger(SinkQueue.class);
    private static final long POLL_MILLIS = 100;

    private final BlockingQueue<LatencySample> queue;
    private final SampleSink sink;
    private final AgentMetrics metrics;
    private final Thread drainer;
    private final AtomicBoolean dropLogged = new AtomicBoolean();
    private final AtomicBoolean failureLogged = new AtomicBoolean();
    private volatile boolean closing;

    public SinkQueue(SampleSink sink, AgentMetrics metrics, int capacity) {
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sink = sink;
        this.metrics = metrics;
        this.drainer = Thread.ofVirtual().name("tailprobe-sink").start(this::drain);
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
                if (sample != null) {
                    send(sample);
                } else if (closing) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void send(LatencySample sample) {
        try {
            sink.send(sample, this::completed);
        } catch (RuntimeException e) {
            completed(e);
        }
    }

    private void completed(Exception failure) {
        if (failure == null) {
            metrics.sampleSent();
            return;
        }
        metrics.sendFailed();
        if (failureLogged.compareAndSet(false, true)) {
            LOG.warn("sending a sample failed; further failures are counted in "
                    + "tailprobe_agent_sample_send_failures_total without logging", failure);
        }
    }

    /** Sends what is queued (waiting up to {@code timeout}), then closes the sink. */
    public void close(Duration timeout) {
        closing = true;
        try {
            if (!drainer.join(timeout)) {
                LOG.warn("{} samples still queued after {}; dropping them", queue.size(), timeout);
                drainer.interrupt();
            }
        } catch (InterruptedException e) {
            drainer.interrupt();
            Thread.currentThread().interrupt();
        } finally {
            sink.close();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(10));
    }
}
