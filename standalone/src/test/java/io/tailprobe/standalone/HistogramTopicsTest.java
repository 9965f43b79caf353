package io.tailprobe.standalone;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailprobe.aggregator.Aggregator;
import io.tailprobe.aggregator.AggregatorConfig;
import io.tailprobe.common.KafkaSettings;
import io.tailprobe.query.QueryApiConfig;
import io.tailprobe.query.QueryService;
import io.tailprobe.schemas.HistogramKey;
import io.tailprobe.schemas.LatencySample;
import io.tailprobe.schemas.Outcome;
import io.tailprobe.schemas.SeriesKey;
import io.tailprobe.schemas.TopicSpecs;
import io.tailprobe.schemas.Topics;
import io.tailprobe.schemas.WindowedHistogram;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The histogram topics on a real broker: one per resolution, created by the aggregator with the
 * configured retention and {@code latency.samples}' partition count, brought to a changed retention
 * on the next start, each filled with its resolution's windows and read back by the query API.
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
            List<String> topics = List.of(Topics.histograms(10), Topics.histograms(60), Topics.histograms(600),
                    Topics.histograms(3_600));
            Map<String, Config> configs = topicConfigs(topics.toArray(String[]::new));

            assertThat(configs).hasSize(4);
            assertThat(configs.get(Topics.histograms(10)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(7 * DAY_MILLIS));
            assertThat(configs.get(Topics.histograms(60)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(90 * DAY_MILLIS));
            assertThat(configs.get(Topics.histograms(600)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(365 * DAY_MILLIS));
            assertThat(configs.get(Topics.histograms(3_600)).get(TopicConfig.RETENTION_MS_CONFIG).value())
                    .isEqualTo(String.valueOf(730 * DAY_MILLIS));
            assertThat(configs.values()).allSatisfy(config ->
                    assertThat(config.get(TopicConfig.CLEANUP_POLICY_CONFIG).value()).isEqualTo("compact,delete"));
            assertThat(admin.describeTopics(topics).allTopicNames().get().values()).allSatisfy(topic ->
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
        // The controller commits a change before the broker that describes configs has applied it.
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            Config applied = topicConfigs(Topics.histograms(7_200)).get(Topics.histograms(7_200));
            return applied.get(TopicConfig.RETENTION_MS_CONFIG).value().equals(String.valueOf(30 * DAY_MILLIS))
                    && applied.get(TopicConfig.CLEANUP_POLICY_CONFIG).value().equals("compact,delete");
        });
        List<String> second = TopicSpecs.ensureHistograms(admin, (short) 1, retention);

        assertThat(first).containsExactly(
                "latency.histograms.1d: created with 4 partitions, retention.ms 315360000000, cleanup.policy compact,delete",
                "latency.histograms.2h: retention.ms 86400000 -> 2592000000, cleanup.policy delete -> compact,delete");
        assertThat(second).isEmpty();
    }

    @Test
    void windows_of_each_resolution_land_in_their_own_topic_and_the_query_api_answers_each_from_it() throws Exception {
        SeriesKey series = new SeriesKey("retention-e2e", "tcp", "tcp");
        long hourStartMillis = (System.currentTimeMillis() / 3_600_000L - 3) * 3_600_000L;
        int partition = Topics.seriesPartition(series, SAMPLE_PARTITIONS);

        try (Aggregator aggregator = Aggregator.start(config("topics-windows", new AggregatorConfig.Window(
                Duration.ofSeconds(10), Duration.ofSeconds(5), Duration.ofSeconds(3))))) {
            // Step 1: two minutes of samples at 1/s, three hours ago, and one two hours later that closes their hour.
            try (KafkaProducer<String, byte[]> producer = producer()) {
                for (int i = 0; i < 120; i++) {
                    send(producer, series, hourStartMillis + i * 1_000L, i);
                }
                send(producer, series, hourStartMillis + 2 * 3_600_000L, 120);
            }

            // Step 2: each topic holds its resolution's windows only, in the series' partition.
            Map<Integer, List<ConsumerRecord<String, byte[]>>> recordsByResolution = new HashMap<>();
            await("the 1 h windows of " + series).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> windowsOf(series, 3_600).size() == 2);
            for (int seconds : new int[] {10, 60, 3_600}) {
                recordsByResolution.put(seconds, windowsOf(series, seconds));
            }
            assertThat(recordsByResolution.get(10)).hasSize(24);
            assertThat(recordsByResolution.get(60)).hasSize(4);
            recordsByResolution.forEach((seconds, records) -> assertThat(records).allSatisfy(record -> {
                assertThat(HistogramKey.parse(record.key()).resolutionSeconds()).isEqualTo(seconds);
                assertThat(record.partition()).isEqualTo(partition);
            }));

            // Step 3: the query API serves every resolution, each from its own topic.
            try (QueryService query = QueryService.start(new QueryApiConfig(
                    Map.of(KafkaSettings.BOOTSTRAP_SERVERS, broker.bootstrapServers()), new QueryApiConfig.Http(0),
                    new QueryApiConfig.Streams("topics-query-api", stateDir.resolve("query-api").toString(), ""),
                    Duration.ofDays(1)))) {
                long toMillis = hourStartMillis + 3_600_000L;
                await("the query store serving " + series).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                        .until(() -> query.store().isRunning()
                                && query.store().windows(series, "*", 3_600, hourStartMillis, toMillis).size() == 1);

                assertThat(query.store().windows(series, "*", 10, hourStartMillis, toMillis))
                        .hasSize(12).extracting(WindowedHistogram::getSampleCount).containsOnly(10L);
                assertThat(query.store().windows(series, "*", 60, hourStartMillis, toMillis))
                        .extracting(WindowedHistogram::getSampleCount).containsExactly(60L, 60L);
                assertThat(query.store().windows(series, "h1", 3_600, hourStartMillis, toMillis))
                        .extracting(WindowedHistogram::getSampleCount).containsExactly(120L);
            }
        }
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

    private static KafkaProducer<String, byte[]> producer() {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        return new KafkaProducer<>(props, new StringSerializer(), new ByteArraySerializer());
    }

    private static void send(KafkaProducer<String, byte[]> producer, SeriesKey series, long scheduledMillis, long sequence) {
        LatencySample sample = LatencySample.newBuilder()
                .setHost("h1").setTarget(series.target()).setAddress("10.0.0.1:5432")
                .setProbeType(series.probeType()).setProtocol(series.protocol())
                .setScheduledStartMicros(scheduledMillis * 1000).setActualStartMicros(scheduledMillis * 1000)
                .setServiceTimeNanos(2_000_000L).setResponseTimeNanos(2_000_000L)
                .setOutcome(Outcome.OK).setSequence(sequence)
                .build();
        producer.send(new ProducerRecord<>(Topics.SAMPLES, series.encode(), Topics.sampleSerde().encode(sample)));
    }

    /** The committed windows of {@code series} in the topic of {@code resolutionSeconds}, one per key. */
    private static List<ConsumerRecord<String, byte[]>> windowsOf(SeriesKey series, int resolutionSeconds) {
        Map<String, ConsumerRecord<String, byte[]>> byKey = new HashMap<>();
        for (ConsumerRecord<String, byte[]> record
                : CommittedRecords.of(broker.bootstrapServers(), Topics.histograms(resolutionSeconds))) {
            if (record.key().startsWith(series.encode() + SeriesKey.SEPARATOR)) {
                byKey.put(record.key(), record);
            }
        }
        return new ArrayList<>(byKey.values());
    }
}
