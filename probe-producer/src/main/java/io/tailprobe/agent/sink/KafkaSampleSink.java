package io.tailprobe.agent.sink;

import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends samples to {@link Topics#SAMPLES}, keyed by {@link SeriesKey} so every host's samples of a
 * series meet in one partition. Idempotent, {@code acks=all}, lz4, 5 ms linger; the agent's
 * {@code kafka:} properties are applied last and win (SASL, TLS, or even {@code acks}).
 * {@code max.block.ms} is 5 s so a missing broker stalls only the sink thread, briefly.
 *
 * <p>The producer's own timeouts do not decide when an outage goes to the spool: the
 * {@link SinkQueue.OutageRule} does, within 5 s, while Kafka's defaults would hold samples in memory for
 * {@code delivery.timeout.ms} (120 s) and lose them in a crash. {@code delivery.timeout.ms} stays 120 s
 * on purpose: the samples the producer holds at the switch are copied to the spool, and if the broker
 * returns within those 120 s the producer's retries deliver them (a batch the broker had written before
 * it went away is recognised by idempotence, not written twice) and the spool skips them. A shorter
 * timeout would fail them instead, and the spool would send again what the broker may already have.
 */
public final class KafkaSampleSink implements SampleSink {
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

    private final Producer<String, LatencySample> producer;

    public KafkaSampleSink(Map<String, String> kafka, String clientId) {
        this(new KafkaProducer<>(producerProperties(kafka, clientId), new StringSerializer(),
                Topics.sampleSerde().serializer()));
    }

    /** For tests with Kafka's {@code MockProducer}. */
    public KafkaSampleSink(Producer<String, LatencySample> producer) {
        this.producer = producer;
    }

    /** The producer settings: the agent's defaults, then the user's {@code kafka:} section. */
    public static Properties producerProperties(Map<String, String> kafka, String clientId) {
        Properties props = new Properties();
        props.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "120000");
        props.putAll(KafkaSettings.toProperties(kafka));
        return props;
    }

    @Override
    public void send(LatencySample sample, SendCallback done) {
        ProducerRecord<String, LatencySample> record =
                new ProducerRecord<>(Topics.SAMPLES, SeriesKey.of(sample).encode(), sample);
        producer.send(record, (metadata, failure) -> done.onCompletion(failure));
    }

    @Override
    public void close() {
        producer.close(CLOSE_TIMEOUT);
    }
}
