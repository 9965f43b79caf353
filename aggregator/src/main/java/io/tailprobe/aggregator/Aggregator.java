package io.tailprobe.aggregator;

import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.TopicSpecs;
import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

/** A running aggregator: the topics ensured, the topology started. */
public final class Aggregator implements AutoCloseable {
    private final KafkaStreams streams;
    private final AggregatorMetrics metrics;

    private Aggregator(KafkaStreams streams, AggregatorMetrics metrics) {
        this.streams = streams;
        this.metrics = metrics;
    }

    public static Aggregator start(AggregatorConfig config) {
        config.validated();
        try (Admin admin = Admin.create(KafkaSettings.toProperties(config.kafka()))) {
            TopicSpecs.ensure(admin, config.topics().partitions(), config.topics().replicationFactor());
        }
        AggregatorMetrics metrics = new AggregatorMetrics();
        KafkaStreams streams = new KafkaStreams(LatencyTopology.build(config, metrics), streamsProperties(config));
        streams.start();
        return new Aggregator(streams, metrics);
    }

    /** Streams settings from the config; any {@code kafka.*} property passes through and wins. */
    public static Properties streamsProperties(AggregatorConfig config) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, config.streams().applicationId());
        props.put(StreamsConfig.STATE_DIR_CONFIG, config.streams().stateDir().toString());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.streams().processingGuarantee());
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.streams().threads());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, config.streams().commitInterval().toMillis());
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) config.topics().replicationFactor());
        props.putAll(KafkaSettings.toProperties(config.kafka()));
        return props;
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    public AggregatorMetrics metrics() {
        return metrics;
    }

    @Override
    public void close() {
        streams.close(Duration.ofSeconds(30));
    }
}
