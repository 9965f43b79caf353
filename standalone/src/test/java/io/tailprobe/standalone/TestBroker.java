package io.tailprobe.standalone;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;

/**
 * A real Kafka broker for one test class: Testcontainers' Kafka container where a Docker engine
 * runs, else Kafka's own KRaft broker in this JVM ({@link EmbeddedKafka}).
 */
final class TestBroker implements AutoCloseable {
    static final String KAFKA_IMAGE = "apache/kafka:4.1.0";

    private final AutoCloseable broker;
    private final String bootstrapServers;
    private final String kind;

    private TestBroker(AutoCloseable broker, String bootstrapServers, String kind) {
        this.broker = broker;
        this.bootstrapServers = bootstrapServers;
        this.kind = kind;
    }

    static TestBroker start() {
        if (DockerClientFactory.instance().isDockerAvailable()) {
            KafkaContainer container = new KafkaContainer(KAFKA_IMAGE);
            container.start();
            return new TestBroker(container, container.getBootstrapServers(), "testcontainers " + KAFKA_IMAGE);
        }
        EmbeddedKafka kafka = EmbeddedKafka.start();
        return new TestBroker(kafka, kafka.bootstrapServers(), "in-process KRaft");
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    String kind() {
        return kind;
    }

    @Override
    public void close() throws Exception {
        broker.close();
    }
}
