package io.tailprobe.query.samples;

import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads raw samples back from {@code latency.samples} with a plain consumer of its own per read: no
 * consumer group, no committed offsets, so a read changes nothing on the broker.
 *
 * <p>A sample's event time is its scheduled start, but its record carries no such timestamp: the agent
 * leaves it to the producer, which stamps the send time, after the scheduled start by the probe's
 * duration and the agent's queue. So every sample scheduled at or after {@code from} is in a record
 * stamped at or after {@code from}, and a read starts where {@code offsetsForTimes(from)} points, in
 * the partition of each series ({@link Topics#seriesPartition}). It ends at the log end seen when it
 * started, at the first record stamped {@code maxSendDelay} or more after {@code to}, at the query's
 * limit, or after {@code maxReadTime}, whichever comes first. Records of other series in the same
 * partition, and samples scheduled outside the range, are skipped.
 *
 * <p>Example: samples of {@code db|tcp|tcp} from 14:00 to 14:05 with a 1 min delay read partition 3
 * from the first record stamped 14:00:00.000 up to the first stamped 14:06:00.000.
 */
public final class KafkaSampleSource implements SampleSource {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaSampleSource.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(200);
    private static final AtomicLong READS = new AtomicLong();

    private final Supplier<Consumer<String, byte[]>> consumers;
    private final Duration maxSendDelay;
    private final Duration maxReadTime;

    /** @param consumers a new, unassigned consumer per read (Kafka's {@code MockConsumer} in tests) */
    public KafkaSampleSource(Supplier<Consumer<String, byte[]>> consumers,
                             Duration maxSendDelay, Duration maxReadTime) {
        this.consumers = consumers;
        this.maxSendDelay = maxSendDelay;
        this.maxReadTime = maxReadTime;
    }

    /** Consumers built from the {@code kafka:} section, reading committed records only. */
    public static KafkaSampleSource of(QueryApiConfig config) {
        return new KafkaSampleSource(() -> new KafkaConsumer<>(consumerProperties(config), new StringDeserializer(),
                new ByteArrayDeserializer()), config.samples().maxSendDelay(), config.samples().maxReadTime());
    }

    /** {@code kafka.*} passed through, then what a read needs: no group, no commits, committed records only. */
    public static Properties consumerProperties(QueryApiConfig config) {
        Properties props = KafkaSettings.toProperties(config.kafka());
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.CLIENT_ID_CONFIG, config.streams().applicationId() + "-samples-" + READS.incrementAndGet());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return props;
    }

    @Override
    public Cursor open(SampleQuery query) {
        Consumer<String, byte[]> consumer = consumers.get();
        try {
            return new KafkaCursor(consumer, query, positions(consumer, query));
        } catch (KafkaException e) {
            consumer.close();
            throw new StoreUnavailableException("cannot read " + Topics.SAMPLES + " now: " + e.getMessage(), e);
        }
    }

    /** {@code [first offset, log end)} of each partition that holds records of the query, assigned and sought. */
    private Map<TopicPartition, long[]> positions(Consumer<String, byte[]> consumer,
                                                  SampleQuery query) {
        List<PartitionInfo> infos = consumer.partitionsFor(Topics.SAMPLES, maxReadTime);
        Map<TopicPartition, long[]> positions = new HashMap<>();
        if (infos == null || infos.isEmpty()) {
            return positions;
        }
        Map<TopicPartition, Long> fromByPartition = new HashMap<>();
        for (SeriesKey series : query.series()) {
            fromByPartition.put(new TopicPartition(Topics.SAMPLES, Topics.seriesPartition(series, infos.size())),
                    query.fromMillis());
        }
        Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(fromByPartition, maxReadTime);
        Map<TopicPartition, Long> ends = consumer.endOffsets(fromByPartition.keySet(), maxReadTime);
        starts.forEach((partition, start) -> {
            if (start != null && start.offset() < ends.get(partition)) {
                positions.put(partition, new long[] {start.offset(), ends.get(partition)});
            }
        });
        consumer.assign(positions.keySet());
        positions.forEach((partition, range) -> consumer.seek(partition, range[0]));
        return positions;
    }

    private final class KafkaCursor implements Cursor {
        private final Consumer<String, byte[]> consumer;
        private final SampleQuery query;
        /** The partitions still being read, with their {@code [first offset, log end)}. */
        private final Map<TopicPartition, long[]> reading;
        private final Set<String> keys;

        KafkaCursor(Consumer<String, byte[]> consumer, SampleQuery query,
                    Map<TopicPartition, long[]> positions) {
            this.consumer = consumer;
            this.query = query;
            this.reading = positions;
            this.keys = query.series().stream().map(SeriesKey::encode).collect(Collectors.toSet());
        }

        @Override
        public long forEach(java.util.function.Consumer<LatencySample> sink) {
            long fromMicros = query.fromMillis() * 1_000L;
            long toMicros = query.toMillis() * 1_000L;
            long stopStampMillis = query.toMillis() + maxSendDelay.toMillis();
            long deadlineNanos = System.nanoTime() + maxReadTime.toNanos();
            long found = 0;
            long undecodable = 0;
            while (!reading.isEmpty() && found < query.limit()) {
                if (System.nanoTime() > deadlineNanos) {
                    LOG.warn("raw sample read of {} stopped after {} with {} samples found; partitions {} not read to the end",
                            keys, maxReadTime, found, reading.keySet());
                    break;
                }
                for (ConsumerRecord<String, byte[]> record : consumer.poll(POLL_TIMEOUT)) {
                    TopicPartition partition = new TopicPartition(record.topic(), record.partition());
                    long[] range = reading.get(partition);
                    if (range == null || found >= query.limit()) {
                        continue;
                    }
                    if (record.offset() >= range[1] || record.timestamp() >= stopStampMillis) {
                        stop(partition);
                        continue;
                    }
                    if (keys.contains(record.key())) {
                        LatencySample sample;
                        try {
                            sample = Topics.sampleSerde().decode(record.value());
                        } catch (SerializationException e) {
                            undecodable++;
                            continue;
                        }
                        if (sample != null && sample.getScheduledStartMicros() >= fromMicros
                                && sample.getScheduledStartMicros() < toMicros
                                && (query.host() == null || query.host().equals(sample.getHost()))) {
                            sink.accept(sample);
                            found++;
                        }
                    }
                }
                // the log end may sit past the last record (transaction markers): stop by position too
                for (TopicPartition partition : List.copyOf(reading.keySet())) {
                    if (consumer.position(partition) >= reading.get(partition)[1]) {
                        stop(partition);
                    }
                }
            }
            if (undecodable > 0) {
                LOG.warn("raw sample read of {} skipped {} undecodable records (the aggregator dead-letters them)",
                        keys, undecodable);
            }
            return found;
        }

        private void stop(TopicPartition partition) {
            reading.remove(partition);
            consumer.pause(List.of(partition));
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
