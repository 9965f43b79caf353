package io.tailprobe.agent.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.Topics;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

class KafkaSampleSinkTest {
    static LatencySample sample(long sequence) {
        return LatencySample.newBuilder()
                .setHost("web-1").setTarget("db").setAddress("10.0.0.7:5432").setProbeType("tcp").setProtocol("tcp")
                .setScheduledStartMicros(1_700_000_000_000_000L).setActualStartMicros(1_700_000_000_000_100L)
                .setServiceTimeNanos(150_000L).setResponseTimeNanos(250_000L).setOutcome(Outcome.OK)
                .setSequence(sequence).setLabels(Map.of())
                .build();
    }

    @Test
    void producer_defaults_are_safe_and_the_users_kafka_section_wins() {
        Properties props = KafkaSampleSink.producerProperties(
                Map.of("bootstrap.servers", "broker:9092", "linger.ms", "20", "security.protocol", "SASL_SSL"), "agent-web-1");

        assertThat(props).containsEntry("enable.idempotence", "true")
                .containsEntry("acks", "all")
                .containsEntry("compression.type", "lz4")
                .containsEntry("max.block.ms", "5000")
                .containsEntry("delivery.timeout.ms", "120000")
                .containsEntry("client.id", "agent-web-1")
                .containsEntry("linger.ms", "20")
                .containsEntry("bootstrap.servers", "broker:9092")
                .containsEntry("security.protocol", "SASL_SSL");
    }

    @Test
    void samples_go_to_the_samples_topic_keyed_by_series_and_acks_are_reported() {
        MockProducer<String, LatencySample> producer =
                new MockProducer<>(true, null, new StringSerializer(), Topics.sampleSerde().serializer());
        List<Exception> outcomes = new ArrayList<>();
        try (KafkaSampleSink sink = new KafkaSampleSink(producer)) {
            sink.send(sample(7), outcomes::add);
        }

        ProducerRecord<String, LatencySample> record = producer.history().getFirst();
        assertThat(record.topic()).isEqualTo("latency.samples");
        assertThat(record.key()).isEqualTo("db|tcp|tcp");
        assertThat(record.value().getSequence()).isEqualTo(7L);
        assertThat(outcomes).containsExactly((Exception) null);
        assertThat(producer.closed()).isTrue();
    }
}
