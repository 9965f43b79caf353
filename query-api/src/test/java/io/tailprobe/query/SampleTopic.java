package io.tailprobe.query;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;

/**
 * An in-memory {@code latency.samples} of a few partitions, read through Kafka's {@link MockConsumer}
 * with {@code offsetsForTimes} answered from the records' timestamps (MockConsumer leaves it
 * unimplemented). Records are keyed and partitioned as the agent's sink does it.
 */
public final class SampleTopic {
    public static final int PARTITIONS = 3;

    private final Map<Integer, List<ConsumerRecord<String, byte[]>>> partitions = new HashMap<>();
    private final AtomicInteger consumersOpen = new AtomicInteger();

    /** A sample of {@code series} from {@code host}, OK, scheduled at {@code scheduledStartMillis}. */
    public static LatencySample sample(SeriesKey series, String host, long scheduledStartMillis, long responseNanos) {
        return LatencySample.newBuilder()
                .setHost(host).setTarget(series.target()).setAddress("10.0.0.7:5432")
                .setProbeType(series.probeType()).setProtocol(series.protocol())
                .setScheduledStartMicros(scheduledStartMillis * 1_000L)
                .setActualStartMicros(scheduledStartMillis * 1_000L + 150)
                .setServiceTimeNanos(responseNanos - 150_000L).setResponseTimeNanos(responseNanos)
                .setOutcome(Outcome.OK).setSequence(scheduledStartMillis).setLabels(Map.of("region", "eu-west-1"))
                .build();
    }

    /** Appends {@code sample} as the agent sends it, stamped {@code timestampMillis} (its send time). */
    public synchronized void send(LatencySample sample, long timestampMillis) {
        SeriesKey series = SeriesKey.of(sample);
        append(Topics.seriesPartition(series, PARTITIONS), series.encode(), Topics.sampleSerde().encode(sample),
                timestampMillis);
    }

    /** Appends bytes under {@code series}' key, e.g. a record no schema can read. */
    public synchronized void sendBytes(SeriesKey series, byte[] value, long timestampMillis) {
        append(Topics.seriesPartition(series, PARTITIONS), series.encode(), value, timestampMillis);
    }

    private void append(int partition, String key, byte[] value, long timestampMillis) {
        List<ConsumerRecord<String, byte[]>> log = partitions.computeIfAbsent(partition, p -> new ArrayList<>());
        log.add(new ConsumerRecord<>(Topics.SAMPLES, partition, log.size(), timestampMillis, TimestampType.CREATE_TIME,
                -1, value.length, key, value, new RecordHeaders(), Optional.empty()));
    }

    /** Consumers created and not yet closed. */
    public int consumersOpen() {
        return consumersOpen.get();
    }

    /** A new consumer that sees the topic as it is now; records appended later lie past its log end. */
    public synchronized MockConsumer<String, byte[]> consumer() {
        Map<TopicPartition, Long> beginnings = new HashMap<>();
        Map<TopicPartition, Long> ends = new HashMap<>();
        List<PartitionInfo> infos = new ArrayList<>();
        for (int p = 0; p < PARTITIONS; p++) {
            infos.add(new PartitionInfo(Topics.SAMPLES, p, null, null, null));
            beginnings.put(new TopicPartition(Topics.SAMPLES, p), 0L);
            ends.put(new TopicPartition(Topics.SAMPLES, p), (long) partitions.getOrDefault(p, List.of()).size());
        }
        MockConsumer<String, byte[]> consumer = new MockConsumer<>("earliest") {
            private boolean loaded;

            @Override
            public synchronized Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(
                    Map<TopicPartition, Long> timestamps) {
                Map<TopicPartition, OffsetAndTimestamp> found = new HashMap<>();
                timestamps.forEach((partition, millis) -> found.put(partition, firstAtOrAfter(partition, millis)));
                return found;
            }

            @Override
            public Map<TopicPartition, OffsetAndTimestamp> offsetsForTimes(Map<TopicPartition, Long> timestamps,
                                                                          Duration timeout) {
                return offsetsForTimes(timestamps);
            }

            @Override
            public synchronized void assign(Collection<TopicPartition> assigned) {
                super.assign(assigned);
                if (!loaded) {
                    loaded = true;
                    schedulePollTask(() -> assignment().forEach(partition -> records(partition).forEach(this::addRecord)));
                }
            }

            @Override
            public synchronized void close() {
                super.close();
                consumersOpen.decrementAndGet();
            }
        };
        consumer.updatePartitions(Topics.SAMPLES, infos);
        consumer.updateEndOffsets(ends);
        consumer.updateBeginningOffsets(beginnings);
        consumersOpen.incrementAndGet();
        return consumer;
    }

    private synchronized List<ConsumerRecord<String, byte[]>> records(TopicPartition partition) {
        return List.copyOf(partitions.getOrDefault(partition.partition(), List.of()));
    }

    private OffsetAndTimestamp firstAtOrAfter(TopicPartition partition, long millis) {
        for (ConsumerRecord<String, byte[]> record : records(partition)) {
            if (record.timestamp() >= millis) {
                return new OffsetAndTimestamp(record.offset(), record.timestamp());
            }
        }
        return null;
    }
}
