package io.tailprobe.aggregator;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Reads a task's history with a consumer of its own, configured as Kafka Streams configures its
 * restore consumer (so SASL, TLS and every {@code restore.consumer.*} setting apply), always
 * {@code read_committed}: under exactly-once the base windows of an aborted transaction were never
 * emitted. A read that makes no progress for {@link #STALL_TIMEOUT} fails the task rather than hang it.
 */
final class KafkaTaskHistory implements TaskHistory {
    static final Duration STALL_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration POLL = Duration.ofMillis(200);

    private final Map<String, Object> consumerConfig;
    private final String samplesTopic;

    KafkaTaskHistory(Properties streamsProperties, String samplesTopic) {
        this.samplesTopic = samplesTopic;
        StreamsConfig streams = new StreamsConfig(streamsProperties);
        this.consumerConfig = streams.getRestoreConsumerConfigs(
                streams.getString(StreamsConfig.APPLICATION_ID_CONFIG) + "-history");
        consumerConfig.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString());
        consumerConfig.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumerConfig.remove(ConsumerConfig.GROUP_ID_CONFIG);
    }

    @Override
    public void samples(int partition, long fromOffset, long toOffsetExclusive, RecordHandler handler) {
        TopicPartition input = new TopicPartition(samplesTopic, partition);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            consumer.assign(List.of(input));
            consumer.seek(input, fromOffset);
            read(consumer, input, toOffsetExclusive, handler);
        }
    }

    @Override
    public void committedRecords(String topic, int partition, long fromTimestampMillis, RecordHandler handler) {
        TopicPartition output = new TopicPartition(topic, partition);
        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            consumer.assign(List.of(output));
            long end = consumer.endOffsets(List.of(output)).get(output);
            OffsetAndTimestamp from = consumer.offsetsForTimes(Map.of(output, fromTimestampMillis)).get(output);
            if (from == null) {
                return; // nothing at or after that time
            }
            consumer.seek(output, from.offset());
            read(consumer, output, end, handler);
        }
    }

    private static void read(KafkaConsumer<byte[], byte[]> consumer, TopicPartition partition, long endExclusive,
                             RecordHandler handler) {
        long lastProgressNanos = System.nanoTime();
        long position = consumer.position(partition);
        while (position < endExclusive) {
            for (ConsumerRecord<byte[], byte[]> record : consumer.poll(POLL).records(partition)) {
                if (record.offset() < endExclusive) {
                    handler.record(record);
                }
            }
            long now = consumer.position(partition);
            if (now > position) {
                position = now;
                lastProgressNanos = System.nanoTime();
            } else if (System.nanoTime() - lastProgressNanos > STALL_TIMEOUT.toNanos()) {
                throw new IllegalStateException("reading " + partition + " stalled at offset " + position + " of "
                        + endExclusive + " for " + STALL_TIMEOUT.toSeconds() + " s");
            }
        }
    }

    private KafkaConsumer<byte[], byte[]> consumer() {
        return new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
