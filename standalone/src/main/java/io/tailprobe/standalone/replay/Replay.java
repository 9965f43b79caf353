package io.tailprobe.standalone.replay;

import io.tailprobe.aggregator.DeadLetterReason;
import io.tailprobe.aggregator.SampleRules;
import io.tailprobe.query.samples.SampleScan;
import io.tailprobe.schemas.LatencySample;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.WakeupException;

/**
 * One pass over a samples topic: a {@link SampleScan} of the range, each record judged by the
 * aggregator's {@link SampleRules}, the ones the {@link SampleFilter} takes handed to a {@link Sink}, at
 * most {@code maxRate} per second. {@link #stop} (from a shutdown hook) ends it between two records.
 */
final class Replay {
    private static final Duration POLL = Duration.ofMillis(200);
    /** The longest a paced record waits before looking at {@link #stopRequested} again. */
    private static final long PACE_CHECK_NANOS = 100_000_000L;

    /** Receives each matching record, with its sample and the aggregator's verdict on it. */
    interface Sink {
        void accept(ConsumerRecord<byte[], byte[]> record, SampleRules.Verdict verdict);
    }

    private final SampleRules rules;
    private final SampleFilter filter;
    /** Records per second, or 0 for no limit. */
    private final double maxRate;
    /** The consumer of the run, from before the scan opens: a stop wakes up its topic lookup too. */
    private final AtomicReference<Consumer<byte[], byte[]>> consumer = new AtomicReference<>();
    private volatile boolean stopRequested;
    private volatile long recordsRead;
    private volatile long matched;
    private volatile double coveredFraction;
    private long undecodable;
    private final Map<DeadLetterReason, Long> rejected = new EnumMap<>(DeadLetterReason.class);
    private long nextSlotNanos;

    Replay(SampleRules rules, SampleFilter filter, double maxRate) {
        this.rules = rules;
        this.filter = filter;
        this.maxRate = maxRate;
    }

    /**
     * Opens the scan of {@code topic} with {@code consumer} (which it closes) and reads it to its end or
     * until stopped.
     *
     * @param beforeFirstRecord given the topic's partition count once the scan is open (not when the topic
     *     does not exist), before any record reaches the sink
     * @return the topic's partition count; 0 when it does not exist (nothing read), -1 when stopped before
     * @throws org.apache.kafka.common.KafkaException when the broker cannot be reached
     */
    int run(Consumer<byte[], byte[]> consumer, String topic, Duration maxSendDelay, Duration timeout, Sink sink,
            IntConsumer beforeFirstRecord) {
        this.consumer.set(consumer);
        if (stopRequested) {
            consumer.wakeup(); // a stop that came before the consumer was known
        }
        SampleScan<byte[]> opened;
        try {
            opened = SampleScan.open(consumer, topic, filter::partitions, filter.fromMillis(), filter.toMillis(),
                    maxSendDelay, timeout);
        } catch (WakeupException e) {
            this.consumer.set(null);
            return -1; // stopped while looking the topic up
        }
        try (opened) {
            if (stopRequested || opened.partitionCount() == 0) {
                return opened.partitionCount();
            }
            beforeFirstRecord.accept(opened.partitionCount());
            nextSlotNanos = System.nanoTime();
            while (!stopRequested && !opened.done()) {
                opened.poll(POLL, record -> {
                    if (stopRequested) {
                        return; // the rest of the fetched batch: not read
                    }
                    recordsRead++; // one writer: this thread
                    if (maxRate > 0 || recordsRead % 1024 == 0) {
                        coveredFraction = opened.coveredFraction();
                    }
                    handle(record, sink);
                });
                coveredFraction = opened.done() ? 1.0 : opened.coveredFraction();
            }
        } catch (WakeupException e) {
            // stop() woke the consumer up
        } finally {
            this.consumer.set(null);
        }
        return opened.partitionCount();
    }

    private void handle(ConsumerRecord<byte[], byte[]> record, Sink sink) {
        String key = record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
        SampleRules.Verdict verdict = rules.check(key, record.value());
        LatencySample sample = verdict.sample();
        if (sample == null) {
            undecodable++;
            return;
        }
        if (!filter.matches(sample)) {
            return;
        }
        pace();
        if (stopRequested) {
            return;
        }
        matched++;
        if (!verdict.accepted()) {
            rejected.merge(verdict.reason(), 1L, Long::sum);
        }
        sink.accept(record, verdict);
    }

    /** Waits for this record's slot at {@code maxRate}, looking at the stop flag at least every 100 ms. */
    private void pace() {
        if (maxRate <= 0) {
            return;
        }
        nextSlotNanos += (long) (1e9 / maxRate);
        long wait;
        while (!stopRequested && (wait = nextSlotNanos - System.nanoTime()) > 0) {
            LockSupport.parkNanos(Math.min(wait, PACE_CHECK_NANOS));
        }
        // a slow broker does not earn a burst afterwards
        nextSlotNanos = Math.max(nextSlotNanos, System.nanoTime() - (long) (1e9 / maxRate));
    }

    /** Ends the run between two records, from any thread; a blocking broker call is woken up. */
    void stop() {
        stopRequested = true;
        Consumer<byte[], byte[]> current = consumer.get();
        if (current != null) {
            current.wakeup();
        }
    }

    boolean stopped() {
        return stopRequested;
    }

    /** Records looked at: read from the topic and judged, matching or not. */
    long recordsRead() {
        return recordsRead;
    }

    /** Records whose sample the filter took (accepted by the aggregator's rules or not). */
    long matched() {
        return matched;
    }

    double coveredFraction() {
        return coveredFraction;
    }

    /** Records no schema can read (dead-lettered by the aggregator; never copied, no filter can see them). */
    long undecodable() {
        return undecodable;
    }

    /** Matching records the aggregator's rules reject, by reason. */
    Map<DeadLetterReason, Long> rejected() {
        return rejected;
    }
}
