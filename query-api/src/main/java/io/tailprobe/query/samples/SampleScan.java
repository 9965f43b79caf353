package io.tailprobe.query.samples;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * One read of a samples topic over a time range, by record timestamp: what {@link KafkaSampleSource} and
 * {@code tailprobe replay} both do to find the samples scheduled in {@code [from, to)}.
 *
 * <p>A sample's event time is its scheduled start, but its record carries no such timestamp: the agent
 * leaves it to the producer, which stamps the send time, after the scheduled start by the probe's duration
 * and the agent's queue (or its spool, during an outage). So every sample scheduled at or after
 * {@code from} is in a record stamped at or after {@code from}, and each partition is read from where
 * {@code offsetsForTimes(from)} points. A partition ends at its log end seen when the scan opened (later
 * records are not waited for), or at its first record stamped {@code maxSendDelay} or more after {@code to}.
 * The scan hands over every record in between: records of other series and samples scheduled outside the
 * range are the caller's to skip. The consumer should read {@code read_committed}.
 *
 * <p>Example: from 14:00 to 14:05 with a 1 min delay, partition 3 is read from its first record stamped
 * 14:00:00.000 up to its first stamped 14:06:00.000 or its log end, whichever comes first.
 *
 * @param <K> the record key type: {@code String} for the query API, {@code byte[]} for a replay that
 *     copies records unchanged
 */
public final class SampleScan<K> implements AutoCloseable {
    /** Receives each record of the range's partitions in offset order per partition. */
    @FunctionalInterface
    public interface RecordHandler<K> {
        void record(ConsumerRecord<K, byte[]> record);
    }

    private final Consumer<K, byte[]> consumer;
    private final int partitionCount;
    private final long fromMillis;
    private final long toMillis;
    private final long stopStampMillis;
    /** The partitions still being read, with their end offset (exclusive). */
    private final Map<TopicPartition, Long> reading;
    /** Every partition read, with the timestamp of the last record handed over (for {@link #coveredFraction}). */
    private final Map<TopicPartition, Long> lastStampMillis = new HashMap<>();
    private long recordsRead;

    private SampleScan(Consumer<K, byte[]> consumer, int partitionCount, long fromMillis, long toMillis,
                       Duration maxSendDelay, Map<TopicPartition, Long> reading) {
        this.consumer = consumer;
        this.partitionCount = partitionCount;
        this.fromMillis = fromMillis;
        this.toMillis = toMillis;
        this.stopStampMillis = toMillis + maxSendDelay.toMillis();
        this.reading = reading;
        reading.keySet().forEach(partition -> lastStampMillis.put(partition, fromMillis));
    }

    /**
     * Finds where the range starts and ends in each partition to read, then assigns and seeks the consumer.
     * A partition with no record stamped at or after {@code fromMillis} is not read at all.
     *
     * @param consumer a new, unassigned consumer, owned by the scan from now on (closed by {@link #close})
     * @param partitionsToRead given the topic's partition count, which partitions hold the samples wanted
     *     (the partitions of some series, or all of them); not called when the topic does not exist
     * @param timeout how long each metadata request to the broker may take
     * @throws org.apache.kafka.common.KafkaException (such as a {@code TimeoutException}) when the broker
     *     does not answer; the consumer is closed then
     */
    public static <K> SampleScan<K> open(Consumer<K, byte[]> consumer, String topic,
                                         IntFunction<Collection<Integer>> partitionsToRead, long fromMillis,
                                         long toMillis, Duration maxSendDelay, Duration timeout) {
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
            int partitionCount = infos == null ? 0 : infos.size();
            Map<TopicPartition, Long> reading = new HashMap<>();
            if (partitionCount > 0) {
                Map<TopicPartition, Long> fromByPartition = new HashMap<>();
                for (int partition : partitionsToRead.apply(partitionCount)) {
                    fromByPartition.put(new TopicPartition(topic, partition), fromMillis);
                }
                // assigned before the offset lookups: a read_committed consumer warns about every partition
                // whose last stable offset it is told of while not assigned
                consumer.assign(fromByPartition.keySet());
                Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(fromByPartition, timeout);
                Map<TopicPartition, Long> ends = consumer.endOffsets(fromByPartition.keySet(), timeout);
                Map<TopicPartition, Long> startOffsets = new HashMap<>();
                starts.forEach((partition, start) -> {
                    if (start != null && start.offset() < ends.get(partition)) {
                        startOffsets.put(partition, start.offset());
                        reading.put(partition, ends.get(partition));
                    }
                });
                consumer.assign(reading.keySet());
                startOffsets.forEach(consumer::seek);
            }
            return new SampleScan<>(consumer, partitionCount, fromMillis, toMillis, maxSendDelay, reading);
        } catch (RuntimeException e) {
            consumer.close();
            throw e;
        }
    }

    /** The topic's partition count when the scan opened; 0 when it does not exist. */
    public int partitionCount() {
        return partitionCount;
    }

    /** Whether every partition has been read to its end. */
    public boolean done() {
        return reading.isEmpty();
    }

    /** The partitions still being read. */
    public Set<TopicPartition> reading() {
        return Set.copyOf(reading.keySet());
    }

    /** Records handed over so far. */
    public long recordsRead() {
        return recordsRead;
    }

    /**
     * How much of {@code [from, to)} has been read, 0 to 1: the least of the partitions still read, each as
     * far as the stamp of its last record (a read partition counts as 1). Stamps are send times, so this
     * is a progress figure, not an exact one.
     */
    public double coveredFraction() {
        double least = 1.0;
        for (Map.Entry<TopicPartition, Long> partition : lastStampMillis.entrySet()) {
            if (reading.containsKey(partition.getKey())) {
                double covered = (partition.getValue() - fromMillis) / (double) (toMillis - fromMillis);
                least = Math.min(least, Math.clamp(covered, 0.0, 1.0));
            }
        }
        return least;
    }

    /**
     * Polls once for up to {@code pollTimeout} and hands each record within the range's offsets and stamps
     * to {@code handler}; a partition that reaches its end stops being read. Returns whether any partition
     * is left to read.
     */
    public boolean poll(Duration pollTimeout, RecordHandler<K> handler) {
        if (reading.isEmpty()) {
            return false;
        }
        for (ConsumerRecord<K, byte[]> record : consumer.poll(pollTimeout)) {
            TopicPartition partition = new TopicPartition(record.topic(), record.partition());
            Long end = reading.get(partition);
            if (end == null) {
                continue;
            }
            if (record.offset() >= end || record.timestamp() >= stopStampMillis) {
                stop(partition);
                continue;
            }
            recordsRead++;
            lastStampMillis.put(partition, record.timestamp());
            handler.record(record);
        }
        // the log end may sit past the last record (transaction markers): stop by position too
        for (TopicPartition partition : List.copyOf(reading.keySet())) {
            if (consumer.position(partition) >= reading.get(partition)) {
                stop(partition);
            }
        }
        return !reading.isEmpty();
    }

    /** Stops reading a partition, e.g. once a query has found all it may return. */
    private void stop(TopicPartition partition) {
        reading.remove(partition);
        consumer.pause(List.of(partition));
    }

    /** Makes a blocking call of this scan's consumer, from another thread, throw {@code WakeupException}. */
    public void wakeup() {
        consumer.wakeup();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
