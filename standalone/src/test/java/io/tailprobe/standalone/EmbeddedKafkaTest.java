package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaTest {
    @TempDir
    Path dataDir;

    @Test
    void a_broker_started_again_on_its_port_and_data_folder_keeps_its_records() throws Exception {
        int port = EmbeddedKafka.freePort();
        TopicPartition partition = new TopicPartition("restart-check", 0);
        try (EmbeddedKafka first = EmbeddedKafka.start(port, dataDir, Map.of());
             KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                     ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, first.bootstrapServers()),
                     new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(partition.topic(), "k", "before the restart")).get();
        }

        List<String> values = new ArrayList<>();
        try (EmbeddedKafka second = EmbeddedKafka.start(port, dataDir, Map.of());
             KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties(second),
                     new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            while (consumer.position(partition) < 1) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> values.add(r.value()));
            }
            assertThat(second.bootstrapServers()).isEqualTo("localhost:" + port);
        }

        assertThat(values).containsExactly("before the restart");
    }

    @Test
    void ports_chosen_together_are_distinct_and_avoid_the_one_already_taken() {
        int taken = EmbeddedKafka.freePort();
        for (int round = 0; round < 200; round++) {
            int[] ports = EmbeddedKafka.freePorts(4, taken);
            assertThat(ports).doesNotHaveDuplicates().doesNotContain(taken, 0);
        }
    }

    private static Properties consumerProperties(EmbeddedKafka kafka) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return props;
    }
}
