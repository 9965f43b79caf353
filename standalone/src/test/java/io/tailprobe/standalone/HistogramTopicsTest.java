package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The histogram topics on a real broker: one per resolution, created by the aggregator with the
 * configured retention and {@code latency.samples}' partition count, brought to a changed retention
 * on the next start.
 *
 * <p>The tests share the broker; {@code latency.samples} has 4 partitions while the aggregators are
 * configured with 6, so the histogram topics' 4 partitions can only come from the samples topic.
 */
class HistogramTopicsTest {
    private static final int SAMPLE_PARTITIONS = 4;
    private static final long DAY_MILLIS = 86_400_000L;

    static TestBroker broker;
    static Admin admin;

    @TempDir
    static Path stateDir;

    @BeforeAll
    static void startBroker() {
        broker = TestBroker.start();
        admin = Admin.create(Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()));
        TopicSpecs.ensure(admin, SAMPLE_PARTITIONS, (short) 1);
    }

    @AfterAll
    static void stopBroker() throws Exception {
        admin.close();
        broker.close();
    }

    @Test
    void the_aggregator_creates_each_resolution_s_topic_with_its_retention_compacted_and_deleted() throws Exception {
        try (Aggregator aggregator = Aggregator.start(config("topics-created", new AggregatorConfig.Window(
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(3))))) {
            Map<String, Config> configs = topicConfigs(Topics.histograms(10), Topics.histograms(60), Topics.histograms(3_600));

            assertThat(configs).hasSize(3);
            assertThat(configs.get(Topics.histograms(10)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(7 * DAY_MILLIS));
            assertThat(configs.get(Topics.histograms(60)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(90 * DAY_MILLIS));
            assertThat(configs.get(Topics.histograms(3_600)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(730 * DAY_MILLIS));
            assertThat(configs.values()).allSatisfy(config ->
                    assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete"));
            assertThat(admin.describeTopics(List.of(Topics.histograms(10), Topics.histograms(60), Topics.histograms(3_600)))
                    .allTopicNames().get().values()).allSatisfy(topic ->
                    assertThat(topic.partitions()).as(topic.name()).hasSize(SAMPLE_PARTITIONS));
        }
    }

    @Test
    void a_changed_retention_is_applied_to_the_existing_topic_when_the_aggregator_starts() throws Exception {
        admin.createTopics(List.of(new NewTopic(Topics.histograms(300), SAMPLE_PARTITIONS, (short) 1).configs(Map.of(
                TopicConfig.RETENTION_MS_CONFIG, String.valueOf(DAY_MILLIS),
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)))).all().get();

        try (Aggregator aggregator = Aggregator.start(config("topics-updated", new AggregatorConfig.Window(
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(3), List.of(Duration.ofMinutes(5)),
                Map.of("10s", Duration.ofDays(7), "5m", Duration.ofDays(30)))))) {
            Config config = topicConfigs(Topics.histograms(300)).get(Topics.histograms(300));

            assertThat(config.get(TopicConfig.RETENTION_MS_CONFIG).value()).isEqualTo(String.valueOf(30 * DAY_MILLIS));
            assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete");
        }
    }

    @Test
    void ensuring_the_histogram_topics_reports_each_change_once() throws Exception {
        admin.createTopics(List.of(new NewTopic(Topics.histograms(7_200), SAMPLE_PARTITIONS, (short) 1).configs(Map.of(
                TopicConfig.RETENTION_MS_CONFIG, String.valueOf(DAY_MILLIS),
                TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE)))).all().get();
        Map<Integer, Duration> retention = Map.of(7_200, Duration.ofDays(30), 86_400, Duration.ofDays(3650));

        List<String> first = TopicSpecs.ensureHistograms(admin, (short) 1, retention);
        List<String> second = TopicSpecs.ensureHistograms(admin, (short) 1, retention);

        assertThat(first).containsExactly(
                "latency.histograms.1d: created with 4 partitions, retention.ms 315360000000, cleanup.policy compact,delete",
                "latency.histograms.2h: retention.ms 86400000 -> 2592000000, cleanup.policy delete -> compact,delete");
        assertThat(second).isEmpty();
    }

    private static AggregatorConfig config(String applicationId, AggregatorConfig.Window window) {
        AggregatorConfig defaults = AggregatorConfig.defaults();
        return new AggregatorConfig(Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()),
                new AggregatorConfig.Streams(applicationId, stateDir.resolve(applicationId), "exactly_once_v2", 1,
                        Duration.ofMillis(100)),
                window, new AggregatorConfig.TopicsSetup(6, (short) 1), defaults.maxLatency(),
                new AggregatorConfig.Http(0));
    }

    private static Map<String, Config> topicConfigs(String... topics) throws Exception {
        Map<String, Config> byTopic = new HashMap<>();
        List<ConfigResource> resources = new ArrayList<>();
        for (String topic : topics) {
            resources.add(new ConfigResource(ConfigResource.Type.TOPIC, topic));
        }
        admin.describeConfigs(resources).all().get().forEach((resource, config) -> byTopic.put(resource.name(), config));
        return byTopic;
    }
}
