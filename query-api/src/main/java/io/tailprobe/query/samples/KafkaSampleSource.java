package io.tailprobe.query.samples;

import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.store.StoreUnavailableException;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads raw samples back from {@code latency.samples} with a plain consumer of its own per read: no
 * consumer group, no committed offsets, so a read changes nothing on the broker.
 *
 * <p>A read is a {@link SampleScan} of the partition of each series ({@link Topics#seriesPartition}):
 * from where {@code offsetsForTimes(from)} points to the log end seen when it started or the first
 * record stamped {@code maxSendDelay} or more after {@code to}; it also ends at the query's limit or
 * after {@code maxReadTime}, whichever comes first. Records of other series in the same partition, and
 * samples scheduled outside the range, are skipped.
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
        SampleScan<String> scan;
        try {
            scan = SampleScan.open(consumers.get(), Topics.SAMPLES, partitions -> query.series().stream()
                            .map(series -> Topics.seriesPartition(series, partitions)).collect(Collectors.toSet()),
                    query.fromMillis(), query.toMillis(), maxSendDelay, maxReadTime);
        } catch (KafkaException e) {
            throw new StoreUnavailableException("cannot read " + Topics.SAMPLES + " now: " + e.getMessage(), e);
        }
        return new KafkaCursor(scan, query);
    }

    private final class KafkaCursor implements Cursor {
        private final SampleScan<String> scan;
        private final SampleQuery query;
        private final Set<String> keys;

        KafkaCursor(SampleScan<String> scan, SampleQuery query) {
            this.scan = scan;
            this.query = query;
            this.keys = query.series().stream().map(SeriesKey::encode).collect(Collectors.toSet());
        }

        @Override
        public long forEach(java.util.function.Consumer<LatencySample> sink) {
            long fromMicros = query.fromMillis() * 1_000L;
            long toMicros = query.toMillis() * 1_000L;
            long deadlineNanos = System.nanoTime() + maxReadTime.toNanos();
            long[] found = new long[1];
            long[] undecodable = new long[1];
            while (!scan.done() && found[0] < query.limit()) {
                if (System.nanoTime() > deadlineNanos) {
                    LOG.warn("raw sample read of {} stopped after {} with {} samples found; partitions {} not read to the end",
                            keys, maxReadTime, found[0], scan.reading());
                    break;
                }
                scan.poll(POLL_TIMEOUT, record -> {
                    if (found[0] >= query.limit() || !keys.contains(record.key())) {
                        return;
                    }
                    LatencySample sample;
                    try {
                        sample = Topics.sampleSerde().decode(record.value());
                    } catch (SerializationException e) {
                        undecodable[0]++;
                        return;
                    }
                    if (sample != null && sample.getScheduledStartMicros() >= fromMicros
                            && sample.getScheduledStartMicros() < toMicros
                            && (query.host() == null || query.host().equals(sample.getHost()))) {
                        sink.accept(sample);
                        found[0]++;
                    }
                });
            }
            if (undecodable[0] > 0) {
                LOG.warn("raw sample read of {} skipped {} undecodable records (the aggregator dead-letters them)",
                        keys, undecodable[0]);
            }
            return found[0];
        }

        @Override
        public void close() {
            scan.close();
        }
    }
}
